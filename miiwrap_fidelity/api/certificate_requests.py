"""
The platform certificate of a certification: requested once it is issued, as a lease (ADR 0006):
claimed by a conditional UPDATE, confirmed with the platform's answer, re-sent when a claim was
never confirmed; invalidated the same way once the certification is revoked or expires.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..records import reevaluation_progress as reevaluation
from ..records import time_selectors
from ..records.models import Certification, CompetencyPolicy, CourseReevaluation
from ..rules import competency
from ..seams.platform import get_platform

log = logging.getLogger(__name__)
OUTCOME_REQUESTED, OUTCOME_PREVENTED = "requested", "prevented"


def lease_seconds() -> int:
    """
    How long a claimed, unconfirmed certificate request stays with its worker before being re-sent.

    Returns:
        Seconds: ``MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS`` when the operator sets it, else
        ``competency.CERTIFICATE_LEASE``.
    """
    return int(getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS",
                       competency.CERTIFICATE_LEASE.total_seconds()))


@dataclass(frozen=True)
class CertificateClaim:
    """A claimed request: what the platform is asked for, and the claim's moment (to release it)."""

    learner: object  # the user, as the platform's certificate API takes it
    course_key: object
    allowlist: bool
    claimed_at: datetime


def claim_certificate_request(certification_id: int, now: datetime | None = None) -> CertificateClaim | None:
    """
    Claim the request (committed on its own) when it is unclaimed, or claimed longer ago than the
    lease and never confirmed (its worker died).

    Args:
        certification_id: the certification whose platform certificate is to request.
        now: the time of the claim (now when None).

    Returns:
        The claim, or None when the request is not this caller's to send.
    """
    now = now or timezone.now()
    claimable = Q(certificate_requested_at__isnull=True) | Q(
        certificate_requested_at__lte=now - timedelta(seconds=lease_seconds()))
    claimed = Certification.objects.filter(claimable, pk=certification_id, certificate_confirmed_at__isnull=True,
                                           revoked_at__isnull=True).update(
        certificate_requested_at=now, certificate_attempts=F("certificate_attempts") + 1)
    if not claimed:
        return None
    certification = Certification.objects.select_related("learner", "policy").get(pk=certification_id)
    return CertificateClaim(certification.learner, certification.course_key,
                            certification.policy.mode == CompetencyPolicy.REPLACE_GRADE, now)


def release_certificate_claim(certification_id: int, claim: CertificateClaim) -> None:
    """
    The platform failed: give the claim back (only this claim), so a retry may take it.

    Args:
        certification_id: the certification the claim was for.
        claim: the claim to give back (a newer claim of another worker is left alone).
    """
    Certification.objects.filter(pk=certification_id, certificate_requested_at=claim.claimed_at).update(
        certificate_requested_at=None)


def confirm_certificate_request(certification_id: int, answer: str | bool) -> None:
    """
    Record the platform's answer. Any answer is final: a refusal is not retried (it does not
    change by itself).

    Args:
        certification_id: the certification the request was for.
        answer: the platform's own word (``platform.REQUESTED``, ``NOT_PASSING``, ``NOT_ALLOWED``
            ...), or True / False from an adapter that answers only whether it generated.
    """
    outcome = answer if isinstance(answer, str) else OUTCOME_PREVENTED if answer is False else OUTCOME_REQUESTED
    Certification.objects.filter(pk=certification_id).update(certificate_confirmed_at=timezone.now(),
                                                              certificate_outcome=outcome[:32])


def request_platform_certificate(certification_id: int) -> bool:
    """
    Ask the platform for an issued certification's certificate, effectively exactly once: claimed
    first (a duplicate or concurrent caller does nothing: False), the platform's answer recorded as
    the confirmation (True). When the platform call fails, the claim is released and its error raised,
    for the caller to retry. A request sent twice (a worker that died after the platform call, before
    confirming) is harmless: generating a certificate that exists, or allowlisting twice, changes nothing.

    Args:
        certification_id: the issued certification.

    Returns:
        True when this call asked the platform; False when it was not this caller's to send.

    Raises:
        Exception: whatever the platform's call raised (the claim released first).
    """
    claim = claim_certificate_request(certification_id)
    if claim is None:
        log.info("Certificate for certification %s already requested, claimed or revoked", certification_id)
        return False
    try:
        answer = get_platform().request_certificate(claim.learner, claim.course_key, allowlist=claim.allowlist)
    except Exception:
        release_certificate_claim(certification_id, claim)
        raise
    confirm_certificate_request(certification_id, answer)
    return True


