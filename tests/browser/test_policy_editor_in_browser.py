"""
Issue 25's policy editor in Debian's chromium: a lead builds a two-set MITI policy with the fields
(no JSON typed), sees the preview, confirms and saves, and the certificate gate agrees; the typo case
(30 for 3) previews every ready learner moving back and saving is refused until confirmed. Axe finds
nothing serious; nothing is wider than a 390 px screen. Screenshots in English and Spanish at 1280
and 390 px go to /tmp/policy_shots/ (MIIWRAP_SHOTS to change).
"""
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from miiwrap_fidelity import api
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CompetencyPolicy, LearnerStatus
from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
SHOTS = os.environ.get("MIIWRAP_SHOTS", "/tmp/policy_shots")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)
    with open(api.SAMPLE_INSTRUMENTS[1], encoding="utf-8") as handle:
        return instruments.load(handle.read())[0]  # the MI coding sample: summary scores, no essentials


def open_policy(browser, live_server, width=1280, language="en"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    tab = context.new_page()
    login(tab, live_server.url, "lead_lee", DEMO_PASSWORD)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/policy/")
    return context, tab


def submit(tab, selector):
    """Press a submit button and wait for the page it brings."""
    with tab.expect_navigation():
        tab.click(selector)


def shot(tab, name):
    os.makedirs(SHOTS, exist_ok=True)
    tab.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_lead_builds_a_two_set_miti_policy_previews_saves_and_the_gate_agrees(seeded, live_server, browser):
    mi = seeded
    context, tab = open_policy(browser, live_server)
    assert tab.locator("textarea").count() == 0, "no JSON to type"
    assert tab.locator("fieldset.mwf-set").count() == 2  # the demo's two sets
    submit(tab, "button[value='remove_set:1']")  # keep the practice set, replace the team meeting's
    assert tab.locator("fieldset.mwf-set").count() == 1
    submit(tab, "button[value='add_set']")
    assert tab.evaluate("document.activeElement.id") == "set-2-instrument_version" or \
        tab.evaluate("document.activeElement.id") == "set-1-instrument_version"  # the keyboard stays on the new set
    with tab.expect_navigation():  # choosing another instrument shows its scores (the page is drawn again)
        tab.select_option("#set-1-instrument_version", str(mi.pk))
    assert tab.locator("fieldset#mwf-set-1 legend").inner_text().startswith("Set 2: Motivational interviewing")
    tab.select_option("#set-1-setting", "supervision")
    tab.fill("#set-1-min_observations", "2")
    tab.fill("#set-1-window", "12")
    tab.select_option("select[name='set-1-window_unit']", "months")
    tab.fill("#set-1-min_distinct_observers", "2")
    tab.select_option("select[name='set-1-cond-0-measure']", "summary:relational-global")
    tab.fill("input[name='set-1-cond-0-value']", "3.5")
    submit(tab, "button[value='add_condition:1']")
    tab.select_option("select[name='set-1-cond-1-measure']", "summary:technical-global")
    tab.fill("input[name='set-1-cond-1-value']", "3")
    tab.uncheck("input[name='set-1-essentials']")
    assert serious_violations(tab) == []
    shot(tab, "editor-en-1280")

    ready = LearnerStatus.objects.filter(state="ready").count()  # none of them has a supervision coded with MI
    submit(tab, ".mwf-actions button[value='preview']")
    preview = tab.locator("#mwf-preview").inner_text()
    assert f"{ready} learners: Ready for sign-off → In progress" in preview and "Cam Castillo" in preview
    assert serious_violations(tab) == []
    shot(tab, "preview-en-1280")
    submit(tab, "#mwf-preview button[value='confirm_save']")
    assert "Policy saved" in tab.inner_text(".mwf-messages")
    stored = CompetencyPolicy.objects.get(course_key=api.parse_course_key(COURSE)).requirement_sets
    assert stored[1] == {"instrument_version": mi.pk, "setting": "supervision", "min_observations": 2,
                         "window_days": 365, "window_months": 12, "min_distinct_observers": 2, "conditions": [
                             {"measure": "summary", "op": ">=", "value": 3.5, "key": "relational-global"},
                             {"measure": "summary", "op": ">=", "value": 3, "key": "technical-global"}]}
    cam = get_user_model().objects.get(username="learner_cam")
    status = api.learner_status(cam, cam, COURSE)
    gate = api.gate_decision(cam, COURSE)
    assert status.state == "in_progress" and not gate.allowed  # the gate reads what the page saved
    assert any(reason.get("params", {}).get("set") == 2 for reason in status.reasons)
    context.close()


def test_the_typo_case_previews_the_ready_learners_moving_back_and_saving_is_refused(seeded, live_server,
                                                                                      browser):
    context, tab = open_policy(browser, live_server)
    before = CompetencyPolicy.objects.get().requirement_sets
    ready, total = LearnerStatus.objects.filter(state="ready").count(), LearnerStatus.objects.count()
    tab.fill("#set-0-min_observations", "30")
    submit(tab, ".mwf-actions button[value='save']")
    assert f"Saving would move {ready} of {total} learners back" in tab.inner_text("#mwf-preview")
    assert "Set 1: qualifying observations 3 → 30" in tab.inner_text("#mwf-preview")
    assert "Ready for sign-off → In progress" in tab.inner_text("#mwf-preview")
    assert tab.evaluate("document.activeElement.id") == "mwf-preview-heading"
    assert tab.input_value("#set-0-min_observations") == "30", "what was typed is kept to fix"
    assert CompetencyPolicy.objects.get().requirement_sets == before
    shot(tab, "typo-en-1280")
    tab.fill("#set-0-min_observations", "3")
    submit(tab, ".mwf-actions button[value='save']")
    assert "Policy saved" in tab.inner_text(".mwf-messages")
    context.close()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_editor_reads_well_at_each_width_and_language(seeded, live_server, browser, width, language):
    context, tab = open_policy(browser, live_server, width, language)
    tab.fill("#set-0-min_observations", "30")
    submit(tab, ".mwf-actions button[value='preview']")
    wide = tab.evaluate("""() => Array.from(document.querySelectorAll('main *')).filter(
        e => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.tagName + '.' + e.className + ' '
        + (e.name || '') + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 5)""")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    heading = tab.locator("#mwf-sets-heading").inner_text()
    assert heading == {"en": "Requirement sets", "es": "Conjuntos de requisitos"}[language]
    assert serious_violations(tab) == []
    shot(tab, f"editor-{language}-{width}")
    context.close()
