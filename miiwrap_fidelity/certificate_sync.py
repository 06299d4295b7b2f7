"""
The platform certificate follows the certification.

Revoked or expired: the learner's platform certificate is invalidated (``platform.invalidate_certificate``),
so the learner dashboard, the Progress page, Credentials and badges stop showing it, not only our
render guard. Certified again: ``tasks.request_certificate`` asks for it again, and the adapter first
lifts our own invalidation (the platform refuses to generate over an active one).

Like the certificate request, the invalidation is a side effect outside our database: a conditional
UPDATE claims it (``certificate_invalidated_at``), a failure releases the claim, and the periodic
``invalidate_lapsed_certificates`` task re-sends whatever is left, and is also what notices expiry
(every 15 minutes, Tutor's beat schedule). See docs/decisions/0008-open-edx-ecosystem-seams.rst.
"""
import logging

from celery import shared_task
from django.utils import timezone

from . import competency
from .models import Certification
from .platform import get_platform
from .time_selectors import active_certification, lapsed_certification

log = logging.getLogger(__name__)



_lapsed, _active = lapsed_certification, active_certification  # competency's rules, as SQL


def _pending(now):
    """Lapsed certifications whose platform certificate was requested and not yet invalidated."""
    return Certification.objects.filter(_lapsed(now), certificate_requested_at__isnull=False,
                                        certificate_invalidated_at__isnull=True)


def _note(certification):
    # Ids and codes only: the revoker's reason is free text and stays in our records.
    if certification.revoked_at is not None:
        return f"competency revoked (certification {certification.pk})"
    return f"certification {certification.pk} expired"


def _release(certification_id):
    Certification.objects.filter(pk=certification_id).update(certificate_invalidated_at=None)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def invalidate_certificate(self, certification_id):
    """
    Invalidate the platform certificate of a revoked or expired certification, at most once.

    Returns True when the platform had a certificate and it was invalidated. A certification that a
    newer, active one superseded (recertification) is only marked: the platform certificate now
    stands for the newer one.
    """
    now = timezone.now()
    claimed = _pending(now).filter(pk=certification_id).update(certificate_invalidated_at=now)
    if not claimed:
        return False
    certification = Certification.objects.select_related("learner", "revoked_by__actor").get(pk=certification_id)
    if Certification.objects.filter(_active(now), learner_id=certification.learner_id,
                                    course_key=certification.course_key).exists():
        log.info("Certification %s lapsed but a newer one is active: certificate kept", certification_id)
        return False
    revoker = certification.revoked_by.actor if certification.revoked_by_id else None
    try:
        invalidated = get_platform().invalidate_certificate(
            certification.learner, certification.course_key, _note(certification), invalidated_by=revoker)
    except Exception as exc:  # pylint: disable=broad-except
        _release(certification_id)
        raise self.retry(exc=exc)
    if not invalidated and competency.certificate_may_still_be_generated(certification.certificate_requested_at, now):
        _release(certification_id)  # may still be generating: the periodic task looks again
    return invalidated


@shared_task
def invalidate_lapsed_certificates():
    """Send the invalidation of every revoked or expired certification not yet done; run it every 15 minutes."""
    pending = list(_pending(timezone.now()).values_list("pk", flat=True))
    for certification_id in pending:
        invalidate_certificate.delay(certification_id)
    return len(pending)


def queue_invalidations(consequence):
    """
    The ``certificate_invalidation`` consequence of a revocation or expiry (outbox, ADR 0019):
    queue the invalidation of the learner's lapsed certificates; raises when the broker is down, so
    the consequence stays due (``invalidate_lapsed_certificates`` also finds them).
    """
    for certification_id in _pending(timezone.now()).filter(
            learner_id=consequence.learner_id, course_key=consequence.course_key).values_list("pk", flat=True):
        invalidate_certificate.delay(certification_id)


def connect():
    from . import api, competency  # pylint: disable=import-outside-toplevel

    api.register_consequence_handler(competency.INVALIDATION, queue_invalidations)
