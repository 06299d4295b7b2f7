"""
Issue 15's look and frame: pages extend MIIWRAP_FIDELITY_BASE_TEMPLATE, 403/404 pages with a way
back and one log line, a favicon, course display names and people's full names (one query per
page), numbers and percents in the reader's language.
"""
import logging

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.settings.common import CONTEXT_PROCESSOR, plugin_settings

from conftest import COURSE, assign_coach, data_queries, make_user

pytestmark = pytest.mark.django_db
COURSE_NAME = "MiiWrap: high-fidelity wraparound (sandbox)"


def url(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def test_pages_are_drawn_in_the_configured_base_template(client, policy, learner):
    client.force_login(learner)
    page = client.get(url("my_competency")).content.decode()
    assert 'class="mwf-site-nav"' in page and "sandbox/favicon.svg" in page  # the sandbox's base
    assert "miiwrap_look.css" in page and 'class="mwf-page"' in page
    with override_settings(MIIWRAP_FIDELITY_BASE_TEMPLATE="miiwrap_fidelity/standalone.html"):
        bare = client.get(url("my_competency")).content.decode()
    assert 'class="mwf-site-nav"' not in bare and "miiwrap_look.css" in bare and "<main id=\"main\"" in bare
    embedded = client.get(url("my_competency"), {"embedded": "1"}).content.decode()
    assert 'class="mwf-site-nav"' not in embedded, "inside the instructor dashboard's iframe: no second site header"
    framed = client.get(url("my_competency"), HTTP_SEC_FETCH_DEST="iframe").content.decode()
    assert 'class="mwf-site-nav"' not in framed, "every page opened inside the iframe"


class FakeSettings:
    """What the LMS hands plugin_settings: a Django engine and a Mako engine."""

    def __init__(self):
        self.TEMPLATES = [
            {"BACKEND": "django.template.backends.django.DjangoTemplates",
             "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}},
            {"NAME": "mako", "BACKEND": "common.djangoapps.edxmako.backend.Mako", "OPTIONS": {}},
        ]


def test_plugin_settings_add_the_frame_to_django_engines_only_once():
    settings = FakeSettings()
    plugin_settings(settings)
    plugin_settings(settings)
    assert settings.TEMPLATES[0]["OPTIONS"]["context_processors"] == [
        "django.template.context_processors.request", CONTEXT_PROCESSOR]
    assert settings.TEMPLATES[1]["OPTIONS"] == {}
    assert settings.MIIWRAP_FIDELITY_BASE_TEMPLATE == "main_django.html"


def test_refused_page_is_clear_has_a_way_back_and_logs_one_line(client, policy, stranger, caplog):
    client.force_login(stranger)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(url("leaders"), HTTP_REFERER="http://testserver/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "You cannot open this page" in page and "Only course staff can see the leader view." in page
    assert 'href="/">Go to the home page' in page and "Go back to the previous page" in page
    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert len(refusals) == 1 and refusals[0].exc_info is None, "one line, no traceback"


def test_missing_pages_are_clear_with_a_way_back(client, policy, lead):
    client.force_login(lead)
    response = client.get(url("export", "no-such-kind"))
    assert response.status_code == 404 and "Page not found" in response.content.decode()
    assert "No such export." in response.content.decode()
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Go to the home page" in response.content.decode()


def test_refused_page_in_spanish(client, policy, stranger):
    client.force_login(stranger)
    page = client.get(url("leaders"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No puede abrir esta página" in page and "Ir a la página de inicio" in page


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("sandbox/favicon.svg")


def test_my_competency_names_the_course(client, policy, learner):
    client.force_login(learner)
    page = client.get(url("my_competency")).content.decode()
    assert f"My competency in {COURSE_NAME}" in page and f"My competency in {COURSE}" not in page


@pytest.mark.parametrize("name", ["workspace", "alerts", "leaders", "reliability", "policy", "assignments"])
def test_staff_pages_name_the_course(client, policy, lead, name):
    client.force_login(lead)
    page = client.get(url(name)).content.decode()
    h1 = page[page.index("<h1"):page.index("</h1>")]
    assert COURSE_NAME in h1 and COURSE not in h1


def test_workspace_shows_full_names_with_usernames_in_one_query(client, policy, lead, coach, course_key):
    def page_queries():
        client.force_login(lead)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url("workspace")).content.decode()
        return body, len(data_queries(queries))

    ana = make_user("learner_ana", first_name="Ana", last_name="Alvarez")
    assign_coach(lead, course_key, coach, ana)
    assign_coach(lead, course_key, coach, make_user("nameless"))
    body, few = page_queries()
    assert 'Ana Alvarez <small class="mwf-hint">learner_ana</small></a>' in body  # one link, both names
    assert ">nameless</a>" in body  # no full name: the username alone, not twice
    for i in range(10):
        assign_coach(lead, course_key, coach, make_user(f"n{i}", first_name="N", last_name=str(i)))
    assert page_queries()[1] == few


def test_signed_in_as_shows_the_full_name(client, policy):
    person = make_user("learner_bo", first_name="Bo", last_name="Brown")
    client.force_login(person)
    assert "Signed in as Bo Brown" in client.get(url("my_competency")).content.decode()


def test_reliability_explains_kappa_and_gives_leniency_a_unit(client, policy, lead):
    client.force_login(lead)
    page = client.get(url("reliability")).content.decode()
    explained = page[page.index('id="mwf-reliability-explained"'):]
    assert "kappa can be near 0 beside a high agreement" in explained
    assert "in percentage points" in explained


@pytest.mark.parametrize("agreed, kappa, note", [(19, 0.0, True), (19, 0.85, False), (10, 0.1, False)])
def test_a_low_kappa_beside_high_agreement_says_why(agreed, kappa, note):
    from django.template.loader import render_to_string  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.rules.reliability import Agreement  # pylint: disable=import-outside-toplevel

    html = render_to_string("miiwrap_fidelity/_kappa.html", {
        "agreement": Agreement(n=20, agreed=agreed, na_excluded=0, kappa=kappa)})
    assert ("chance agreement is high" in html) is note


def test_the_workbench_lists_only_our_scenarios(client, workbench):
    assert workbench and all(name.startswith("miiwrap_") for name in workbench)
    index = client.get("/workbench/").content.decode()
    assert "miiwrap_reflection.0" in index and "thumbs" not in index.lower()


def test_monitoring_pages_show_full_names_usernames_second(client, db):
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records.models import DriftAlert  # pylint: disable=import-outside-toplevel

    call_command("seed_demo", verbosity=0)
    client.force_login(api.get_user("lead_lee"))
    page = client.get(url("reliability")).content.decode()
    assert 'Casey Morgan <small class="mwf-hint">coach_casey</small>' in page
    assert 'Dana Reyes <small class="mwf-hint">coach_dana</small>' in page
    # the seeded co-rated session: 20 of 21 items alike, every one of them "met"
    assert "+4.8 points" in page and "-4.8 points" in page and "95.2%" in page
    assert "0.00 <small" in page and "chance agreement is high" in page
    learner = api.get_user("learner_ben")
    DriftAlert.objects.create(course_key=api.parse_course_key(COURSE), learner=learner, kind="below_band",
                              details={"rolling": 61.25, "adequate": 70})
    page = client.get(url("alerts")).content.decode()
    assert 'Ben Brooks <small class="mwf-hint">learner_ben</small></a>' in page
    assert "average 61.2%, below the adequate band (70%)" in page
    page = client.get(url("alerts"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "61,2\u00a0%" in page and "70\u00a0%" in page


def test_the_prevented_certificate_message_is_translated(client, policy, learner, course_key):
    from sandbox.models import Enrollment  # pylint: disable=import-outside-toplevel

    Enrollment.objects.create(course_key=course_key, user=learner)
    client.force_login(learner)
    page = client.post(reverse("sandbox:request_certificate"), HTTP_ACCEPT_LANGUAGE="es", follow=True).content.decode()
    assert "El filtro de competencia impidió el certificado: " in page
    assert "Certificate prevented" not in page


def test_a_missing_base_template_falls_back_to_the_bare_frame(client, policy, learner):
    client.force_login(learner)
    with override_settings(MIIWRAP_FIDELITY_BASE_TEMPLATE="main_django.html"):  # not in the sandbox (nor Studio)
        response = client.get(url("my_competency"))
    assert response.status_code == 200 and 'class="mwf-site-nav"' not in response.content.decode()


def test_assignments_show_full_names_in_one_query(client, policy, lead, course_key):
    def page():
        client.force_login(lead)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url("assignments")).content.decode()
        return body, len(data_queries(queries))

    casey = make_user("coach_casey", first_name="Casey", last_name="Morgan")
    assign_coach(lead, course_key, casey, make_user("learner_ana", first_name="Ana", last_name="Alvarez"))
    body, few = page()
    assert 'Ana Alvarez <small class="mwf-hint">learner_ana</small>' in body
    assert 'Casey Morgan <small class="mwf-hint">coach_casey</small>' in body
    for i in range(8):
        assign_coach(lead, course_key, casey, make_user(f"p{i}", first_name="P", last_name=str(i)))
    assert page()[1] == few


def test_home_page_lists_the_seeded_accounts_with_their_names(client, db):
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    call_command("seed_demo", verbosity=0)
    page = client.get("/").content.decode()
    assert "<td>Casey Morgan</td><td>coach of seven learners" in page and "<td>Cam Castillo</td>" in page


def test_the_way_back_never_leads_to_another_site(client, policy, stranger):
    """Reviewer's finding: the error page linked back to whatever Referer the request carried."""
    client.force_login(stranger)
    page = client.get(url("leaders"), HTTP_REFERER="https://evil.example/phish").content.decode()
    assert "evil.example" not in page and "Go back to the previous page" not in page
