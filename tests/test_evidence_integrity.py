"""
Evidence integrity on any database (ADR 0006): the lock order of every write path, the retry at the
transaction boundary, the audit chain's tamper detection, the certificate request lease, "one"
rules as constraints, and evidence that no user deletion can take away. The same rules under real
concurrency and process death: test_concurrency.py and test_faults.py (MariaDB).
"""
import json
import tracemalloc
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miiwrap_fidelity import api, tasks
from miiwrap_fidelity.records import audit, retirement, write_retry
from miiwrap_fidelity.records.models import (
    AuditChainHead,
    AuditEvent,
    Certification,
    EvidenceKept,
    Observation,
    SignOff,
)
from sandbox.models import CertificateRequest

from conftest import COURSE, assign_coach, make_user, ratings_for

pytestmark = pytest.mark.django_db
API = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/"
STATUS_TABLE, HEAD_TABLE = "miiwrap_fidelity_learnerstatus", "miiwrap_fidelity_auditchainhead"


# --- one lock order -------------------------------------------------------------------------------

def _first(queries, table):
    return next((i for i, sql in enumerate(queries) if table in sql), None)


def _write_paths(coach, coach2, lead, learner, course_key, indicators):
    day = timezone.now().date().isoformat()
    full = {"practice_date": day, "setting": "home_visit", "ratings": ratings_for(indicators)}
    yield "draft", lambda: api.save_observation(coach, learner, course_key, full)
    draft = Observation.objects.filter(observer=coach, status=Observation.DRAFT).first()
    yield "co-rating", lambda: api.save_observation(coach2, learner, course_key, {**full, "co_observation_of": draft.pk})
    for index in range(3):
        yield f"submission {index}", lambda index=index: api.save_observation(  # three sessions (a repeat is not one)
            coach, learner, course_key, {**full, "overall_note": f"Session {index}."}, submit=True)
    submitted = Observation.objects.filter(observer=coach, status=Observation.SUBMITTED).first()
    yield "amendment", lambda: api.amend_observation(coach, course_key, submitted.pk,
                                                     {"reason": "Typo.", "overall_note": "Corrected."})
    yield "approval", lambda: api.sign_off(coach, learner, course_key)
    yield "revocation", lambda: api.revoke(lead, learner, course_key, "Re-check needed.")
    newcomer = make_user("newcomer")
    yield "coach assignment", lambda: assign_coach(lead, course_key, coach, newcomer)
    yield "retirement", lambda: retirement.scrub_user(newcomer.pk)


def test_every_write_path_takes_the_learner_status_row_before_the_audit_head(
        assigned, coach, coach2, lead, course_key, indicators):
    """The deadlock of observation submission against sign-off came from the opposite order."""
    checked = []
    for name, write in _write_paths(coach, coach2, lead, assigned, course_key, indicators):
        with CaptureQueriesContext(connection) as captured:
            write()
        queries = [q["sql"] for q in captured.captured_queries]
        status, head = _first(queries, STATUS_TABLE), _first(queries, HEAD_TABLE)
        assert head is not None, f"{name} leaves an audit event"
        if status is not None:
            assert status < head, f"{name}: the audit head was locked before the learner's status row"
            checked.append(name)
        if connection.vendor == "mysql":  # after the head, only locks already held are asked for again
            locks = [sql.split(" FROM ")[1].split()[0] for sql in queries if "FOR UPDATE" in sql]
            first_head = next(i for i, table in enumerate(locks) if HEAD_TABLE in table)
            assert set(locks[first_head:]) <= set(locks[:first_head + 1]), f"{name}: a lock taken after the head"
    assert set(checked) >= {"draft", "co-rating", "submission 0", "amendment", "approval", "revocation",
                            "coach assignment", "retirement"}


# --- retry at the transaction boundary ------------------------------------------------------------

def _failing(times, code=write_retry.DEADLOCK):
    calls = []

    def work():
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError(code, "Deadlock found when trying to get lock; try restarting transaction")
        return "saved"

    return work, calls


