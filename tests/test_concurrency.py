"""
Concurrency on a real database server (the py312-mariadb tox env): simultaneous approvals make one
certification and one certificate request; simultaneous edits of a draft are detected; a revoke or
approve among 20 coaches submitting observations for the same learner succeeds every round (no
deadlock, no 500, nothing lost); parallel writes for different learners never fork the audit
chain; a co-rating sent 10 times at once is saved once. SQLite serialises every write, so these run
where the database is MariaDB (ADR 0006).
"""
import json
import threading
import traceback

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import audit, write_retry
from miiwrap_fidelity.records.models import AuditEvent, Certification, LearnerStatus, Observation, SignOff
from sandbox.models import CertificateRequest

from conftest import COURSE, assign_coach, make_user, ratings_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs a database server (py312-mariadb env)"),
]


def run_at_once(count, work):
    """Run ``work(index)`` in ``count`` threads released together; returns (results, errors)."""
    barrier, results, errors = threading.Barrier(count), [None] * count, []

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_twenty_simultaneous_approvals_make_one_certification(ready_learner, coach, course_key):
    results, errors = run_at_once(20, lambda i: api.sign_off(coach, ready_learner, course_key).id)
    assert errors == []
    assert len(set(results)) == 1, "every caller gets the same approval"
    assert SignOff.objects.count() == 1
    assert Certification.objects.filter(revoked_at__isnull=True).count() == 1
    assert CertificateRequest.objects.filter(user=ready_learner, outcome="generated").count() == 1


def test_simultaneous_draft_edits_are_detected(assigned, coach, coach2, course_key, indicators):
    draft = api.save_observation(coach, assigned, course_key, {
        "practice_date": "2026-03-01", "setting": "home_visit", "ratings": ratings_for(indicators)}).observation

    def edit(index):
        return api.save_observation(coach, assigned, course_key, {
            "practice_date": "2026-03-01", "setting": "home_visit", "revision": draft.revision,
            "overall_note": f"edit {index}", "ratings": ratings_for(indicators)}, observation_id=draft.pk)

    results, errors = run_at_once(6, edit)
    assert len([r for r in results if r is not None]) == 1, "one edit wins"
    assert len(errors) == 5 and all(isinstance(e, ValidationError) and "revision" in e.message_dict for e in errors)
    saved = Observation.objects.get(pk=draft.pk)
    assert saved.revision == draft.revision + 1 and saved.overall_note.startswith("edit ")


API = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/"
COACHES, ROUNDS = 20, 3


def rest_post(user, path, body):
    client = Client()
    client.force_login(user)
    return client.post(API + path, json.dumps(body), content_type="application/json")


def observation_body(learner, indicators):
    return {"learner": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "overall_note": "Observed under load.", "ratings": ratings_for(indicators), "submit": True}


@pytest.fixture
def crowd(policy):
    """Twenty coaches."""
    return [make_user(f"crowd{i:02d}") for i in range(COACHES)]


@pytest.fixture
def ready_for_round(crowd, coach, lead, course_key, observe):
    """A new learner per round (fresh evidence must postdate a certification), coached by all of them."""
    def make(number):
        learner = make_user(f"round{number}")
        for person in [coach, *crowd]:
            assign_coach(lead, course_key, person, learner)
        for days in (50, 20, 5):
            observe(coach, learner, days_ago=days)
        return learner

    return make


def _round(crowd, learner, indicators, decider, decision_body):
    """Twenty observation submissions and one sign-off decision, all released at once, over REST."""
    def work(index):
        if index == COACHES:
            return rest_post(decider, "signoffs/", {"learner": learner.pk, **decision_body})
        return rest_post(crowd[index], "observations/", observation_body(learner, indicators))

    before = Observation.objects.filter(learner=learner, status=Observation.SUBMITTED).count()
    results, errors = run_at_once(COACHES + 1, work)
    assert errors == []
    codes = [response.status_code for response in results]
    assert 500 not in codes and codes.count(201) == COACHES + 1, codes
    assert Observation.objects.filter(learner=learner, status=Observation.SUBMITTED).count() == before + COACHES, \
        "no observation is lost"
    return results[COACHES]


def test_revoke_succeeds_while_twenty_coaches_submit_observations(crowd, ready_for_round, coach, lead, course_key,
                                                                  indicators):
    for number in range(ROUNDS):
        learner = ready_for_round(number)
        api.sign_off(coach, learner, course_key)
        assert Certification.objects.filter(learner=learner, revoked_at__isnull=True).count() == 1
        response = _round(crowd, learner, indicators, lead, {"action": "revoke", "reason": "Fidelity concerns."})
        assert response.json()["action"] == "revoke"
        assert Certification.objects.filter(learner=learner, revoked_at__isnull=True).count() == 0, \
            "no revocation is lost"
        assert LearnerStatus.objects.get(learner=learner).state == "revoked"
    assert audit.verify().intact


