"""
The platform certificate request of an issued certification, as a lease (ADR 0006): claimed by a
conditional UPDATE, confirmed with the platform's answer, re-sent when a claim was never confirmed.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from ..models import Certification, CompetencyPolicy, CourseReevaluation
from .. import competency, reevaluation, time_selectors

OUTCOME_REQUESTED, OUTCOME_PREVENTED = "requested", "prevented"


def lease_seconds():
    """How long a claimed, unconfirmed certificate request stays with its worker before being re-sent
    (``competency.CERTIFICATE_LEASE`` unless the operator's setting says otherwise)."""
    return int(getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS",
                       competency.CERTIFICATE_LEASE.total_seconds()))


@dataclass(frozen=True)
class CertificateClaim:
    """A claimed request: what the platform is asked for, and the claim's moment (to release it)."""

    learner: object  # the user, as the platform's certificate API takes it
    course_key: object
    allowlist: bool
    claimed_at: datetime


def claim_certificate_request(certification_id, now=None):
    """
    Claim the request (committed on its own) when it is unclaimed, or claimed longer ago than the
    lease and never confirmed (its worker died); None when it is not this caller's to send.
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


def release_certificate_claim(certification_id, claim):
    """The platform failed: give the claim back (only this claim), so a retry may take it."""
    Certification.objects.filter(pk=certification_id, certificate_requested_at=claim.claimed_at).update(
        certificate_requested_at=None)


def confirm_certificate_request(certification_id, answer):
    """
    Record the platform's answer: its own word (``platform.REQUESTED``, ``NOT_PASSING``,
    ``NOT_ALLOWED`` ...), or True / False from an adapter that answers only whether it generated.
    Any answer is final: a refusal is not retried (it does not change by itself).
    """
    outcome = answer if isinstance(answer, str) else OUTCOME_PREVENTED if answer is False else OUTCOME_REQUESTED
    Certification.objects.filter(pk=certification_id).update(certificate_confirmed_at=timezone.now(),
                                                              certificate_outcome=outcome[:32])


def pending_certificate_requests(older_than_minutes=10, now=None):
    """
    Ids of active certifications whose request was never claimed (the broker lost the task) or
    claimed and never confirmed within the lease (the worker died).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    return list(Certification.objects.filter(
        Q(certificate_requested_at__isnull=True, issued_at__lte=cutoff)
        | Q(certificate_requested_at__lte=now - timedelta(seconds=lease_seconds())),
        time_selectors.active_certification(now),  # an expired one is not requested any more either
        certificate_confirmed_at__isnull=True,
    ).values_list("pk", flat=True))


def stopped_reevaluations(now=None):
    """
    Course ids whose re-evaluation stopped beating before it finished, failed (a database error
    the batch's own retries did not outlast), or was requested and never started (the broker lost
    the task), to resume from where it got to: a run never stays stuck until an operator notices.
    """
    now = now or timezone.now()
    unfinished = CourseReevaluation.objects.filter(finished_at__isnull=True)
    # Waiting past the heartbeat's silence: the broker lost the task (the request did not fail).
    lost = now - reevaluation.stale_after()
    return [str(run.course_key) for run in unfinished
            if reevaluation.state_of(run, now) in (reevaluation.STOPPED, reevaluation.FAILED)
            and reevaluation.may_resume(run)
            or reevaluation.state_of(run, now) == reevaluation.WAITING and run.requested_at <= lost]
