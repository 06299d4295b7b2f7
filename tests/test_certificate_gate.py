"""The certificate gate and render guard, run through openedx-filters' real pipeline."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openedx_filters.learning.filters import CertificateCreationRequested, CertificateRenderStarted

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Certification, CompetencyPolicy
from sandbox import filters as other_plugin
from sandbox.fake_platform import FakePlatform
from sandbox.models import CertificateRequest

from conftest import run_gate

pytestmark = pytest.mark.django_db(transaction=True)


def test_course_without_policy_passes_unchanged(learner):
    other = api.parse_course_key("course-v1:Stock+Course+1")
    assert run_gate(learner, other) == (learner, other, "verified", "downloadable", 0.9, "batch")


def test_disabled_policy_behaves_like_stock(policy, learner, course_key):
    CompetencyPolicy.objects.filter(pk=policy.pk).update(enabled=False)
    assert run_gate(learner, course_key)[0] == learner


def test_learner_without_observations_is_prevented_with_a_reason(policy, learner, course_key):
    with pytest.raises(CertificateCreationRequested.PreventCertificateCreation) as caught:
        run_gate(learner, course_key)
    assert "0 of 3 qualifying observations" in str(caught.value)
    assert "coach has not signed off" in str(caught.value)


def test_other_plugins_step_still_runs_before_ours(policy, learner, course_key):
    other_plugin.CALLS.clear()
    with pytest.raises(CertificateCreationRequested.PreventCertificateCreation):
        run_gate(learner, course_key)
    assert other_plugin.CALLS == [(learner.pk, str(course_key))]


def test_not_enough_observations_then_signoff_requests_certificate_once(ready_learner, coach, course_key, observe):
    with pytest.raises(CertificateCreationRequested.PreventCertificateCreation) as caught:
        run_gate(ready_learner, course_key)
    assert "coach has not signed off" in str(caught.value)
    api.sign_off(coach, ready_learner, course_key)
    api.sign_off(coach, ready_learner, course_key)  # the same evidence again changes nothing
    requests = CertificateRequest.objects.filter(user=ready_learner)
    assert [r.outcome for r in requests] == ["generated"]
    assert requests[0].allowlisted is False
    assert run_gate(ready_learner, course_key)[0] == ready_learner
    assert Certification.objects.filter(learner=ready_learner).count() == 1


def test_replace_grade_mode_allowlists_before_requesting(ready_learner, coach, lead, course_key, policy):
    api.save_policy(lead, course_key, mode=CompetencyPolicy.REPLACE_GRADE)
    api.sign_off(coach, ready_learner, course_key)
    assert CertificateRequest.objects.get(user=ready_learner).allowlisted is True


def test_gate_uses_at_most_two_queries_whatever_the_history(ready_learner, coach, course_key, observe):
    def count():
        with CaptureQueriesContext(connection) as queries:
            api.gate_decision(ready_learner, course_key)
        return len(queries)

    few = count()
    for days in range(30, 60):
        observe(coach, ready_learner, days_ago=days)
    assert few <= 2 and count() <= 2
    api.sign_off(coach, ready_learner, course_key)
    assert count() <= 2


def test_expired_certification_blocks_and_says_so(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    Certification.objects.filter(learner=ready_learner).update(expires_at=timezone.now() - timedelta(days=1))
    result = api.gate_decision(ready_learner, course_key)
    assert not result.allowed and result.reasons[0].code == "certification_expired"


def test_gate_fails_closed_on_an_internal_error(policy, learner, course_key, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(api, "gate_decision", broken)
    with pytest.raises(CertificateCreationRequested.PreventCertificateCreation):
        run_gate(learner, course_key)


def render(user, course_key):
    return CertificateRenderStarted.run_filter(
        context={"accomplishment_user_id": user.pk, "course_id": str(course_key)}, custom_template=None
    )


def test_render_guard_refuses_revoked_and_expired_certifications(ready_learner, coach, course_key):
    assert render(ready_learner, course_key)[0]["accomplishment_user_id"] == ready_learner.pk
    api.sign_off(coach, ready_learner, course_key)
    assert render(ready_learner, course_key)[1] is None
    api.revoke(coach, ready_learner, course_key, "Practice no longer meets the standard.")
    with pytest.raises(CertificateRenderStarted.RenderAlternativeInvalidCertificate):
        render(ready_learner, course_key)


def test_render_guard_refuses_expired(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CertificateRenderStarted.RenderAlternativeInvalidCertificate):
        render(ready_learner, course_key)


def test_failed_platform_call_releases_the_claim_for_a_retry(ready_learner, coach, course_key, monkeypatch):
    def unavailable(self, user, course_key, allowlist=False):
        raise ConnectionError("LMS busy")

    monkeypatch.setattr(FakePlatform, "request_certificate", unavailable)
    api.sign_off(coach, ready_learner, course_key)  # the approval stands even though the LMS was busy
    certification = Certification.objects.get(learner=ready_learner)
    assert certification.certificate_requested_at is None
    monkeypatch.undo()
    from miiwrap_fidelity.tasks import request_certificate, request_pending_certificates  # pylint: disable=all

    assert request_pending_certificates.apply(kwargs={"older_than_minutes": 0}).get() == 1
    assert request_certificate.apply(args=[certification.pk]).get() is False
    assert CertificateRequest.objects.filter(user=ready_learner, outcome="generated").count() == 1


def test_certificate_request_waits_the_configured_countdown(ready_learner, coach, course_key, settings, monkeypatch):
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    sent = []
    monkeypatch.setattr(tasks.request_certificate, "apply_async", lambda **kwargs: sent.append(kwargs))
    settings.MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN = 30
    api.sign_off(coach, ready_learner, course_key)
    assert sent == [{"args": [Certification.objects.get().pk], "countdown": 30}]
