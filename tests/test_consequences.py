"""
A status change's consequences are recorded with it and delivered durably (ADR 0019, issue 23).

The broker is really down here: Celery publishes to a closed port on 127.0.0.1 (connection refused),
not a patched ``delay``. Every write path (REST, page, XBlock) answers 2xx after its transaction
committed, the consequences wait in the outbox, and the periodic pass delivers each once when the
broker is back. A client's retry of a submit answers with the first observation.
"""
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Certification, Consequence, LearnerStatus, Observation
from miiwrap_fidelity.rules import competency
from sandbox.models import TrackingEvent

from conftest import COURSE, ratings_for
from xblock_support import SIGNOFF, call

pytestmark = pytest.mark.django_db(transaction=True)
REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"




def back():
    """The periodic pass, an hour on: past any retry delay of a row whose delivery failed."""
    return api.deliver_consequences(now=timezone.now() + timedelta(hours=1))


def pending_kinds():
    return sorted(Consequence.objects.filter(delivered_at__isnull=True).values_list("kind", flat=True))


def observation_body(learner, indicators):
    return {"learner": learner.pk, "practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(),
            "setting": "home_visit", "overall_note": "Warm opening.", "ratings": ratings_for(indicators),
            "submit": True}


def test_the_broker_is_really_down_in_these_tests(broker):
    from kombu.exceptions import OperationalError  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    broker.down()
    with pytest.raises(OperationalError):
        tasks.reevaluate_dependents.delay(1, COURSE)