@pytest.mark.django_db(transaction=True)
def test_a_lock_conflict_is_retried_at_the_transaction_boundary():
    work, calls = _failing(2)
    assert write_retry.run(work) == "saved" and len(calls) == 3
    work, calls = _failing(1, write_retry.LOCK_WAIT_TIMEOUT)
    assert write_retry.run(work) == "saved" and len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_retries_are_bounded_and_end_in_a_write_conflict(settings):
    settings.MIIWRAP_FIDELITY_WRITE_ATTEMPTS = 3
    work, calls = _failing(100)
    with pytest.raises(write_retry.WriteConflict, match="try again"):
        write_retry.run(work)
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    calls = []

    def work():
        calls.append(1)
        raise OperationalError(1054, "Unknown column")

    with pytest.raises(OperationalError):
        write_retry.run(work)
    assert len(calls) == 1


def test_inside_a_callers_transaction_a_conflict_is_not_retried_but_answered():
    """The caller's transaction (e.g. the LMS's ATOMIC_REQUESTS) is lost with the lock conflict."""
    work, calls = _failing(1)
    with transaction.atomic(), pytest.raises(write_retry.WriteConflict):
        write_retry.run(work)
    assert len(calls) == 1


def _always_deadlocked(*args, **kwargs):
    raise OperationalError(write_retry.DEADLOCK, "Deadlock found when trying to get lock")


