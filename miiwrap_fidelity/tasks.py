"""Celery tasks: asking the platform for a certificate once a certification is issued."""
import logging

from celery import shared_task
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import evaluation
from .models import Certification, CompetencyPolicy
from .platform import get_platform

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def request_certificate(self, certification_id):
    """
    Request the platform certificate for an issued certification, exactly once.

    The claim (setting ``certificate_requested_at``) is a conditional UPDATE, so a duplicate or
    retried task does nothing; a platform failure releases the claim and retries.
    """
    now = timezone.now()
    claimed = Certification.objects.filter(
        pk=certification_id, certificate_requested_at__isnull=True, revoked_at__isnull=True
    ).update(certificate_requested_at=now)
    if not claimed:
        log.info("Certificate for certification %s already requested or revoked", certification_id)
        return False
    certification = Certification.objects.select_related("learner", "policy").get(pk=certification_id)
    try:
        get_platform().request_certificate(
            certification.learner, certification.course_key,
            allowlist=certification.policy.mode == CompetencyPolicy.REPLACE_GRADE,
        )
    except Exception as exc:  # pylint: disable=broad-except
        Certification.objects.filter(pk=certification_id).update(certificate_requested_at=None)
        raise self.retry(exc=exc)
    return True


@shared_task
def request_pending_certificates(older_than_minutes=10):
    """Re-send requests for active certifications whose certificate was never requested."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    pending = Certification.objects.filter(
        certificate_requested_at__isnull=True, revoked_at__isnull=True, issued_at__lte=cutoff
    ).values_list("pk", flat=True)
    for certification_id in pending:
        request_certificate.delay(certification_id)
    return len(pending)


@shared_task(bind=True)
def reevaluate_course(self, course_id):
    """
    Re-evaluate every learner of a course after its policy changed, reporting progress (to the
    result backend, and to staff through ``api.reevaluation_progress``).
    """
    from . import api  # pylint: disable=import-outside-toplevel

    def progress(done, total):
        if done % 100 == 0 or done == total:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    try:
        return api.reevaluate_course(course_id, progress)
    except ValidationError:  # the policy was disabled or removed since the task was queued
        return 0


@shared_task
def expire_certifications():
    """
    Mark certifications that reached their expiry: the learner's status becomes "expired" and a
    ``certification.expired`` event is sent once. Run it daily (celery beat).
    """
    from . import events  # pylint: disable=import-outside-toplevel
    from .models import LearnerStatus  # pylint: disable=import-outside-toplevel

    now = timezone.now()
    lapsed = LearnerStatus.objects.filter(state=LearnerStatus.CERTIFIED, certification__expires_at__lte=now)
    count = 0
    for status in lapsed.select_related("certification", "certification__policy__instrument_version"):
        certification = status.certification
        with transaction.atomic():
            evaluation.refresh(certification.policy, status.learner_id, status.course_key, now)
            events.certification_expired(certification)
        count += 1
    return count


@shared_task
def refresh_stale_statuses(limit=5000):
    """
    Store the status of learners whose decision time alone has changed (an observation left the
    window, a certification expired). Reads decide such rows again in memory but never write, so
    this keeps the lists and the gate current. Run it hourly (celery beat).
    """
    from .models import LearnerStatus  # pylint: disable=import-outside-toplevel

    now = timezone.now()
    stale = LearnerStatus.objects.filter(stale_after__lte=now).values_list("learner_id", "course_key")[:limit]
    policies = {}
    count = 0
    for learner_id, course_key in stale:
        if course_key not in policies:
            policies[course_key] = CompetencyPolicy.objects.filter(course_key=course_key, enabled=True).first()
        if policies[course_key] is None:
            continue
        with transaction.atomic():
            evaluation.refresh(policies[course_key], learner_id, course_key, now)
        count += 1
    return count
