"""The Coaching tab (MFE) and section (legacy dashboard), through openedx-filters' real pipeline."""
from types import SimpleNamespace

import pytest
from crum import impersonate
from django.conf import settings
from openedx_filters import PipelineStep
from openedx_filters.learning import filters as openedx_filters
from openedx_filters.learning.filters import InstructorDashboardRenderStarted

from conftest import COURSE

pytestmark = pytest.mark.django_db
# Older openedx-filters releases (e.g. 2.1, in the current Open edX release) have no MFE tabs filter;
# there the legacy dashboard section is the way in, and the tab step is simply never called.
InstructorDashboardTabsRequested = getattr(openedx_filters, "InstructorDashboardTabsRequested", None)
needs_tabs_filter = pytest.mark.skipif(InstructorDashboardTabsRequested is None,
                                       reason="this openedx-filters has no InstructorDashboardTabsRequested")
TABS_FILTER = "org.openedx.learning.instructor.dashboard.tabs.requested.v1"
EXISTING = [{"tab_id": "course_info", "title": "Course Info", "url": "/x", "sort_order": 1}]


def test_steps_are_configured():
    config = settings.OPEN_EDX_FILTERS_CONFIG
    assert config[TABS_FILTER]["pipeline"] == [
        "miiwrap_fidelity.hooks.filters.CoachingDashboardTab"]
    assert config[InstructorDashboardRenderStarted.filter_type]["pipeline"] == [
        "miiwrap_fidelity.hooks.filters.CoachingLegacySection"]


@needs_tabs_filter
@pytest.mark.parametrize("who, shown", [("lead", True), ("coach", True), ("learner", False), ("stranger", False)])
def test_tab_shown_only_to_staff_and_coaches(assigned, course_key, request, who, shown):
    user = request.getfixturevalue(who)
    tabs, returned_user, returned_key = InstructorDashboardTabsRequested.run_filter(
        tabs=list(EXISTING), user=user, course_key=course_key)
    assert returned_user == user and returned_key == course_key
    assert tabs[0] == EXISTING[0], "existing tabs are kept"
    ours = [tab for tab in tabs if tab["tab_id"] == "miiwrap_coaching"]
    assert bool(ours) == shown
    if shown:
        assert ours[0] == {"tab_id": "miiwrap_coaching", "title": "Coaching", "sort_order": 90,
                           "url": f"{settings.LMS_ROOT_URL.rstrip('/')}/miiwrap-fidelity/courses/{COURSE}/coaching/"}


@needs_tabs_filter
def test_the_tab_links_to_the_lms_from_the_mfe_and_survives_other_plugins_steps(lead, course_key, policy, settings):
    """The MFE is served from another origin; another plugin's step before ours keeps its tab."""
    settings.LMS_ROOT_URL = "https://lms.example.org/"

    class OtherPluginTab(PipelineStep):
        def run_filter(self, tabs, user, course_key):  # pylint: disable=arguments-differ
            return {"tabs": tabs + [{"tab_id": "other", "title": "Other", "url": "/o", "sort_order": 95}]}

    settings.OPEN_EDX_FILTERS_CONFIG = {**settings.OPEN_EDX_FILTERS_CONFIG, TABS_FILTER: {
        "pipeline": [f"{__name__}.OTHER_STEP", "miiwrap_fidelity.hooks.filters.CoachingDashboardTab"], "fail_silently": False}}
    globals()["OTHER_STEP"] = OtherPluginTab
    tabs, user, key = InstructorDashboardTabsRequested.run_filter(tabs=list(EXISTING), user=lead, course_key=course_key)
    assert (user, key) == (lead, course_key)
    assert [tab["tab_id"] for tab in tabs] == ["course_info", "other", "miiwrap_coaching"]
    assert tabs[-1]["url"] == f"https://lms.example.org/miiwrap-fidelity/courses/{COURSE}/coaching/"


def test_verawood_pins_run_the_tabs_filter():
    """requirements/openedx-verawood.txt pins an openedx-filters that has the MFE tabs filter (>= 3.4.0)."""
    import os  # pylint: disable=import-outside-toplevel

    pins = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements",
                             "openedx-verawood.txt"), encoding="utf-8").read()
    version = next(line.split("==")[1] for line in pins.splitlines() if line.startswith("openedx-filters=="))
    assert tuple(int(part) for part in version.split(".")[:2]) >= (3, 4)


@needs_tabs_filter
def test_tab_added_once(lead, course_key, policy):
    tabs, _, _ = InstructorDashboardTabsRequested.run_filter(tabs=[], user=lead, course_key=course_key)
    tabs, _, _ = InstructorDashboardTabsRequested.run_filter(tabs=tabs, user=lead, course_key=course_key)
    assert [tab["tab_id"] for tab in tabs] == ["miiwrap_coaching"]


def test_legacy_section_for_staff(lead, learner, course_key, policy):
    context = {"course": SimpleNamespace(id=course_key), "sections": [{"section_key": "course_info"}]}
    with impersonate(lead):
        context, template = InstructorDashboardRenderStarted.run_filter(
            context=context, template_name="instructor/instructor_dashboard_2/instructor_dashboard_2.html")
    assert template.endswith("instructor_dashboard_2.html")
    section = context["sections"][-1]
    assert section["section_key"] == "miiwrap_coaching" and section["template_path_prefix"] == "/instructor_dashboard/"
    body = section["fragment"].body_html()
    assert f"/miiwrap-fidelity/courses/{COURSE}/coaching/" in body and "<iframe" in body and 'title="' in body
    context = {"course": SimpleNamespace(id=course_key), "sections": []}
    with impersonate(learner):
        context, _ = InstructorDashboardRenderStarted.run_filter(context=context, template_name="t.html")
    assert context["sections"] == []


def test_workspace_may_be_framed_by_the_dashboard(client, lead, policy):
    client.force_login(lead)
    response = client.get(f"/miiwrap-fidelity/courses/{COURSE}/coaching/")
    assert response.status_code == 200 and response["X-Frame-Options"] == "SAMEORIGIN"
