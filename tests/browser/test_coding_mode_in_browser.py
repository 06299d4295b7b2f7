"""
Issue 26's coding mode in Debian's chromium: the observation form as a compact grid (levels in a row,
anchors a tap away, notes folded), tally buttons and a session timer for behaviour counts, the
summary scores updating as the coach codes. Budgets: the open form <= 4,000 px at 1280 px, a
21-indicator session coded in <= 30 interactions (each click and key press counted), the learner's
self-assessment form likewise; nothing wider than a 390 px screen. Every state is scanned with axe;
screenshots go to /tmp/coding_shots/ (MIIWRAP_SHOTS to change).
"""
import os
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import Indicator, Observation, SelfAssessment
from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations
from xblock_support import SIGNOFF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
FORM_BUDGET_PX = 4000
INTERACTION_BUDGET = 30
SHOTS = os.environ.get("MIIWRAP_SHOTS", "/tmp/coding_shots")
#: The levels the coded session gives (by indicator position); the others are "met".
PARTLY, NOT_APPLICABLE = (2, 9), (14,)


class Counted:
    """The page, with every click and key press the test makes counted (what a coach would do)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, selector):
        self.count += 1
        self.page.locator(selector).click()

    def select(self, selector, value):
        self.count += 2  # open the list, choose
        self.page.select_option(selector, value)

    def press(self, key):
        self.count += 1
        self.page.keyboard.press(key)


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def form_height(page, selector="form.mwf-observation-form"):
    return page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().height")


def no_horizontal_overflow(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def mi_coding(seeded):
    """The demo course also observes with the MI coding sample (behaviour counts and summary scores)."""
    with open(api.SAMPLE_INSTRUMENTS[1], encoding="utf-8") as handle:
        mi = instruments.load(handle.read())[0]
    lead = get_user_model().objects.get(username="lead_lee")
    policy = api.get_policy(COURSE)
    sets = list(policy.requirement_sets) + [
        {"instrument_version": mi.pk, "setting": "", "min_observations": 1, "window_days": 180,
         "conditions": [{"measure": "percent", "op": ">=", "value": 75}]}]
    api.save_policy(lead, COURSE, requirement_sets=sets)
    return mi


def open_learner_page(page, base, username, width=1280, query=""):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base, "coach_casey", DEMO_PASSWORD)
    learner = get_user_model().objects.get(username=username)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{learner.pk}/{query}")
    return learner


def test_a_21_indicator_session_is_coded_in_30_interactions_in_a_short_form(seeded, live_server, page):
    base = live_server.url
    learner = open_learner_page(page, base, "learner_cam")
    rows = page.locator("fieldset.mwf-indicator")
    coach = Counted(page)
    coach.click("#mwf-record-disclosure > summary")
    assert rows.count() == 21
    assert page.locator("form.mwf-observation-form textarea:visible").count() == 1, "only the overall note is open: 21 x 2 notes are folded"
    opened = form_height(page)
    assert opened <= FORM_BUDGET_PX, opened
    assert page.input_value("#mwf-date") == timezone.localdate().isoformat(), "today's session by default"
    assert serious_violations(page) == []

    coach.select("#mwf-setting", "home_visit")
    chosen = {}
    for position in range(21):
        row = rows.nth(position)
        level = "partly" if position in PARTLY else "na" if position in NOT_APPLICABLE else "met"
        chosen[row.get_attribute("data-indicator")] = level
        coach.click(f"#{row.get_attribute('id')} input[value={level}]")
    # The chosen level's anchor is shown under the control; every anchor is one tap away.
    first = rows.nth(0)
    assert first.locator(".mwf-anchor:visible").count() == 1
    assert first.locator(".mwf-anchor:visible").inner_text().startswith("Elicits and reflects")
    assert page.inner_text(".mwf-rated") == "Rated: 21 of 21"
    coded = form_height(page)
    assert coded <= FORM_BUDGET_PX, coded
    assert serious_violations(page) == []
    shot(page, "coach_form_coded_1280")

    coach.click("button[value=submit]")
    assert "Observation submitted" in page.inner_text(".mwf-messages")
    assert coach.count <= INTERACTION_BUDGET, coach.count
    observation = Observation.objects.filter(learner=learner).latest("id")
    assert observation.status == "submitted" and observation.setting == "home_visit"
    assert dict(observation.ratings.values_list("indicator__key", "level")) == chosen
    print(f"coach form: {opened:.0f} px open, {coded:.0f} px coded, {coach.count} interactions")


def test_anchors_and_notes_are_a_tap_away_and_keyboard_operable(seeded, live_server, page):
    base = live_server.url
    open_learner_page(page, base, "learner_cam")
    page.click("#mwf-record-disclosure > summary")
    row = page.locator("#mwf-indicator-mi-reflections")
    # About this indicator: the description and every level's anchor.
    row.locator("details.mwf-about > summary").click()
    about = row.locator("details.mwf-about").inner_text()
    assert "Present" in about and "Absent" in about and row.locator(".mwf-description").is_visible()
    # A note: folded until asked for, then typed; its text goes with the observation.
    row.locator("details.mwf-note > summary").click()
    page.fill("#strength-mi-reflections", "Reflected the mother's hope for calmer mornings.")
    # The keyboard: into the row's radios, arrows move between levels (native radio group).
    page.focus("#mwf-indicator-mi-reflections input[value=met]")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "partly"
    assert page.is_checked("#mwf-indicator-mi-reflections input[value=partly]")
    described = page.evaluate("document.getElementById(document.activeElement.getAttribute('aria-describedby'))"
                              ".textContent")
    assert described.startswith("Uses mostly simple reflections"), "the anchor is the level's description to a screen reader"
    assert serious_violations(page) == []
    shot(page, "coach_form_note_and_about_1280")


def test_tallies_timer_and_summary_scores_as_the_coach_codes(mi_coding, live_server, page):
    base = live_server.url
    learner = open_learner_page(page, base, "learner_cam", query=f"?instrument={mi_coding.pk}")
    # A chosen instrument (?instrument=) opens the form on it: no click on "Show the observation form".
    assert page.locator("#mwf-record-disclosure").evaluate("d => d.open")
    assert page.locator("fieldset.mwf-indicator").count() == 14
    assert page.input_value("#rating-question") == "", "a tally starts blank: not coded (the review: 0 hid a forgotten count)"
    summary = page.locator(".mwf-live-summary")
    assert summary.is_visible()

    def score(key):
        return page.inner_text(f".mwf-live-summary [data-summary='{key}'] .mwf-live-value")

    assert score("reflection-question-ratio") == "—", "no questions yet: undefined, never a crash"
    # The session timer: starts, counts, pauses.
    timer = page.locator(".mwf-timer")
    assert timer.get_attribute("role") == "timer" and timer.inner_text() == "00:00"
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("document.querySelector('.mwf-timer').textContent !== '00:00'", timeout=5000)
    page.get_by_role("button", name="Pause").click()
    paused = timer.inner_text()
    page.wait_for_timeout(1200)
    assert timer.inner_text() == paused and page.get_by_role("button", name="Resume").is_visible()

    plus = {key: page.get_by_role("button", name=f"One more: {label}")
            for key, label in (("question", "Question"), ("simple-reflection", "Simple reflection"),
                               ("complex-reflection", "Complex reflection"), ("affirm", "Affirm"))}
    for _ in range(4):
        plus["question"].click()
    for _ in range(3):
        plus["simple-reflection"].click()
    # The keyboard: the + button takes Enter and Space.
    plus["complex-reflection"].focus()
    for key in ("Enter", "Space", "Enter", "Enter", "Space"):
        page.keyboard.press(key)
    plus["affirm"].click()
    plus["affirm"].click()
    page.get_by_role("button", name="One fewer: Affirm").click()
    assert [page.input_value(f"#rating-{key}") for key in plus] == ["4", "3", "5", "1"]
    assert score("reflection-question-ratio") == "2" and score("percent-complex-reflections") == "62.50"
    assert "Good" in page.inner_text(".mwf-live-summary [data-summary='percent-complex-reflections']")
    assert score("technical-global") == "—", "the global ratings are not given yet"
    for key, point in (("evoking-change", "4"), ("softening-sustain", "3"), ("partnership", "5"), ("empathy", "4")):
        page.click(f"#mwf-indicator-{key} input[value='{point}']")
    assert score("technical-global") == "3.50" and score("relational-global") == "4.50"
    # A behaviour nobody tallied is still blank; one tap on its "One fewer" records 0.
    blank = page.eval_on_selector_all(
        "fieldset[data-kind=count]", "rows => rows.filter(r => r.querySelector('input').value === '')"
                                     ".map(r => r.dataset.indicator)")
    assert "persuade" in blank and "question" not in blank
    for key in blank:
        page.click(f"#mwf-indicator-{key} button[data-step='-1']")
    assert page.input_value("#rating-persuade") == "0"
    shown = {key: score(key) for key in ("technical-global", "relational-global", "percent-complex-reflections",
                                         "reflection-question-ratio", "mi-adherent", "mi-non-adherent")}
    # Typing a count works as well as tapping.
    page.fill("#rating-confront", "2")
    assert score("mi-non-adherent") == "2"
    shown["mi-non-adherent"] = "2"
    assert serious_violations(page) == []
    shot(page, "coach_mi_coding_1280")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_horizontal_overflow(page)
    assert serious_violations(page) == []
    shot(page, "coach_mi_coding_390")

    page.select_option("#mwf-setting", "home_visit")
    page.click("button[value=submit]")
    assert "Observation submitted" in page.inner_text(".mwf-messages")
    observation = Observation.objects.filter(learner=learner).latest("id")
    levels = dict(observation.ratings.values_list("indicator__key", "level"))
    assert (levels["question"], levels["simple-reflection"], levels["complex-reflection"], levels["affirm"],
            levels["confront"], levels["persuade"]) == ("4", "3", "5", "1", "2", "0")
    # What the page showed as the coach coded is what the server stored.
    stored = observation.summary_scores
    assert stored["reflection-question-ratio"] == 2.0 and stored["percent-complex-reflections"] == 62.5
    assert stored["technical-global"] == 3.5 and stored["relational-global"] == 4.5
    for key, text in shown.items():
        assert float(text) == stored[key], (key, text, stored[key])


def test_the_form_at_390_px_fits_the_screen(seeded, live_server, page):
    base = live_server.url
    open_learner_page(page, base, "learner_cam", width=390)
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#mwf-record-disclosure > summary")
    for radio in page.locator("input[type=radio][value=met]").all()[:5]:
        radio.check()
    page.locator("#mwf-indicator-mi-reflections details.mwf-note > summary").click()
    assert no_horizontal_overflow(page)
    height = form_height(page)
    assert serious_violations(page) == []
    shot(page, "coach_form_390")
    print(f"coach form at 390 px: {height:.0f} px")


@pytest.fixture
def asked_session(seeded):
    users = get_user_model().objects
    lead, coach, learner = (users.get(username=name) for name in ("lead_lee", "coach_casey", "learner_ana"))
    api.save_policy(lead, COURSE, self_assessment=True)
    policy = api.get_policy(COURSE)
    ratings = {indicator.key: {"level": "met", "strength": "Clear example.", "next_step": ""}
               for indicator in Indicator.objects.filter(version_id=policy.instrument_version_id)}
    api.save_observation(coach, learner, COURSE, {
        "practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(), "setting": "home_visit",
        "overall_note": "Observed a home visit.", "ratings": ratings}, submit=True)
    return learner


@pytest.mark.parametrize("width", [1280, 390])
def test_the_self_assessment_form_is_short_and_quick(asked_session, live_server, page, width):
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base, "learner_ana", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/me/")
    selector = "#mwf-self-heading ~ article form"
    learner = Counted(page)
    height = form_height(page, selector)
    rows = page.locator(f"{selector} fieldset.mwf-indicator")
    assert rows.count() == 21
    for position in range(21):
        learner.click(f"#{rows.nth(position).get_attribute('id')} input[value={'partly' if position == 3 else 'met'}]")
    coded = form_height(page, selector)
    assert no_horizontal_overflow(page)
    assert serious_violations(page) == []
    shot(page, f"self_assessment_{width}")
    if width == 1280:
        assert height <= FORM_BUDGET_PX and coded <= FORM_BUDGET_PX, (height, coded)
    learner.click("button:has-text('Submit my self-assessment')")
    page.wait_for_selector("table.mwf-side-by-side")
    assert learner.count <= INTERACTION_BUDGET, learner.count
    assert SelfAssessment.objects.get().status == SelfAssessment.SUBMITTED
    print(f"self-assessment at {width} px: {height:.0f} px, {coded:.0f} px rated, {learner.count} interactions")


def test_the_signoff_blocks_form_is_the_same_short_grid(mi_coding, workbench, live_server, page):
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, base, "coach_casey", DEMO_PASSWORD)
    page.goto(f"{base}/workbench/scenario/{SIGNOFF}/")
    page.select_option(".mwf-learner-picker", label="Cam Castillo (In progress)")
    page.locator(".mwf-learner-summary h4").wait_for()
    form = ".mwf-coach form.mwf-observation-form"
    assert page.locator(f"{form} .mwf-coding-bar:visible").count() == 1, "one rubric shown, its timer"
    height = form_height(page, form)
    assert height <= FORM_BUDGET_PX, height
    assert page.locator(f"{form} textarea:visible").count() == 1, "the notes are folded"
    assert serious_violations(page, ".mwf-block") == []
    # The MI coding rubric: tallies and live summary scores in the block too.
    page.select_option(".mwf-instrument", str(mi_coding.pk))
    plus = page.get_by_role("button", name="One more: Question")
    plus.click()
    plus.click()
    page.get_by_role("button", name="One more: Simple reflection").click()
    ratio = page.locator(f".mwf-rubric[data-instrument='{mi_coding.pk}'] [data-summary='reflection-question-ratio']")
    assert ratio.locator(".mwf-live-value").inner_text() == "—", "complex reflections not coded yet: undefined"
    page.get_by_role("button", name="One fewer: Complex reflection").click()  # none: one tap records 0
    assert ratio.locator(".mwf-live-value").inner_text() == "0.50"
    assert serious_violations(page, ".mwf-block") == []
    shot(page, "signoff_block_mi_1280")
    print(f"sign-off block form: {height:.0f} px")


def test_the_form_in_spanish_fits_both_widths(mi_coding, live_server, browser):
    context = browser.new_context(locale="es-ES", extra_http_headers={"Accept-Language": "es"})
    page = context.new_page()
    try:
        base = live_server.url
        open_learner_page(page, base, "learner_cam")
        page.click("#mwf-record-disclosure > summary")
        assert "Parcialmente presente" in page.inner_text("#mwf-indicator-eng-strengths")
        for radio in page.locator("input[type=radio][value=partly]").all():
            radio.check()
        height = form_height(page)
        assert height <= FORM_BUDGET_PX, height
        assert serious_violations(page) == []
        shot(page, "coach_form_es_1280")
        page.set_viewport_size({"width": 390, "height": 844})
        assert no_horizontal_overflow(page)
        shot(page, "coach_form_es_390")
        page.goto(page.url.split("?")[0] + f"?instrument={mi_coding.pk}")
        assert page.locator("#mwf-record-disclosure").evaluate("d => d.open"), "the chosen instrument opens the form"
        page.locator("#mwf-indicator-question .mwf-tally-step[data-step='1']").click()
        assert no_horizontal_overflow(page)
        assert serious_violations(page) == []
        shot(page, "coach_mi_coding_es_390")
        print(f"Spanish coach form at 1280 px: {height:.0f} px")
    finally:
        context.close()


def test_without_javascript_the_grid_is_a_plain_form_the_server_checks(seeded, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        learner = open_learner_page(page, live_server.url, "learner_cam")
        page.click("#mwf-record-disclosure > summary")
        assert not page.locator(".mwf-coding-bar").is_visible(), "the timer and live scores need the script"
        page.select_option("#mwf-setting", "supervision")
        for radio in page.locator("input[type=radio][value=met]").all():
            radio.check()
        page.locator("#mwf-indicator-mi-summaries details.mwf-note > summary").click()
        page.fill("#next_step-mi-summaries", "Link the summary to the plan.")
        page.click("button[value=submit]")
        assert "Observation submitted" in page.inner_text(".mwf-messages")
        observation = Observation.objects.filter(learner=learner).latest("id")
        assert observation.ratings.count() == 21
        assert observation.ratings.get(indicator__key="mi-summaries").next_step == "Link the summary to the plan."
    finally:
        context.close()
