"""
Issue 31's coaching loop in Debian's chromium on the seeded demo: a coach records an observation and
agrees two focus indicators with a step each (suggested from the session); the learner sees them and
adds a note; the next observation shows them first, and the follow-up reads "improved" for one and
"held" for the other; the leader view's loop figures over 5+ plans. Axe finds nothing serious;
nothing is wider than a 390 px screen. Screenshots (1280/390, English/Spanish) go to
/tmp/loop_shots/ (MIIWRAP_SHOTS to change).
"""
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Observation
from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
SHOTS = os.environ.get("MIIWRAP_SHOTS", "/tmp/loop_shots")
FOCUS = ("eng-voice-choice", "mi-summaries")  # an essential indicator missed, a skill partly shown


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def open_tab(browser, live_server, username, width=1280, language="en"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    tab = context.new_page()
    login(tab, live_server.url, username, DEMO_PASSWORD)
    return context, tab


def shot(tab, name, selector=None):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f"{name}.png")
    if selector:
        tab.locator(selector).screenshot(path=path)
    else:
        tab.screenshot(path=path, full_page=True)


def record(tab, partly):
    """Record an observation of today's home visit: every indicator met but ``partly``."""
    tab.click("#mwf-record-disclosure > summary")
    tab.select_option("#mwf-setting", "home_visit")
    rows = tab.locator("fieldset.mwf-indicator")
    for index in range(rows.count()):
        key = rows.nth(index).get_attribute("data-indicator")
        tab.locator(f"#mwf-indicator-{key} input[value={'partly' if key in partly else 'met'}]").check()
    with tab.expect_navigation():
        tab.click("button[value=submit]")


def no_overflow(tab):
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_coaching_loop_from_plan_to_follow_up(seeded, live_server, browser):
    ana = get_user_model().objects.get(username="learner_ana")
    page_url = f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{ana.pk}/"
    context, tab = open_tab(browser, live_server, "coach_casey")
    tab.goto(page_url)
    assert "A plan is agreed after an observed session" in tab.inner_text("#mwf-plan")
    record(tab, FOCUS)
    assert tab.url.endswith("#mwf-plan-heading")  # next in the loop: the plan after this session
    assert [tab.input_value(f"#mwf-focus-{n}-indicator") for n in (0, 1)] == list(FOCUS)  # suggested
    tab.fill("#mwf-focus-0-step", "Ask the family what they want first, before offering options.")
    tab.fill("#mwf-focus-1-step", "Summarise the family's words before moving to planning.")
    assert serious_violations(tab, "#mwf-plan") == []
    shot(tab, "plan-form-en-1280", "#mwf-plan")
    with tab.expect_navigation():
        tab.click("#mwf-plan button[type=submit]")
    assert "Plan saved" in tab.inner_text(".mwf-messages")
    context.close()

    context, tab = open_tab(browser, live_server, "learner_ana")
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    focus = tab.inner_text("#mwf-focus")
    assert "Ask the family what they want first" in focus and "Summarise the family's words" in focus
    tab.fill("#mwf-plan-note", "I will open each visit by asking what matters most to them this week.")
    with tab.expect_navigation():
        tab.click("#mwf-focus button[type=submit]")
    assert "Your note is saved." in tab.inner_text(".mwf-messages")
    assert serious_violations(tab) == []
    shot(tab, "my-focus-en-1280", "#mwf-focus")
    context.close()

    context, tab = open_tab(browser, live_server, "coach_casey")
    tab.goto(page_url)
    assert "I will open each visit by asking" in tab.inner_text("#mwf-plan")
    tab.click("#mwf-record-disclosure > summary")
    first = tab.locator("#mwf-focus-first").inner_text()
    assert "rate these first" in first and "Family voice and choice" in first
    assert tab.locator("#mwf-indicator-eng-voice-choice .mwf-badge-focus").count() == 1
    tab.click("#mwf-record-disclosure > summary")  # fold it again; record() opens it
    record(tab, ("mi-summaries",))  # voice and choice met now, summaries partly again
    plan = tab.inner_text("#mwf-plan")
    assert "At the next session: Improved" in plan and "At the next session: Held" in plan
    with tab.expect_navigation():
        tab.locator("#mwf-plan form.mwf-inline-form button").first.click()  # confirm "improved"
    assert "Follow-up recorded." in tab.inner_text(".mwf-messages")
    assert serious_violations(tab, "#mwf-plan") == []
    shot(tab, "follow-up-en-1280", "#mwf-plan")
    context.close()


def test_the_leader_view_shows_the_loop_over_five_plans(seeded, live_server, browser):
    for learner in get_user_model().objects.filter(username__startswith="cohort_").order_by("username"):
        sessions = list(Observation.objects.filter(learner=learner, status="submitted", co_observation_of=None,
                                                   setting="home_visit").order_by("practice_date", "id"))
        if len(sessions) > 1:
            api.save_plan(sessions[0].observer, sessions[0].pk,
                          [{"indicator": "mi-summaries", "step": "Summarise before planning."}])
    context, tab = open_tab(browser, live_server, "lead_lee")
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/")
    loop = tab.inner_text("#mwf-loop")
    assert "fewer than 5 plans" not in loop and "%" in loop, loop
    assert serious_violations(tab, "#mwf-loop") == []
    context.close()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_plan_and_my_focus_read_well_at_each_width_and_language(seeded, live_server, browser, width, language):
    cam = get_user_model().objects.get(username="learner_cam")
    coach = get_user_model().objects.get(username="coach_casey")
    session = Observation.objects.filter(learner=cam, status="submitted", co_observation_of=None).order_by(
        "-practice_date", "-id").first()
    api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise before planning."}])
    context, tab = open_tab(browser, live_server, "coach_casey", width, language)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{cam.pk}/?plan=open#mwf-plan-heading")
    assert no_overflow(tab) and serious_violations(tab, "#mwf-plan") == []
    heading = tab.inner_text("#mwf-plan-heading")
    assert heading == {"en": "Coaching plan", "es": "Plan de coaching"}[language]
    shot(tab, f"plan-{language}-{width}", "#mwf-plan")
    context.close()
    context, tab = open_tab(browser, live_server, "learner_cam", width, language)
    tab.goto(f"{live_server.url}/miiwrap-fidelity/courses/{COURSE}/me/")
    assert no_overflow(tab) and serious_violations(tab, "#mwf-focus") == []
    assert tab.inner_text("#mwf-focus-heading") == {"en": "My focus", "es": "Mi enfoque"}[language]
    shot(tab, f"my-focus-{language}-{width}", "#mwf-focus")
    context.close()
