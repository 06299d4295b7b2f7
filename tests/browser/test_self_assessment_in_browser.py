"""
Self-assessment in Debian's chromium (ADR 0014): the learner rates a session blind on their page,
then learner and coach see both side by side. Every state is scanned with axe.
"""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Indicator, SelfAssessment
from sandbox.views import DEMO_PASSWORD

from browser_support import login, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
COURSE = "course-v1:MiiWrap+FID101+2026"
NOTE = "Observed a home visit for the self-assessment."


@pytest.fixture
def asked_session(db):
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects
    lead, coach, learner = (users.get(username=name) for name in ("lead_lee", "coach_casey", "learner_ana"))
    api.save_policy(lead, COURSE, self_assessment=True)
    policy = api.get_policy(COURSE)
    ratings = {indicator.key: {"level": "met", "strength": "Clear example.", "next_step": ""}
               for indicator in Indicator.objects.filter(version_id=policy.instrument_version_id)}
    ratings["mi-summaries"]["level"] = "partly"
    api.save_observation(coach, learner, COURSE, {
        "practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(), "setting": "home_visit",
        "overall_note": NOTE, "ratings": ratings}, submit=True)
    return learner


def test_learner_rates_blind_then_both_see_the_side_by_side_table(asked_session, live_server, page):
    base = live_server.url
    login(page, base, "learner_ana", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/me/")
    main = page.inner_text("main")
    assert "Rate your observed sessions yourself" in main and NOTE not in main and "Clear example." not in main
    assert serious_violations(page) == []

    # Submitting with nothing chosen is stopped by the browser: every indicator needs a level.
    page.click("button:has-text('Submit my self-assessment')")
    assert SelfAssessment.objects.get().status == SelfAssessment.REQUESTED
    for group in page.locator("fieldset.mwf-indicator").all():
        group.locator("input[type=radio]").first.check()
    page.fill("textarea[name=note]", "I summarised twice, I think.")
    page.click("button:has-text('Submit my self-assessment')")
    page.wait_for_selector("table.mwf-side-by-side")
    table = page.inner_text("table.mwf-side-by-side")
    assert "different: talk it through" in table and "same level" in table
    assert NOTE in page.inner_text("main")
    assert serious_violations(page) == []

    page.context.clear_cookies()
    login(page, base, "coach_casey", DEMO_PASSWORD)
    page.goto(f"{base}/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{asked_session.pk}/")
    assert "I summarised twice, I think." in page.inner_text("main")
    assert page.locator("tr.mwf-agreement-differ").count() == 1
    assert serious_violations(page) == []