def pending_certificate_requests(older_than_minutes: int = 10, now: datetime | None = None) -> list[int]:
    """
    Active certifications whose platform certificate request was never claimed (the broker lost
    the task) or claimed and never confirmed within the lease (the worker died).

    Args:
        older_than_minutes: only unclaimed requests of certifications issued at least this long ago (their task had
            its chance to run).
        now: the time to measure from (now when None).

    Returns:
        Their ids.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    return list(Certification.objects.filter(
        Q(certificate_requested_at__isnull=True, issued_at__lte=cutoff)
        | Q(certificate_requested_at__lte=now - timedelta(seconds=lease_seconds())),
        time_selectors.active_certification(now),  # an expired one is not requested any more either
        certificate_confirmed_at__isnull=True,
    ).values_list("pk", flat=True))


def stopped_reevaluations(now: datetime | None = None) -> list[str]:
    """
    Course ids whose re-evaluation stopped beating before it finished, failed (a database error
    the batch's own retries did not outlast), or was requested and never started (the broker lost
    the task), to resume from where it got to: a run never stays stuck until an operator notices.

    Args:
        now: the time to measure from (now when None).

    Returns:
        The course ids (strings).
    """
    now = now or timezone.now()
    unfinished = CourseReevaluation.objects.filter(finished_at__isnull=True)
    # Waiting past the heartbeat's silence: the broker lost the task (the request did not fail).
    lost = now - reevaluation.stale_after()
    return [str(run.course_key) for run in unfinished
            if reevaluation.state_of(run, now) in (reevaluation.STOPPED, reevaluation.FAILED)
            and reevaluation.may_resume(run)
            or reevaluation.state_of(run, now) == reevaluation.WAITING and run.requested_at <= lost]


# --- the platform certificate follows the certification -----------------------------------------
# Revoked or expired: the learner's platform certificate is invalidated (``platform.invalidate_certificate``),
# so the learner dashboard, the Progress page, Credentials and badges stop showing it, not only our
# render guard. Certified again: the certificate request asks for it again, and the adapter first
# lifts our own invalidation (the platform refuses to generate over an active one). Like the request,
# the invalidation is a side effect outside our database: a conditional UPDATE claims it
# (``certificate_invalidated_at``), a failure releases the claim, and the periodic task re-sends
# whatever is left, which is also what notices expiry (ADR 0008).

@dataclass(frozen=True)
class InvalidationClaim:
    """A claimed invalidation: whose certificate, the note the platform keeps (ids only), who revoked."""

    learner: object  # the user, as the platform's certificate API takes it
    course_key: object
    note: str
    invalidated_by: object
    requested_at: datetime
    claimed_at: datetime


def _lapsed_unsynced(now: datetime) -> Any:
    """Lapsed certifications whose platform certificate was requested and not yet invalidated."""
    return Certification.objects.filter(time_selectors.lapsed_certification(now), certificate_requested_at__isnull=False,
                                        certificate_invalidated_at__isnull=True)


def certificates_to_invalidate(learner_id: int | None = None, course_key: Any = None,
                               now: datetime | None = None) -> list[int]:
    """
    Revoked or expired certifications whose platform certificate is still to invalidate.

    Args:
        learner_id: only this learner's (all learners' when None).
        course_key: only this course's (every course's when None).
        now: the time that decides what has expired (now when None).

    Returns:
        Their ids.
    """
    pending = _lapsed_unsynced(now or timezone.now())
    if learner_id is not None:
        pending = pending.filter(learner_id=learner_id, course_key=course_key)
    return list(pending.values_list("pk", flat=True))


def _invalidation_note(certification: Certification) -> str:
    # Ids and codes only: the revoker's reason is free text and stays in our records.
    if certification.revoked_at is not None:
        return f"competency revoked (certification {certification.pk})"
    return f"certification {certification.pk} expired"


def claim_certificate_invalidation(certification_id: int, now: datetime | None = None) -> InvalidationClaim | None:
    """
    Claim the invalidation of a lapsed certification's platform certificate (at most once).

    Args:
        certification_id: the revoked or expired certification.
        now: the time of the claim (now when None).

    Returns:
        The claim; None when it is not this caller's to send, or when a newer, active
        certification superseded it (recertification: the platform certificate now stands for the
        newer one; only marked).
    """
    now = now or timezone.now()
    if not _lapsed_unsynced(now).filter(pk=certification_id).update(certificate_invalidated_at=now):
        return None
    certification = Certification.objects.select_related("learner", "revoked_by__actor").get(pk=certification_id)
    if Certification.objects.filter(time_selectors.active_certification(now), learner_id=certification.learner_id,
                                    course_key=certification.course_key).exists():
        log.info("Certification %s lapsed but a newer one is active: certificate kept", certification_id)
        return None
    revoker = certification.revoked_by.actor if certification.revoked_by_id else None
    return InvalidationClaim(certification.learner, certification.course_key, _invalidation_note(certification),
                             revoker, certification.certificate_requested_at, now)


def release_certificate_invalidation(certification_id: int) -> None:
    """
    The platform failed, or may still be generating the certificate: the periodic task tries again.

    Args:
        certification_id: the certification whose invalidation claim to give back.
    """
    Certification.objects.filter(pk=certification_id).update(certificate_invalidated_at=None)


def invalidate_platform_certificate(certification_id: int) -> bool:
    """
    Invalidate the platform certificate of a revoked or expired certification, at most once: True
    when the platform had one and invalidated it. When the platform call fails, the claim is released
    and its error raised, for the caller to retry. When the platform had none while it may still be
    generating one, the claim is released too, and the periodic task looks again.

    Args:
        certification_id: the revoked or expired certification.

    Returns:
        True when the platform invalidated a certificate.

    Raises:
        Exception: whatever the platform's call raised (the claim released first).
    """
    claim = claim_certificate_invalidation(certification_id)
    if claim is None:
        return False
    try:
        invalidated = get_platform().invalidate_certificate(claim.learner, claim.course_key, claim.note,
                                                            invalidated_by=claim.invalidated_by)
    except Exception:
        release_certificate_invalidation(certification_id)
        raise
    if not invalidated and competency.certificate_may_still_be_generated(claim.requested_at, claim.claimed_at):
        release_certificate_invalidation(certification_id)
    return invalidated