def test_rest_submit_with_the_broker_down_answers_201_and_a_retry_makes_no_second_observation(
        client, assigned, coach, indicators, broker):
    client.force_login(coach)
    mail.outbox.clear()
    broker.down()
    body = json.dumps(observation_body(assigned, indicators))
    first = client.post(f"{REST}/observations/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    retried = client.post(f"{REST}/observations/", body, content_type="application/json")
    assert retried.status_code == 201 and retried.json()["id"] == first.json()["id"], "the first record answers"
    assert Observation.objects.filter(learner=assigned).count() == 1
    assert pending_kinds() == [competency.DEPENDENTS, competency.MESSAGE], "the tracking signal needs no broker"
    assert mail.outbox == []

    broker.up()
    assert back() == 2
    assert pending_kinds() == [] and len(mail.outbox) == 1, "the learner's message, once"
    assert back() == 0 and len(mail.outbox) == 1
    changed = TrackingEvent.objects.filter(name="edx.miiwrap_fidelity.competency.changed")
    assert changed.count() == 1


def test_page_approval_and_revocation_with_the_broker_down(client, ready_learner, coach, broker):
    client.force_login(coach)
    broker.down()
    url = reverse("miiwrap_fidelity:decide_competency", args=[COURSE, ready_learner.pk])
    assert client.post(url, {"action": "approve"}).status_code == 302
    assert LearnerStatus.objects.get(learner=ready_learner).state == "certified"
    Certification.objects.update(certificate_requested_at=timezone.now())  # as if the platform had it
    assert client.post(url, {"action": "revoke", "reason": "Drift seen."}).status_code == 302
    assert LearnerStatus.objects.get(learner=ready_learner).state == "revoked"
    assert competency.INVALIDATION in pending_kinds()
    broker.up()
    back()
    assert pending_kinds() == []


def test_xblock_submit_and_approval_with_the_broker_down(client, workbench, ready_learner, coach, indicators,
                                                         broker):
    client.force_login(coach)
    broker.down()
    data = {**observation_body(ready_learner, indicators), "learner_id": ready_learner.pk}
    before = Observation.objects.filter(learner=ready_learner).count()
    for _ in range(2):  # sent twice (a double click): one observation
        status, body = call(client, SIGNOFF, "record_observation", data)
        assert status == 200, body
    assert Observation.objects.filter(learner=ready_learner).count() == before + 1
    status, body = call(client, SIGNOFF, "decide", {"learner_id": ready_learner.pk, "action": "approve",
                                                    "reason": "At fidelity."})
    assert status == 200, body
    assert Certification.objects.filter(learner=ready_learner).count() == 1
    broker.up()
    back()
    assert pending_kinds() == []


def test_a_different_session_is_not_taken_for_a_repeat(assigned, coach, indicators):
    data = observation_body(assigned, indicators)
    first = api.save_observation(coach, assigned, COURSE, data, submit=True).observation
    other_note = api.save_observation(coach, assigned, COURSE, {**data, "overall_note": "Another visit."},
                                      submit=True).observation
    other_day = api.save_observation(coach, assigned, COURSE, {
        **data, "practice_date": (timezone.now().date() - timedelta(days=2)).isoformat()}, submit=True).observation
    assert len({first.pk, other_note.pk, other_day.pk}) == 3
    Observation.objects.filter(pk=first.pk).update(
        submitted_at=timezone.now() - competency.REPEATED_SUBMISSION_WINDOW - timedelta(seconds=1))
    later = api.save_observation(coach, assigned, COURSE, data, submit=True).observation
    assert later.pk != first.pk, "after the window, the same content is a new session"


def test_the_expiry_event_is_sent_once_whichever_task_sees_the_expiry_first(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    expires = Certification.objects.get(learner=ready_learner).expires_at
    later = expires + timedelta(hours=1)
    assert api.refresh_stale_statuses(now=later) == 1  # the hourly task first
    assert api.expire_certifications(now=later) == 0  # the daily one finds no certified row
    back()
    expired = TrackingEvent.objects.filter(name="edx.miiwrap_fidelity.certification.expired")
    assert expired.count() == 1 and expired.get().data["user_id"] == ready_learner.pk
    assert api.refresh_stale_statuses(now=later + timedelta(days=1)) == 0
    back()
    assert expired.count() == 1


def test_a_course_reevaluation_that_stores_an_expiry_sends_its_event(ready_learner, coach, course_key):
    """Review finding: the re-evaluation announced an expiry with the certification the new result
    holds (none), so the expiry event named nothing and was never sent."""
    api.sign_off(coach, ready_learner, course_key)
    certification = Certification.objects.get(learner=ready_learner)
    Certification.objects.filter(pk=certification.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    api.reevaluate_course(course_key)
    event = Consequence.objects.get(kind=competency.EXPIRY_EVENT, learner_id=ready_learner.pk)
    assert event.payload["certification_id"] == certification.pk
    back()
    expired = TrackingEvent.objects.filter(name="edx.miiwrap_fidelity.certification.expired")
    assert expired.count() == 1 and expired.get().data["user_id"] == ready_learner.pk


@pytest.mark.parametrize("days_down", [0, 1, 40])
def test_one_pass_after_days_without_a_scheduler_delivers_each_missed_consequence_once(
        ready_learner, coach, course_key, broker, days_down):
    api.sign_off(coach, ready_learner, course_key)
    expires = Certification.objects.get(learner=ready_learner).expires_at
    broker.down()
    seen = expires + timedelta(days=days_down)
    api.refresh_stale_statuses(now=seen)  # the first pass the scheduler runs again, broker still down
    assert competency.EXPIRY_EVENT not in pending_kinds(), "a tracking event needs no broker"
    broker.up()
    back()
    api.expire_certifications(now=seen)
    back()
    assert TrackingEvent.objects.filter(name="edx.miiwrap_fidelity.certification.expired").count() == 1
    assert pending_kinds() == []


def test_a_newer_message_waits_for_an_older_one_of_the_same_learner(ready_learner, coach, course_key, broker):
    """Review finding: with "certified" retrying, "revoked" was delivered first (the learner read them reversed)."""
    broker.down()
    api.sign_off(coach, ready_learner, course_key)  # its message waits (the broker is down)
    broker.up()
    api.revoke(coach, ready_learner, course_key, "Practice drifted.")  # after commit: must not overtake
    decisions = Consequence.objects.filter(kind=competency.MESSAGE, payload__cause__in=["approved", "revoked"])
    assert [row.payload["cause"] for row in decisions.order_by("id")] == ["approved", "revoked"]
    assert not decisions.filter(delivered_at__isnull=False).exists(), "the newer one waits for the older"
    back()
    approved, revoked = (row.delivered_at for row in decisions.order_by("id"))
    assert approved is not None and revoked is not None and approved <= revoked
    assert pending_kinds() == []


def test_a_lost_reevaluation_request_is_resumed(lead, policy, course_key, settings):
    """Review finding: a run left waiting (the broker lost its task) was never resumed."""
    from miiwrap_fidelity.records.models import CourseReevaluation  # pylint: disable=import-outside-toplevel

    settings.MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS = 60
    CourseReevaluation.objects.update_or_create(course_key=course_key, defaults={
        "requested_at": timezone.now() - timedelta(minutes=5), "started_at": None, "finished_at": None})
    assert api.stopped_reevaluations() == [COURSE]
    CourseReevaluation.objects.filter(course_key=course_key).update(requested_at=timezone.now())
    assert api.stopped_reevaluations() == [], "a fresh request is still the broker's"


def one_scheduler_pass():
    """Every periodic task once, as beat would after coming back."""
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    tasks.refresh_stale_statuses.apply()
    tasks.deliver_consequences.apply()
    tasks.invalidate_lapsed_certificates.apply()
    tasks.expire_certifications.apply()
    tasks.send_expiry_reminders.apply()
    tasks.request_pending_certificates.apply()
    back()


@pytest.mark.parametrize("days_down", [0, 1, 40])
def test_after_days_without_a_scheduler_one_pass_sends_each_expiry_and_invalidation_once(
        ready_learner, coach, course_key, days_down):
    """The records are moved back in time by ``days_down`` days past the expiry (what a stopped beat meets)."""
    from miiwrap_fidelity.records.models import LearnerStatus  # pylint: disable=import-outside-toplevel
    from sandbox.models import CertificateRequest  # pylint: disable=import-outside-toplevel

    api.sign_off(coach, ready_learner, course_key)
    expired_at = timezone.now() - timedelta(days=days_down, hours=1)
    Certification.objects.update(expires_at=expired_at)
    LearnerStatus.objects.filter(learner=ready_learner).update(certified_until=expired_at, stale_after=expired_at)
    for _ in range(2):  # the second pass finds nothing left to do
        one_scheduler_pass()
    assert TrackingEvent.objects.filter(name="edx.miiwrap_fidelity.certification.expired").count() == 1
    assert CertificateRequest.objects.filter(user=ready_learner, outcome="invalidated").count() == 1
    assert LearnerStatus.objects.get(learner=ready_learner).state == "expired"
    assert pending_kinds() == []


def test_after_weeks_without_a_scheduler_one_reminder_goes_out_once(ready_learner, coach, course_key):
    from miiwrap_fidelity.records.models import ExpiryReminder  # pylint: disable=import-outside-toplevel

    api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(expires_at=timezone.now() + timedelta(days=20))  # both reminder days passed
    mail.outbox.clear()
    for _ in range(2):
        one_scheduler_pass()
    assert list(ExpiryReminder.objects.values_list("days_before", flat=True)) == [30], "the nearer one, once"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("count", [3, 6])
def test_a_pass_spends_two_statements_per_row_and_one_in_all(count, django_assert_num_queries):
    """Review finding: each row asked again whether an older one of its key waited (a query per row)."""
    from miiwrap_fidelity.records import outbox  # pylint: disable=import-outside-toplevel

    outbox.register("test.noop", lambda row: None)
    try:
        Consequence.objects.bulk_create([
            Consequence(kind="test.noop", learner_id=index, course_key=COURSE, payload={}, batch="b",
                        created_at=timezone.now(), due_at=timezone.now()) for index in range(count)])
        # The due rows that no older one of their key holds back; then per row its claim and its delivery.
        with django_assert_num_queries(1 + 2 * count):
            assert outbox.deliver(batch="b") == count
    finally:
        outbox.HANDLERS.pop("test.noop")


def test_rows_held_behind_a_failing_one_never_hold_back_other_learners():
    """Review finding: the pass read the first 500 due rows by id; rows held behind a failing older
    one of their key stayed due and filled that window, so another learner's row was never delivered."""
    from miiwrap_fidelity.records import outbox  # pylint: disable=import-outside-toplevel

    def failing(row):
        raise RuntimeError("the mail service is down")

    delivered = []
    outbox.register("test.failing", failing)
    outbox.register("test.working", delivered.append)
    try:
        now = timezone.now()
        Consequence.objects.bulk_create([
            Consequence(kind="test.failing", learner_id=learner, course_key=COURSE, payload={}, batch="x",
                        created_at=now, due_at=now) for learner in range(30) for _row in range(21)])
        working = Consequence.objects.create(kind="test.working", learner_id=99, course_key=COURSE, payload={},
                                             batch="y", created_at=now, due_at=now)
        api.deliver_consequences(now=now)
        assert [row.pk for row in delivered] == [working.pk]
        attempted = Consequence.objects.filter(kind="test.failing", attempts__gt=0)
        assert attempted.count() == 30, "only the oldest of each failing key was tried; the rest wait in order"
    finally:
        outbox.HANDLERS.pop("test.failing", None)
        outbox.HANDLERS.pop("test.working", None)
