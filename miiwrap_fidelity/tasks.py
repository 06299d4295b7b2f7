"""Celery tasks: asking the platform for a certificate once a certification is issued."""
import logging

from celery import shared_task
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone

from . import api
from .models import Certification, CompetencyPolicy
from .platform import get_platform

log = logging.getLogger(__name__)

#: A claimed certificate request not confirmed within this many seconds is re-sent by
#: ``request_pending_certificates`` (setting ``MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS``).
DEFAULT_LEASE_SECONDS = 600
OUTCOME_REQUESTED, OUTCOME_PREVENTED = "requested", "prevented"


def lease_seconds():
    """How long a claimed, unconfirmed certificate request stays with its worker before being re-sent."""
    return int(getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def request_certificate(self, certification_id):
    """
    Request the platform certificate for an issued certification, effectively exactly once.

    The claim is a lease: a conditional UPDATE (committed on its own) takes a request that is
    unclaimed, or claimed longer ago than the lease and never confirmed (its worker died), so a
    duplicate or concurrent task does nothing. The platform's answer is recorded as the
    confirmation; a platform failure releases the claim and retries. A request sent twice (a worker
    that died after the platform call, before confirming) is harmless: generating a certificate
    that exists, or allowlisting twice, changes nothing on the platform.
    """
    now = timezone.now()
    claimable = Q(certificate_requested_at__isnull=True) | Q(
        certificate_requested_at__lte=now - timedelta(seconds=lease_seconds()))
    claimed = Certification.objects.filter(claimable, pk=certification_id, certificate_confirmed_at__isnull=True,
                                           revoked_at__isnull=True).update(
        certificate_requested_at=now, certificate_attempts=F("certificate_attempts") + 1)
    if not claimed:
        log.info("Certificate for certification %s already requested, claimed or revoked", certification_id)
        return False
    certification = Certification.objects.select_related("learner", "policy").get(pk=certification_id)
    try:
        answer = get_platform().request_certificate(
            certification.learner, certification.course_key,
            allowlist=certification.policy.mode == CompetencyPolicy.REPLACE_GRADE,
        )
    except Exception as exc:  # pylint: disable=broad-except
        Certification.objects.filter(pk=certification_id, certificate_requested_at=now).update(
            certificate_requested_at=None)
        raise self.retry(exc=exc)
    Certification.objects.filter(pk=certification_id).update(
        certificate_confirmed_at=timezone.now(),
        certificate_outcome=OUTCOME_PREVENTED if answer is False else OUTCOME_REQUESTED)
    return True


@shared_task
def request_pending_certificates(older_than_minutes=10):
    """
    Periodic (celery beat): re-send the certificate requests of active certifications that were
    never claimed (the broker lost the task) or claimed and never confirmed within the lease (the
    worker died between its claim and the platform's answer).
    """
    now = timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    pending = list(Certification.objects.filter(
        Q(certificate_requested_at__isnull=True, issued_at__lte=cutoff)
        | Q(certificate_requested_at__lte=now - timedelta(seconds=lease_seconds())),
        certificate_confirmed_at__isnull=True, revoked_at__isnull=True,
    ).values_list("pk", flat=True))
    for certification_id in pending:
        request_certificate.delay(certification_id)
    return len(pending)


@shared_task(bind=True)
def reevaluate_course(self, course_id, resume=False):
    """
    Re-evaluate every learner of a course after its policy changed, reporting progress (to the
    result backend, and to staff through ``api.reevaluation_progress``); ``resume`` continues a
    run that stopped.
    """
    def progress(done, total):
        if done % 100 == 0 or done == total:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    try:
        return api.reevaluate_course(course_id, progress, resume=resume)
    except ValidationError:  # the policy was disabled or removed since the task was queued
        return 0


@shared_task
def resume_stopped_reevaluations():
    """Periodic (celery beat): continue the course re-evaluations whose worker stopped beating."""
    from . import reevaluation  # pylint: disable=import-outside-toplevel
    from .models import CourseReevaluation  # pylint: disable=import-outside-toplevel

    now = timezone.now()
    unfinished = CourseReevaluation.objects.filter(started_at__isnull=False, finished_at__isnull=True,
                                                   failed_at__isnull=True)
    stopped = [str(run.course_key) for run in unfinished if reevaluation.state_of(run, now) == reevaluation.STOPPED]
    for course_id in stopped:
        reevaluate_course.delay(course_id, resume=True)
    return len(stopped)


@shared_task
def expire_certifications():
    """
    Mark certifications that reached their expiry: the learner's status becomes "expired" and a
    ``certification.expired`` event is sent once. Run it daily (celery beat).
    """
    return api.expire_certifications()


@shared_task
def refresh_stale_statuses(limit=5000):
    """
    Store the status of learners whose decision time alone has changed (an observation left the
    window, a certification expired). Reads decide such rows again in memory but never write, so
    this keeps the lists and the gate current. Run it hourly (celery beat).
    """
    return api.refresh_stale_statuses(limit)
