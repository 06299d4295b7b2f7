"""The platform certificate follows the certification: revoked or expired invalidates it, certified again requests it."""
from datetime import timedelta

import pytest
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Certification
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.tasks import certificates as certificate_sync
from sandbox.fake_platform import FakePlatform
from sandbox.models import CertificateRequest

pytestmark = pytest.mark.django_db(transaction=True)


def outcomes(user):
    return [request.outcome for request in CertificateRequest.objects.filter(user=user).order_by("id")]


def test_revocation_invalidates_the_platform_certificate_with_the_revoker(ready_learner, coach, course_key,
                                                                           monkeypatch):
    seen = []
    real = FakePlatform.invalidate_certificate

    def spy(self, user, course_key, note, invalidated_by=None):
        seen.append((user.pk, note, invalidated_by.pk))
        return real(self, user, course_key, note, invalidated_by)

    monkeypatch.setattr(FakePlatform, "invalidate_certificate", spy)
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(coach, ready_learner, course_key, "Private reason that stays with us")
    certification = Certification.objects.get(learner=ready_learner)
    assert outcomes(ready_learner) == ["generated", "invalidated"]
    assert seen == [(ready_learner.pk, f"competency revoked (certification {certification.pk})", coach.pk)]
    assert certification.certificate_invalidated_at is not None
    assert "Private reason" not in CertificateRequest.objects.get(outcome="invalidated").message
    # done once: the sweep and a repeated task change nothing
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 0
    assert certificate_sync.invalidate_certificate.apply(args=[certification.pk]).get() is False
    assert outcomes(ready_learner) == ["generated", "invalidated"]


def test_recertification_requests_the_certificate_again(ready_learner, coach, course_key, observe):
    api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(issued_at=timezone.now() - timedelta(days=30))
    api.revoke(coach, ready_learner, course_key, "Drifted")
    for days in (20, 10, 2):  # new evidence after the revoked certification
        observe(coach, ready_learner, days_ago=days)
    api.sign_off(coach, ready_learner, course_key)
    assert outcomes(ready_learner) == ["generated", "invalidated", "generated"]
    assert Certification.objects.filter(learner=ready_learner, revoked_at__isnull=True).count() == 1


def test_expiry_is_found_by_the_periodic_task(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 0
    Certification.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 1
    assert outcomes(ready_learner) == ["generated", "invalidated"]
    assert "expired" in CertificateRequest.objects.get(outcome="invalidated").message
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 0


def test_an_expired_certification_renewed_in_time_keeps_the_certificate(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    old = Certification.objects.get(learner=ready_learner)
    newer = Certification.objects.create(course_key=old.course_key, learner=ready_learner, policy=old.policy,
                                         issued_at=timezone.now(), expires_at=timezone.now() + timedelta(days=300),
                                         evidence_digest=old.evidence_digest, certificate_requested_at=timezone.now())
    Certification.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 1
    assert outcomes(ready_learner) == ["generated"]
    assert Certification.objects.get(pk=old.pk).certificate_invalidated_at is not None  # handled, not retried
    assert Certification.objects.get(pk=newer.pk).certificate_invalidated_at is None


def test_a_failing_platform_releases_the_claim_and_the_sweep_retries(ready_learner, coach, course_key, monkeypatch):
    def unavailable(self, user, course_key, note, invalidated_by=None):
        raise ConnectionError("LMS busy")

    api.sign_off(coach, ready_learner, course_key)
    monkeypatch.setattr(FakePlatform, "invalidate_certificate", unavailable)
    api.revoke(coach, ready_learner, course_key, "Drifted")  # the revocation stands
    assert Certification.objects.get(learner=ready_learner).certificate_invalidated_at is None
    monkeypatch.undo()
    assert certificate_sync.invalidate_lapsed_certificates.apply().get() == 1
    assert outcomes(ready_learner) == ["generated", "invalidated"]


def test_a_certificate_still_generating_is_looked_at_again(ready_learner, coach, course_key):
    """The platform generates in a delayed task: 'no certificate yet' is not believed at once."""
    api.sign_off(coach, ready_learner, course_key)
    CertificateRequest.objects.all().delete()  # requested, not generated yet
    api.revoke(coach, ready_learner, course_key, "Drifted")
    certification = Certification.objects.get(learner=ready_learner)
    assert certification.certificate_invalidated_at is None
    Certification.objects.update(certificate_requested_at=timezone.now() - competency.CERTIFICATE_GENERATION_GRACE
                                 - timedelta(minutes=1))
    assert certificate_sync.invalidate_certificate.apply(args=[certification.pk]).get() is False
    assert Certification.objects.get(pk=certification.pk).certificate_invalidated_at is not None


def test_revoking_an_approval_without_certification_touches_no_certificate(assigned, ready_learner, coach, lead,
                                                                           course_key):
    api.save_policy(lead, course_key, require_lead_signoff=True)
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(coach, ready_learner, course_key, "Not yet")
    assert outcomes(ready_learner) == []


def test_a_refusal_is_recorded_as_the_platforms_answer_and_not_sent_again(ready_learner, coach, course_key,
                                                                           monkeypatch):
    """A filter's refusal (CertificateGenerationNotAllowed) does not change by itself: no retries, no re-sends."""
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    asked = []
    monkeypatch.setattr(FakePlatform, "request_certificate",
                        lambda self, user, key, allowlist=False: asked.append(user.pk) or "not_allowed")
    api.sign_off(coach, ready_learner, course_key)
    certification = Certification.objects.get(learner=ready_learner)
    tasks.request_certificate.apply(args=[certification.pk])
    certification.refresh_from_db()
    assert certification.certificate_outcome == "not_allowed" and certification.certificate_confirmed_at
    later = timezone.now() + timedelta(hours=2)
    assert certification.pk not in api.pending_certificate_requests(now=later)
    assert len(asked) == 1
