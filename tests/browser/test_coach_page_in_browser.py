"""
Issue 15 in Debian's chromium: the coach's learner page (sections, folded form, state-aware
actions, errors that focus the indicator), the client-identifier check while typing, and the
observation draft kept in the browser through a lost connection. Every state is scanned with axe.
"""
import pytest
from django.core.management import call_command

from miiwrap_fidelity.records.models import Observation
from sandbox.views import DEMO_PASSWORD

from browser_support import days_ago, login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
#: The coach's learner page at 1280 px with the form folded, for a learner with a long history (24
#: observations): docs/decisions/0015-coach-learner-page.rst; the page's anchor is
#: ``#mwf-coach-learner-page``.
HEIGHT_BUDGET_PX = 3000


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def open_learner(page, base, username):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, base, "coach_casey", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/coaching/")
    page.click(f"text={username}")


def fill_rubric(page, date=None):
    page.click("#mwf-record-disclosure > summary")
    page.fill("#mwf-date", date or days_ago(5))
    page.select_option("#mwf-setting", "home_visit")
    for radio in page.locator("input[type=radio][value=met]").all():
        radio.check()


def add_history(username, count):
    """``count`` more submitted observations of ``username`` by coach_casey, one a week back."""
    from datetime import date, timedelta  # pylint: disable=import-outside-toplevel

    from django.contrib.auth import get_user_model  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity import api  # pylint: disable=import-outside-toplevel
    users = get_user_model().objects
    coach, learner = users.get(username="coach_casey"), users.get(username=username)
    keys = [i.key for i in api.policy_indicators(COURSE)]
    for week in range(count):
        api.save_observation(coach, learner, COURSE, {
            "practice_date": (date.today() - timedelta(days=60 + 7 * week)).isoformat(), "setting": "home_visit",
            "overall_note": "Steady practice.", "ratings": {key: {"level": "partly" if key == "mi-reflections" else "met", "strength": "Clear."}
                        for key in keys},  # an essential missed: none qualifies
        }, submit=True)


def test_short_page_state_aware_actions_and_focused_errors(seeded, live_server, page):
    base = live_server.url
    add_history("learner_ben", 22)
    open_learner(page, base, "learner_ben")
    assert page.locator("nav.mwf-section-nav a").count() == 6  # issue 31 added the coaching plan
    assert not page.locator("#mwf-date").is_visible(), "the form is folded"
    assert page.locator("button[value=approve]").count() == 0, "not ready: no approval offered"
    assert page.locator("button[value=revoke]").count() == 0
    assert "Approval opens when" in page.inner_text("#mwf-decide")
    height = page.evaluate("document.getElementById('mwf-coach-learner-page').getBoundingClientRect().height")
    assert height < HEIGHT_BUDGET_PX, height
    assert serious_violations(page) == []

    fill_rubric(page)
    page.locator("input[name='rating-mi-summaries']").evaluate_all("radios => radios.forEach(r => r.checked = false)")
    page.click("button:has-text('Submit observation')")
    errors = page.locator("#mwf-errors")
    assert "Summaries" in errors.inner_text() and "ratings." not in errors.inner_text()
    errors.locator("a.mwf-error-link").first.click()
    assert page.evaluate("document.activeElement.name") == "rating-mi-summaries"
    assert serious_violations(page) == []


def test_identifier_check_while_typing_and_before_submit(seeded, live_server, page):
    base = live_server.url
    open_learner(page, base, "learner_ben")
    fill_rubric(page)
    warning = page.locator("#mwf-privacy-check")
    assert not warning.is_visible()
    page.click("#mwf-indicator-mi-summaries details.mwf-note > summary")  # notes are folded (issue 26)
    page.type("#next_step-mi-summaries", "Call client Maria Lopez at 555-123-4567")
    assert warning.is_visible()
    assert "phone number" in page.inner_text("#next_step-mi-summaries-privacy")
    assert "Summaries" in page.inner_text("#mwf-privacy-summary"), "the field is named"
    assert serious_violations(page) == []
    page.click("button:has-text('Submit observation')")
    assert page.evaluate("document.activeElement.id") == "next_step-mi-summaries", "kept back for an edit"
    before = Observation.objects.filter(learner__username="learner_ben").count()
    page.check("#mwf-privacy-confirm")
    page.click("button:has-text('Submit observation')")
    assert "Observation submitted" in page.inner_text(".mwf-messages")
    assert Observation.objects.filter(learner__username="learner_ben").count() == before + 1