def test_the_rest_api_answers_503_not_500_when_a_write_keeps_losing(client, ready_learner, coach, monkeypatch, settings):
    settings.MIIWRAP_FIDELITY_WRITE_ATTEMPTS = 2
    monkeypatch.setattr(api, "sign_off", _always_deadlocked)
    client.force_login(coach)
    response = client.post(API + "signoffs/", json.dumps({"learner": ready_learner.pk, "action": "approve"}),
                           content_type="application/json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "try again" in response.json()["detail"]


def test_the_workspace_page_answers_503_not_500(client, ready_learner, coach, monkeypatch, settings):
    from django.urls import reverse  # pylint: disable=import-outside-toplevel

    settings.MIIWRAP_FIDELITY_WRITE_ATTEMPTS = 2
    monkeypatch.setattr(api, "sign_off", _always_deadlocked)
    client.force_login(coach)
    response = client.post(reverse("miiwrap_fidelity:decide_competency", args=[COURSE, ready_learner.pk]),
                           {"action": "approve", "level": "coach"})
    assert response.status_code == 503 and b"try again" in response.content


# --- the audit chain ------------------------------------------------------------------------------

KEY = "audit-key-for-tests"


@pytest.fixture
def chain(settings, db):
    """Ten events, sealed with the HMAC key."""
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = KEY
    actor = make_user("auditor")
    events = [audit.record("test.event", actor, actor=actor, subject_user_id=index) for index in range(10)]
    assert audit.verify().intact
    return [event.pk for event in events]


def _breaks(kind=None):
    return [(b.event_id, b.kind) for b in audit.verify().breaks if kind is None or b.kind == kind]


def _recompute(ids, key=b""):
    """What someone without the key can do: rewrite events and recompute every later hash."""
    previous = AuditEvent.objects.filter(id__lt=ids[0]).order_by("-id").values_list("hash", flat=True).first()
    for event in AuditEvent.objects.filter(id__in=ids).order_by("id"):
        event.prev_hash = previous or audit.GENESIS
        event.hash = event.compute_hash(key)
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
        previous = event.hash
    AuditChainHead.objects.update(last_hash=previous)


def _with_traffic(monkeypatch, appended, every=1):
    """Every ``every``-th read of the head, an append lands first (a live site writing while the walk reads)."""
    real = audit._head  # pylint: disable=protected-access
    reads = []

    def head():
        reads.append(1)
        if len(reads) % every == 0:
            appended.append(audit.record("test.traffic", None, actor=1).pk)
        return real()

    monkeypatch.setattr(audit, "_head", head)


@pytest.mark.parametrize("every", [1, 2, 3])
def test_appends_during_the_walk_are_not_breaks(chain, monkeypatch, every):
    appended = []
    _with_traffic(monkeypatch, appended, every)
    report = audit.verify(page=3)
    assert report.intact, report.breaks
    assert len(appended) >= 3 and report.events >= len(chain) + 3


def test_tampering_is_found_at_its_id_while_the_site_appends(chain, monkeypatch):
    AuditEvent.objects.filter(pk=chain[5]).update(actor_id=999)
    appended = []
    _with_traffic(monkeypatch, appended)
    assert [(b.event_id, b.kind) for b in audit.verify(page=3).breaks] == [(chain[5], "hash")]
    monkeypatch.undo()
    last = AuditEvent.objects.order_by("-id").first()
    forged = AuditEvent(actor_id=1, subject_user_id=1, course_key="", action="competency.approved",
                        object_type="SignOff", object_id="1", created_at=timezone.now(), prev_hash=last.hash)
    forged.hash = forged.compute_hash(KEY.encode())  # even with the key: the head does not know it
    AuditEvent.objects.bulk_create([forged])
    forged = AuditEvent.objects.order_by("-id").first()
    assert (forged.pk, "after_head") in _breaks(), "at the end of the chain: the head does not know it"
    _with_traffic(monkeypatch, appended, every=2)
    breaks = [(b.event_id, b.kind) for b in audit.verify(page=3).breaks]
    # Appends after it chain to the head's last event, so it now sits inside the chain: the next
    # event no longer links to the one before it (the forged one), and the length is off by one.
    following = AuditEvent.objects.filter(pk__gt=forged.pk).order_by("id").values_list("pk", flat=True).first()
    assert (chain[5], "hash") in breaks and (following, "link") in breaks and (None, "count") in breaks


def test_an_updated_event_is_reported_at_its_id(chain):
    AuditEvent.objects.filter(pk=chain[3]).update(actor_id=999)
    assert _breaks() == [(chain[3], "hash")]


def test_a_deleted_event_in_the_middle_is_reported_at_the_next_id(chain):
    AuditEvent.objects.filter(pk=chain[4]).delete()
    assert (chain[5], "link") in _breaks() and (None, "count") in _breaks()


def test_deleting_the_newest_events_is_detected(chain):
    AuditEvent.objects.filter(pk__in=chain[-2:]).delete()
    assert _breaks() == [(chain[-1], "tail"), (None, "count")]


def test_an_event_inserted_at_the_end_is_reported_at_its_id(chain):
    last = AuditEvent.objects.get(pk=chain[-1])
    forged = AuditEvent(actor_id=1, subject_user_id=1, course_key="", action="competency.approved",
                        object_type="SignOff", object_id="1", created_at=timezone.now(), prev_hash=last.hash)
    forged.hash = forged.compute_hash()  # the forger has no key
    AuditEvent.objects.bulk_create([forged])
    forged = AuditEvent.objects.order_by("-id").first()
    assert (forged.pk, "hash") in _breaks() and (forged.pk, "after_head") in _breaks()


def test_an_event_inserted_in_the_middle_is_reported(chain):
    gap = AuditEvent.objects.get(pk=chain[6])
    AuditEvent.objects.filter(pk=chain[6]).delete()
    before = AuditEvent.objects.get(pk=chain[5])
    forged = AuditEvent(pk=gap.pk, actor_id=1, subject_user_id=1, course_key="", action="competency.approved",
                        object_type="SignOff", object_id="1", created_at=gap.created_at, prev_hash=before.hash)
    forged.hash = forged.compute_hash()
    AuditEvent.objects.bulk_create([forged])
    assert (chain[6], "hash") in _breaks() and (chain[7], "link") in _breaks()


def test_a_rewrite_with_recomputed_hashes_is_detected_with_the_key(chain, settings):
    AuditEvent.objects.filter(pk=chain[2]).update(action="something.else")
    _recompute(chain[2:])
    assert _breaks()[0] == (chain[2], "hash")
    assert {event_id for event_id, kind in _breaks()} == set(chain[2:]), "every rewritten event is reported"
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = ""
    # Not all attacks can be seen without the key: this is why the setting exists.
    _recompute(chain, b"")
    assert audit.verify().intact


def test_every_break_is_reported_and_the_command_lists_them(chain, capsys):
    AuditEvent.objects.filter(pk__in=[chain[1], chain[7]]).update(object_id="42")
    assert _breaks() == [(chain[1], "hash"), (chain[7], "hash")]
    with pytest.raises(CommandError, match=f"broken at event {chain[1]} .*2 breaks"):
        call_command("verify_audit_chain")
    assert f"broken at event {chain[7]}" in capsys.readouterr().err


def test_an_existing_chain_is_sealed_once_the_key_is_set(settings, capsys):
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = ""
    actor = make_user("before_the_key")
    ids = [audit.record("test.event", actor, actor=actor).pk for _ in range(5)]
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = KEY
    assert {event_id for event_id, kind in _breaks("hash")} == set(ids), "written without the key"
    call_command("verify_audit_chain", "--seal")
    assert "Sealed 5 events" in capsys.readouterr().out and audit.verify().intact
    audit.record("test.event", actor, actor=actor)
    AuditEvent.objects.filter(pk=ids[2]).update(action="changed")
    _recompute(ids[2:])
    assert _breaks()[0] == (ids[2], "hash"), "a sealed chain rewritten without the key does not verify"


def test_a_chain_that_does_not_verify_is_not_sealed(settings):
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = ""
    actor = make_user("tamperer")
    ids = [audit.record("test.event", actor, actor=actor).pk for _ in range(4)]
    AuditEvent.objects.filter(pk=ids[1]).update(action="changed")
    settings.MIIWRAP_FIDELITY_AUDIT_HMAC_KEY = KEY
    with pytest.raises(CommandError, match=f"Not sealed: Event {ids[1]} does not verify"):
        call_command("verify_audit_chain", "--seal")
    assert AuditEvent.objects.get(pk=ids[0]).hash == AuditEvent.objects.get(pk=ids[0]).compute_hash(), "unchanged"


def _bulk_chain(count):
    AuditEvent.objects.all().delete()
    previous, now, events = audit.GENESIS, timezone.now(), []
    for index in range(count):
        event = AuditEvent(actor_id=index, subject_user_id=index, course_key="", action="bulk", object_type="X",
                           object_id=str(index), created_at=now, prev_hash=previous)
        event.hash = previous = event.compute_hash()
        events.append(event)
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    last = AuditEvent.objects.order_by("-id").first()
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_id": last.pk, "last_hash": last.hash,
                                                            "count": count})