def test_approve_succeeds_while_twenty_coaches_submit_observations(crowd, ready_for_round, coach, indicators):
    for number in range(ROUNDS):
        learner = ready_for_round(number)
        response = _round(crowd, learner, indicators, coach, {"action": "approve"})
        assert response.json()["action"] == "approve"
        assert Certification.objects.filter(learner=learner, revoked_at__isnull=True).count() == 1
        assert LearnerStatus.objects.get(learner=learner).state == "certified"
    assert CertificateRequest.objects.filter(outcome="generated").count() == ROUNDS
    assert audit.verify().intact


def test_parallel_writes_for_different_learners_never_fork_the_audit_chain(policy, lead, coach, course_key,
                                                                          indicators):
    learners = [make_user(f"parallel{i:02d}") for i in range(16)]
    for person in learners:
        assign_coach(lead, course_key, coach, person)
    events = AuditEvent.objects.count()

    def work(index):
        body = {**observation_body(learners[index % 16], indicators), "overall_note": f"Session {index}."}
        return rest_post(coach, "observations/", body).status_code  # 80 sessions (a repeat would not be one)

    results, errors = run_at_once(16 * 5, work)
    assert errors == [] and results == [201] * 80
    report = audit.verify()
    assert report.intact, report.breaks
    assert report.events == events + 80
    hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(hashes) == len(set(hashes)), "no two events chain to the same predecessor"


def test_a_co_rating_sent_ten_times_at_once_is_saved_once(assigned, coach, coach2, course_key, indicators):
    day = timezone.now().date().isoformat()
    session = api.save_observation(coach, assigned, course_key, {
        "practice_date": day, "setting": "home_visit", "ratings": ratings_for(indicators)}).observation
    body = {"co_observation_of": session.pk, "ratings": ratings_for(indicators)}

    results, errors = run_at_once(10, lambda i: write_retry.run(api.save_observation, coach2, assigned, course_key,
                                                                body))
    assert Observation.objects.filter(co_observation_of_id=session.id).count() == 1
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 9 and all(isinstance(e, ValidationError) and "co_observation_of" in e.message_dict
                                    for e in errors), errors


def test_verifying_the_audit_chain_while_writers_append_finds_no_break(policy):
    """Issue 23: under traffic, appends during the walk were reported as tampering (7 runs in 10)."""
    for index in range(300):
        audit.record("test.event", None, actor=index)
    stop, written = threading.Event(), []

    def writer():
        try:
            while not stop.is_set():
                written.append(audit.record("test.traffic", None, actor=1).pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        reports = [audit.verify(page=7) for _ in range(5)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert len(written) > 20, "the writers really appended during the walks"
    assert all(report.intact for report in reports), [report.breaks[:3] for report in reports]
    assert audit.verify().intact


def test_reevaluation_completes_while_writers_create_status_rows(policy, course_key):
    """Issue 23: a status row created between the batch's read and its insert failed the run (1062)."""
    from django.contrib.auth import get_user_model  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import evaluation  # pylint: disable=import-outside-toplevel
    from sandbox.models import Enrollment  # pylint: disable=import-outside-toplevel

    users = get_user_model().objects
    users.bulk_create([get_user_model()(username=f"enrolled{i:04d}") for i in range(1500)])
    learners = list(users.filter(username__startswith="enrolled").order_by("id"))
    Enrollment.objects.bulk_create([Enrollment(course_key=course_key, user=person) for person in learners])

    def work(index):
        if index == 4:
            return api.reevaluate_course(course_key)
        for person in learners[index::4]:  # each writer gives learners their status rows, as enrollment does
            write_retry.run(api.note_enrollment, person.pk, course_key)
        return None

    results, errors = run_at_once(5, work)
    assert errors == [], "".join(traceback.format_exception(errors[0]))[-3000:]
    assert results[4] == len(learners)
    stored = dict(LearnerStatus.objects.filter(course_key=course_key).values_list("learner_id", "state"))
    assert len(stored) == len(learners)
    fresh = {person.pk: str(evaluation.evaluate(policy, person.pk, course_key)[0].state) for person in learners[::50]}
    assert {learner_id: stored[learner_id] for learner_id in fresh} == fresh, "0 disagreements"
