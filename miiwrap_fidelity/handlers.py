"""
Receivers: what happens when our signals or the platform's fire (an entry point, like views and tasks).

The plugin's ``signals_config`` connects ``emit_competency_event`` to ``signals.competency_changed``
and ``enrollment_created`` / ``unenrollment_completed`` to openedx-events'
``COURSE_ENROLLMENT_CREATED`` / ``COURSE_UNENROLLMENT_COMPLETED``. ``connect_internal_receivers``
(called from ``AppConfig.ready`` in the LMS and Studio alike) connects the receivers that queue our
own Celery tasks, and the platform's retirement signals where the platform defines them.
"""
import logging

from . import api, certificate_sync, competency, events, notifications, tasks
from .platform import get_platform
from .signals import certification_issued, competency_changed, course_reevaluation_requested

log = logging.getLogger(__name__)


def emit_competency_event(sender, learner_id, course_key, state, cause, **kwargs):  # pylint: disable=unused-argument
    """Send a tracking event (ids and codes only, never free text)."""
    events.send("competency.changed", {"user_id": learner_id, "course_id": course_key, "state": state,
                                       "cause": cause})


def enrollment_created(sender, enrollment=None, **kwargs):  # pylint: disable=unused-argument
    """
    ``COURSE_ENROLLMENT_CREATED`` (openedx-events): a learner enrolled in a course with a competency
    policy gets a status row at once, so course staff see them (and can assign a coach) before
    anyone has observed them.
    """
    if enrollment is not None and enrollment.is_active:
        api.note_enrollment(enrollment.user.id, enrollment.course.course_key)


def unenrollment_completed(sender, enrollment=None, **kwargs):  # pylint: disable=unused-argument
    """``COURSE_UNENROLLMENT_COMPLETED``: a learner who left before anything was recorded leaves the list."""
    if enrollment is not None:
        api.note_unenrollment(enrollment.user.id, enrollment.course.course_key)


def queue_certificate_request(sender, certification_id, countdown=0, **kwargs):  # pylint: disable=unused-argument
    """A certification was issued: ask the platform for the certificate (a Celery task)."""
    tasks.request_certificate.apply_async(args=[certification_id], countdown=countdown)


def queue_course_reevaluation(sender, course_id, **kwargs):  # pylint: disable=unused-argument
    """A course's policy changed: re-evaluate its learners (a Celery task)."""
    tasks.reevaluate_course.delay(course_id)


def announce_competency_change(consequence):
    """The ``announce`` consequence: the public ``competency_changed`` signal (the tracking event's receiver)."""
    # send_robust: a receiver that fails is logged, never a reason to send the others the signal again.
    for receiver, result in competency_changed.send_robust(
            sender=None, learner_id=consequence.learner_id, course_key=str(consequence.course_key),
            state=consequence.payload["state"], cause=consequence.payload["cause"]):
        if isinstance(result, Exception):
            log.error("competency_changed receiver %r failed: %r", receiver, result)


def queue_dependent_reevaluation(consequence):
    """The ``dependents`` consequence: later stages and program courses read this one (a Celery task)."""
    tasks.reevaluate_dependents.delay(consequence.learner_id, str(consequence.course_key))


def send_expiry_event(consequence):
    """The ``certification_expired`` consequence: the tracking event, once per expiry."""
    api.send_expiry_event(consequence.payload.get("certification_id"))


def mark_leader_figures_changed(consequence):
    """The ``leader_figures`` consequence: the course's kept leader figures are recomputed at the next read."""
    api.leader_figures_changed(consequence.course_key)


def retire_user(sender, user=None, **kwargs):  # pylint: disable=unused-argument
    """The platform's retirement signals (``user`` is the retiring user)."""
    if user is not None:
        api.retire_user(user.pk)


def connect_internal_receivers():
    """
    Connect the task-queueing receivers, the platform certificate's sync and the messages (ADR 0008),
    and retirement receivers where the platform has the signals.
    """
    certification_issued.connect(queue_certificate_request, dispatch_uid="miiwrap_fidelity.queue_certificate")
    course_reevaluation_requested.connect(queue_course_reevaluation,
                                          dispatch_uid="miiwrap_fidelity.queue_reevaluation")
    # A status change's consequences are delivered from the outbox (ADR 0019), each on its own.
    api.register_consequence_handler(competency.ANNOUNCE, announce_competency_change)
    api.register_consequence_handler(competency.DEPENDENTS, queue_dependent_reevaluation)
    api.register_consequence_handler(competency.EXPIRY_EVENT, send_expiry_event)
    api.register_consequence_handler(competency.LEADER_FIGURES, mark_leader_figures_changed)
    certificate_sync.connect()  # the platform certificate follows revocation
    notifications.connect()  # messages through edx-ace
    try:
        retirement_signals = get_platform().retirement_signals()
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not look up the platform's retirement signals")
        return
    for signal in retirement_signals:
        signal.connect(retire_user, dispatch_uid=f"miiwrap_fidelity.retire_user.{id(signal)}")
