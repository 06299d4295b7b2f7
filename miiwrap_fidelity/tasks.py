"""Celery tasks: asking the platform for a certificate once a certification is issued."""
import logging

from celery import shared_task

from . import api
from .platform import get_platform

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def request_certificate(self, certification_id):
    """
    Request the platform certificate for an issued certification, effectively exactly once.

    The claim is a lease (``api.claim_certificate_request``), so a duplicate or concurrent task does
    nothing; the platform's answer is recorded as the confirmation; a platform failure releases the
    claim and retries. A request sent twice (a worker that died after the platform call, before
    confirming) is harmless: generating a certificate that exists, or allowlisting twice, changes
    nothing on the platform.
    """
    claim = api.claim_certificate_request(certification_id)
    if claim is None:
        log.info("Certificate for certification %s already requested, claimed or revoked", certification_id)
        return False
    try:
        answer = get_platform().request_certificate(claim.learner, claim.course_key, allowlist=claim.allowlist)
    except Exception as exc:  # pylint: disable=broad-except
        api.release_certificate_claim(certification_id, claim)
        raise self.retry(exc=exc)
    api.confirm_certificate_request(certification_id, answer)
    return True


@shared_task
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
    except api.ValidationError:  # the policy was disabled or removed since the task was queued
        return 0


@shared_task
def resume_stopped_reevaluations():
    """Periodic (celery beat): continue the course re-evaluations whose worker stopped beating."""
    stopped = api.stopped_reevaluations()
    for course_id in stopped:
        reevaluate_course.delay(course_id, resume=True)
    return len(stopped)


@shared_task
def reevaluate_dependents(learner_id, course_id):
    """A learner's competency changed in ``course_id``: evaluate them again in later stages and the program."""
    return api.reevaluate_dependents(learner_id, course_id)


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


@shared_task
def deliver_consequences():
    """
    Periodic (every minute): deliver the consequences of status changes that are still due (the
    broker was down when the change committed, or a worker died after claiming one), ADR 0019.
    """
    return api.deliver_consequences()


@shared_task
def refresh_leader_figures(course_id):
    """Compute and keep a course's leader view figures (a whole-course aggregate: seconds on a large course)."""
    return api.refresh_leader_figures(course_id)
