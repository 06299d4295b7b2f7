"""The Coaching tab (MFE) and section (legacy dashboard), through openedx-filters' real pipeline."""
from types import SimpleNamespace

import pytest
from crum import impersonate
from django.conf import settings
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
        "miiwrap_fidelity.filters.CoachingDashboardTab"]
    assert config[InstructorDashboardRenderStarted.filter_type]["pipeline"] == [
        "miiwrap_fidelity.filters.CoachingLegacySection"]


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
                           "url": f"/miiwrap-fidelity/courses/{COURSE}/coaching/"}


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
