"""
Celery tasks that keep the platform certificate in step with the certification (``api/certificate_requests.py``):
requested once a certification is issued, invalidated once it is revoked or expires. Each claims
its work first, so a duplicate or concurrent task does nothing; a platform failure releases the
claim and retries; the periodic tasks re-send whatever a lost task or a dead worker left.
"""
from celery import shared_task

from .. import api


# Names as before the modules moved: messages already queued under them still find their task.
@shared_task(bind=True, max_retries=5, default_retry_delay=60, name="miiwrap_fidelity.tasks.request_certificate")
def request_certificate(self, certification_id):
    """
    Request the platform certificate for an issued certification, effectively exactly once.

    ``api.request_platform_certificate`` claims it first and records the platform's answer.
    """
    try:
        return api.request_platform_certificate(certification_id)
    except Exception as exc:  # pylint: disable=broad-except  # the claim was released: retry later
        raise self.retry(exc=exc)


@shared_task(name="miiwrap_fidelity.tasks.request_pending_certificates")
def request_pending_certificates(older_than_minutes=10):
    """
    Periodic (celery beat): re-send the certificate requests of active certifications that were
    never claimed (the broker lost the task) or claimed and never confirmed within the lease (the
    worker died between its claim and the platform's answer).
    """
    pending = api.pending_certificate_requests(older_than_minutes)
    for certification_id in pending:
        request_certificate.delay(certification_id)
    return len(pending)


@shared_task(bind=True, max_retries=5, default_retry_delay=60,
             name="miiwrap_fidelity.certificate_sync.invalidate_certificate")
def invalidate_certificate(self, certification_id):
    """
    Invalidate the platform certificate of a revoked or expired certification, at most once.
    Returns True when the platform had a certificate and it was invalidated.
    """
    try:
        return api.invalidate_platform_certificate(certification_id)
    except Exception as exc:  # pylint: disable=broad-except  # the claim was released: retry later
        raise self.retry(exc=exc)


@shared_task(name="miiwrap_fidelity.certificate_sync.invalidate_lapsed_certificates")
def invalidate_lapsed_certificates():
    """Every 15 minutes (celery beat): send the invalidation of every revoked or expired certification not yet done."""
    pending = api.certificates_to_invalidate()
    for certification_id in pending:
        invalidate_certificate.delay(certification_id)
    return len(pending)
