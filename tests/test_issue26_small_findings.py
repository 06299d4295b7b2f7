"""
Issue 26: small findings. A learner nobody coaches is told so (not that a coach has not signed off);
drift alert dates do not break inside.
"""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment, DriftAlert
from sandbox.enrollment import enroll

from conftest import COURSE
from xblock_support import SIGNOFF, view

pytestmark = pytest.mark.django_db


NO_COACH = "No coach is assigned to you yet; your course staff assigns one."
WAITING = "Your coach has not signed off your competency yet."


def my_page(client):
    return client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()


# --- 1. a learner with no coach ------------------------------------------------------------------

def test_a_learner_nobody_coaches_reads_that_no_coach_is_assigned(client, workbench, policy, learner, course_key):
    enroll(learner, course_key)
    client.force_login(learner)
    for page in (my_page(client), view(client, SIGNOFF)):
        assert NO_COACH in page and WAITING not in page


def test_a_learner_whose_coaches_were_unassigned_reads_so_too(client, workbench, assigned, lead, course_key):
    client.force_login(assigned)
    assert WAITING in my_page(client) and NO_COACH not in my_page(client), "coached: waits for the coach"
    assert WAITING in view(client, SIGNOFF)
    for assignment in CoachAssignment.objects.filter(learner=assigned):
        api.unassign_coach(lead, assignment.pk)
    assert NO_COACH in my_page(client) and WAITING not in my_page(client)
    assert NO_COACH in view(client, SIGNOFF)


def test_the_coach_still_reads_that_a_sign_off_is_awaited(client, assigned, coach, lead, course_key):
    status = api.learner_status(coach, assigned, course_key)
    assert api.has_coach(status) is True
    assert api.status_reason_sentences(status, reviewer=True) == api.reason_sentences(status.reasons, reviewer=True)
    for assignment in CoachAssignment.objects.filter(learner=assigned):
        api.unassign_coach(lead, assignment.pk)
    status = api.learner_status(lead, assigned, course_key)
    assert api.has_coach(status) is False
    assert NO_COACH not in api.status_reason_sentences(status, reviewer=True), "reviewers read their own wording"


# --- 3. alert dates do not wrap -------------------------------------------------------------------------

def test_alert_dates_are_time_elements_that_do_not_wrap(client, assigned, coach, lead, course_key):
    alert = DriftAlert.objects.create(course_key=course_key, learner=assigned, kind=DriftAlert.BELOW_BAND,
                                      details={"rolling": 60, "adequate": 70})
    DriftAlert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now() - timedelta(days=1),
                                                  acknowledged_by=coach, plan_note="Practise reflections.")
    alert.refresh_from_db()
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:alerts", args=[COURSE])).content.decode()
    for moment in (alert.created_at, alert.acknowledged_at):
        day = timezone.localtime(moment).date().isoformat()
        assert f'<time class="mwf-date" datetime="{day}">{day}</time>' in page
    assert f"Practise reflections. ({coach.get_full_name() or coach.username}, " in page
    coach.first_name, coach.last_name = "Casey", "Morgan"
    coach.save()
    page = client.get(reverse("miiwrap_fidelity:alerts", args=[COURSE])).content.decode()
    assert "Practise reflections. (Casey Morgan, " in page, "who acknowledged it, by name (issue 26)"
    css = open(api.__file__.replace("api/__init__.py", "static/miiwrap_fidelity/miiwrap.css"), encoding="utf-8").read()
    assert ".mwf-date { white-space: nowrap; }" in css