def _peak_while_verifying(count):
    _bulk_chain(count)
    tracemalloc.start()
    report = audit.verify(page=250)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.intact and report.events == count
    return peak


def test_verification_streams_in_flat_memory():
    """~1.2 KB per event before; 8,000 more events must not cost more than a page's worth."""
    small, large = _peak_while_verifying(1000), _peak_while_verifying(9000)
    assert large - small < 300_000, (small, large)


def test_retirement_and_purge_leave_audit_events(ready_learner, coach):
    retirement.scrub_user(coach.pk)
    retirement.purge_free_text(timezone.now().date() + timedelta(days=1), apply=True)
    actions = list(AuditEvent.objects.order_by("-id").values_list("action", "subject_user_id")[:2])
    assert actions == [("records.free_text_purged", None), ("user.retired", coach.pk)]
    assert audit.verify().intact


# --- the certificate request lease ----------------------------------------------------------------

@pytest.fixture
def certification(ready_learner, coach, course_key, monkeypatch):
    with monkeypatch.context() as lost:
        lost.setattr(tasks.request_certificate, "apply_async", lambda *a, **k: None)  # the broker lost it
        api.sign_off(coach, ready_learner, course_key)
    return Certification.objects.get(learner=ready_learner)


def _age(certification, **claimed):
    past = timezone.now() - timedelta(**claimed)
    Certification.objects.filter(pk=certification.pk).update(issued_at=past, certificate_requested_at=past)