def test_draft_survives_a_lost_connection_and_is_sent_when_back(seeded, live_server, page):
    base = live_server.url
    open_learner(page, base, "learner_ben")
    before = Observation.objects.filter(learner__username="learner_ben").count()
    fill_rubric(page)
    page.fill("#mwf-note", "Warm opening; the plan came from the family.")
    page.wait_for_function("Object.keys(localStorage).some(k => k.startsWith('mwf-draft:'))")
    page.wait_for_timeout(200)  # the newest snapshot sealed (asynchronous, a millisecond)
    page.reload()  # the browser kept it
    page.wait_for_function("document.getElementById('mwf-note').value != ''")
    assert page.input_value("#mwf-note") == "Warm opening; the plan came from the family."
    assert "Restored" in page.inner_text("#mwf-autosave-state")
    page.context.set_offline(True)
    page.click("button:has-text('Submit observation')")
    page.wait_for_function("document.getElementById('mwf-autosave-state').textContent.includes('offline')")
    assert Observation.objects.filter(learner__username="learner_ben").count() == before
    with page.expect_navigation():
        page.context.set_offline(False)
    assert "Observation submitted" in page.inner_text(".mwf-messages")
    assert Observation.objects.filter(learner__username="learner_ben").count() == before + 1
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('mwf-draft:')).length") == 0
    assert serious_violations(page) == []


def test_a_shared_computer_keeps_no_coachs_draft_for_the_next_person(seeded, live_server, page):
    """Issue 24: drafts were keyed without the user and kept after sign-out; the next person read them,
    and an offline-queued submit of one coach was sent later under another coach's session."""
    base = live_server.url
    note = "Family Gonzalez asked about the plan; call Maria at 555-123-4567."
    open_learner(page, base, "learner_ben")
    fill_rubric(page)
    page.fill("#mwf-note", note)
    page.wait_for_function("Object.keys(localStorage).some(k => k.startsWith('mwf-draft:'))")
    assert note not in page.evaluate("JSON.stringify(localStorage)"), "kept sealed, with the sign-in's key"
    assert "Maria" not in page.evaluate("JSON.stringify(localStorage)")
    page.reload()  # the coach's own draft is kept for them, and checked again as it is shown
    page.wait_for_function("document.getElementById('mwf-note').value != ''")
    assert page.input_value("#mwf-note") == note
    assert page.locator("#mwf-note-privacy").is_visible(), "the warning is back without typing"
    page.context.clear_cookies()
    login(page, base, "lead_lee", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/coaching/")
    page.click("text=learner_ben")
    page.click("#mwf-record-disclosure > summary")
    assert page.input_value("#mwf-note") == "", "never pre-filled with another person's text"
    assert note not in page.evaluate("JSON.stringify(localStorage)"), "and not left in the browser either"

    # An offline submit queued by one coach is never sent under the next person's session.
    page.context.clear_cookies()
    open_learner(page, base, "learner_ben")
    before = Observation.objects.filter(learner__username="learner_ben").count()
    fill_rubric(page)
    page.fill("#mwf-note", "Warm opening; the plan came from the family.")
    page.context.set_offline(True)
    page.click("button:has-text('Submit observation')")
    page.wait_for_function("document.getElementById('mwf-autosave-state').textContent.includes('offline')")
    page.close()
    page = page.context.new_page()
    page.context.set_offline(False)
    page.context.clear_cookies()
    login(page, base, "lead_lee", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/coaching/")
    page.click("text=learner_ben")
    page.wait_for_timeout(500)
    assert Observation.objects.filter(learner__username="learner_ben").count() == before, "nothing sent as lead"
    assert "discarded" in page.inner_text("#mwf-autosave-state")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('mwf-draft:')).length") == 0


def test_signing_out_and_in_again_clears_the_coachs_drafts(seeded, live_server, page):
    """A draft belongs to one sign-in: after signing out, even the same coach finds none."""
    base = live_server.url
    open_learner(page, base, "learner_ben")
    fill_rubric(page)
    page.fill("#mwf-note", "Warm opening; the plan came from the family.")
    page.wait_for_function("Object.keys(localStorage).filter(k => k.startsWith('mwf-draft:')).length == 1")
    page.context.clear_cookies()  # signed out
    open_learner(page, base, "learner_ben")
    page.click("#mwf-record-disclosure > summary")
    assert page.input_value("#mwf-note") == ""
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('mwf-draft:')).length") == 0


def test_a_post_the_server_did_not_record_keeps_the_draft(seeded, live_server, page):
    """Review finding: the browser dropped its copy after any page without the error list came back,
    a 503 of an overloaded server included, and the coach's observation was lost."""
    base = live_server.url
    open_learner(page, base, "learner_ben")
    fill_rubric(page)
    note = "Warm opening; the plan came from the family."
    page.fill("#mwf-note", note)
    page.wait_for_function("Object.keys(localStorage).some(k => k.startsWith('mwf-draft:'))")
    page.wait_for_timeout(200)
    busy = "**/coaching/learners/*/observations/"  # the form's post only (the page itself is .../learners/<id>/)
    page.route(busy, lambda route: route.fulfill(status=503, body="The service is busy; try again.",
                                                 content_type="text/plain"))
    with page.expect_navigation():
        page.click("button:has-text('Submit observation')")
    assert "busy" in page.content()
    page.unroute(busy)
    page.go_back()
    page.reload()
    page.wait_for_function("document.getElementById('mwf-note').value != ''")
    assert page.input_value("#mwf-note") == note, "the draft is still there to send again"
    with page.expect_navigation():
        page.click("button:has-text('Submit observation')")
    assert "Observation submitted" in page.inner_text(".mwf-messages")
    page.wait_for_function("Object.keys(localStorage).filter(k => k.startsWith('mwf-draft:')).length == 0")