def test_a_claim_never_confirmed_is_re_sent_after_the_lease(certification, settings):
    settings.MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS = 600
    _age(certification, minutes=2)
    assert tasks.request_pending_certificates.apply().get() == 0, "the worker may still be calling the platform"
    assert CertificateRequest.objects.count() == 0
    _age(certification, minutes=11)
    assert tasks.request_pending_certificates.apply().get() == 1
    certification.refresh_from_db()
    assert certification.certificate_outcome == "requested" and certification.certificate_confirmed_at
    assert certification.certificate_attempts == 1
    assert CertificateRequest.objects.filter(outcome="generated").count() == 1
    assert tasks.request_pending_certificates.apply().get() == 0, "a confirmed request is done"
    assert tasks.request_certificate.apply(args=[certification.pk]).get() is False


def test_a_platform_failure_releases_the_claim(certification, monkeypatch):
    from sandbox.fake_platform import FakePlatform  # pylint: disable=import-outside-toplevel

    def down(self, user, course_key, allowlist=False):
        raise ConnectionError("platform down")

    monkeypatch.setattr(FakePlatform, "request_certificate", down)
    with pytest.raises(Retry):
        tasks.request_certificate.apply(args=[certification.pk], throw=True).get()
    certification.refresh_from_db()
    assert certification.certificate_requested_at is None and certification.certificate_confirmed_at is None


def test_a_revoked_certification_is_not_requested(certification, lead, ready_learner, course_key):
    _age(certification, minutes=30)
    api.revoke(lead, ready_learner, course_key, "Concerns raised.")
    assert tasks.request_pending_certificates.apply().get() == 0


# --- "one" rules are constraints ------------------------------------------------------------------

def test_one_co_rating_per_rater_and_session_is_a_database_constraint(assigned, coach, coach2, course_key,
                                                                      indicators):
    day = timezone.now().date().isoformat()
    session = Observation.objects.get(pk=api.save_observation(
        coach, assigned, course_key, {"practice_date": day, "setting": "home_visit",
                                      "ratings": ratings_for(indicators)}).observation.id)
    api.save_observation(coach2, assigned, course_key, {"co_observation_of": session.pk,
                                                         "ratings": ratings_for(indicators)})
    second = Observation(learner=assigned, observer=coach2, course_key=course_key, co_observation_of=session,
                         instrument_version=session.instrument_version, practice_date=session.practice_date,
                         setting=session.setting)
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    with pytest.raises(ValidationError, match="already rated"):
        api.save_observation(coach2, assigned, course_key, {"co_observation_of": session.pk,
                                                             "ratings": ratings_for(indicators)})


# --- evidence never cascades away -----------------------------------------------------------------

@pytest.mark.parametrize("who", ["learner", "coach"])
def test_deleting_a_user_with_evidence_is_refused_and_points_to_retirement(ready_learner, coach, course_key, who):
    api.sign_off(coach, ready_learner, course_key)
    user = ready_learner if who == "learner" else coach
    counts = (Observation.objects.count(), SignOff.objects.count(), Certification.objects.count())
    with pytest.raises(EvidenceKept, match="Retire the user"):
        user.delete()
    with pytest.raises(EvidenceKept):
        get_user_model().objects.filter(pk=user.pk).delete()
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert (Observation.objects.count(), SignOff.objects.count(), Certification.objects.count()) == counts


def test_a_user_without_evidence_can_still_be_deleted(assigned, stranger):
    stranger.delete()
    assert not get_user_model().objects.filter(username="stranger").exists()


def test_the_admin_shows_the_evidence_that_protects_a_user(client, ready_learner, django_user_model):
    from django.urls import reverse  # pylint: disable=import-outside-toplevel

    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    response = client.get(reverse("admin:auth_user_delete", args=[ready_learner.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "Cannot delete user" in page and "observation" in page
