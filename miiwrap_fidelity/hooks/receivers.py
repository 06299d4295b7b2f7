"""
Every receiver of the plugin, connected here and nowhere else: what happens when our signals, the
outbox's consequences or the platform's signals fire (an entry point, like pages and tasks).

The plugin's ``signals_config`` connects ``emit_competency_event`` to ``api.competency_changed``
and ``enrollment_created`` / ``unenrollment_completed`` to openedx-events'
``COURSE_ENROLLMENT_CREATED`` / ``COURSE_UNENROLLMENT_COMPLETED``. ``connect_internal_receivers``
(called from ``AppConfig.ready`` in the LMS and Studio alike) connects the rest: the receivers that
queue our Celery tasks, a handler per kind of consequence (ADR 0019), and the platform's retirement
signals where the platform defines them.
"""
import logging

from .. import api
from ..tasks import certificates, messages, upkeep

log = logging.getLogger(__name__)


def emit_competency_event(sender, learner_id, course_key, state, cause, **kwargs):  # pylint: disable=unused-argument
    """Send a tracking event (ids and codes only, never free text)."""
    api.send_tracking_event("competency.changed", {"user_id": learner_id, "course_id": course_key, "state": state,
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
    certificates.request_certificate.apply_async(args=[certification_id], countdown=countdown)


def queue_course_reevaluation(sender, course_id, **kwargs):  # pylint: disable=unused-argument
    """A course's policy changed: re-evaluate its learners (a Celery task)."""
    upkeep.reevaluate_course.delay(course_id)


def announce_competency_change(consequence):
    """The ``announce`` consequence: the public ``competency_changed`` signal (the tracking event's receiver)."""
    # send_robust: a receiver that fails is logged, never a reason to send the others the signal again.
    for receiver, result in api.competency_changed.send_robust(
            sender=None, learner_id=consequence.learner_id, course_key=str(consequence.course_key),
            state=consequence.payload["state"], cause=consequence.payload["cause"]):
        if isinstance(result, Exception):
            log.error("competency_changed receiver %r failed: %r", receiver, result)


def queue_dependent_reevaluation(consequence):
    """The ``dependents`` consequence: later stages and program courses read this one (a Celery task)."""
    upkeep.reevaluate_dependents.delay(consequence.learner_id, str(consequence.course_key))


def send_expiry_event(consequence):
    """The ``certification_expired`` consequence: the tracking event, once per expiry."""
    api.send_expiry_event(consequence.payload.get("certification_id"))


def mark_leader_figures_changed(consequence):
    """The ``leader_figures`` consequence: the course's kept leader figures are recomputed at the next read."""
    api.leader_figures_changed(consequence.course_key)


def queue_competency_message(consequence):
    """
    The ``message`` consequence: queue the learner's message when the change has one; raises when
    the broker is down, so the consequence stays due.
    """
    state, cause = consequence.payload.get("state"), consequence.payload.get("cause")
    if api.competency_message_type(cause, state) is not None:
        messages.send_competency_message.delay(consequence.learner_id, str(consequence.course_key), state, cause)


def settle_program(consequence):
    """The ``program_check`` consequence: decide the learner's program again (its event recorded when it changed)."""
    api.settle_program(consequence.learner_id, consequence.payload["program"], consequence.course_key)


def announce_program_change(consequence):
    """The ``program_changed`` consequence: the public ``program_completion_changed`` signal (tracking event)."""
    payload = consequence.payload
    for receiver, result in api.program_completion_changed.send_robust(
            sender=None, learner_id=consequence.learner_id, program=payload["program"], completed=payload["completed"],
            course_key=payload["course_id"], course_keys=payload["course_ids"]):
        if isinstance(result, Exception):
            log.error("program_completion_changed receiver %r failed: %r", receiver, result)


def emit_program_event(sender, learner_id, program, completed, **kwargs):  # pylint: disable=unused-argument
    """Send the program's tracking event: completed, or no longer complete (ids and codes only)."""
    event = {"user_id": learner_id, "course_id": kwargs["course_key"], "program": program,
             "course_ids": list(kwargs["course_keys"])}
    if completed:
        api.send_tracking_event("program.completed", event)
    else:
        api.send_tracking_event("program.completion_lapsed", event)


def queue_certificate_invalidations(consequence):
    """
    The ``certificate_invalidation`` consequence of a revocation or expiry: queue the invalidation of
    the learner's lapsed certificates; raises when the broker is down, so the consequence stays due
    (``invalidate_lapsed_certificates`` also finds them).
    """
    for certification_id in api.certificates_to_invalidate(consequence.learner_id, consequence.course_key):
        certificates.invalidate_certificate.delay(certification_id)


def announce_plan_saved(consequence):
    """The ``plan_saved`` consequence: the public ``coaching_plan_saved`` signal (its tracking event's receiver)."""
    payload = consequence.payload
    for receiver, result in api.coaching_plan_saved.send_robust(
            sender=None, learner_id=consequence.learner_id, course_key=str(consequence.course_key),
            plan_id=payload["plan_id"], observation_id=payload["observation_id"], coach_id=payload.get("coach_id"),
            indicator_keys=list(payload["indicator_keys"])):
        if isinstance(result, Exception):
            log.error("coaching_plan_saved receiver %r failed: %r", receiver, result)


def emit_plan_saved_event(sender, learner_id, course_key, plan_id, **kwargs):  # pylint: disable=unused-argument
    """The plan's tracking event: ids and the focus indicators' keys, never a practice step."""
    api.send_tracking_event("coaching_plan.saved", {
        "user_id": learner_id, "course_id": course_key, "plan_id": plan_id, "observation_id": kwargs["observation_id"],
        "coach_id": kwargs.get("coach_id"), "indicator_keys": list(kwargs["indicator_keys"])})


def send_plan_message(consequence):
    """
    The ``plan_message`` consequence: queue the learner's message with their focus (edx-ace, their
    language, sent by a worker as every message: ADR 0008); raises when the broker is down, so the
    consequence stays due.
    """
    messages.send_plan_message.delay(consequence.payload["plan_id"], consequence.pk)


def announce_follow_up_confirmed(consequence):
    """The ``follow_up_confirmed`` consequence: the public ``coaching_follow_up_confirmed`` signal."""
    payload = consequence.payload
    for receiver, result in api.coaching_follow_up_confirmed.send_robust(
            sender=None, learner_id=consequence.learner_id, course_key=str(consequence.course_key),
            plan_id=payload["plan_id"], indicator_key=payload["indicator_key"], outcome=payload["outcome"],
            computed_outcome=payload.get("computed_outcome"), observation_id=payload["observation_id"],
            coach_id=payload.get("coach_id")):
        if isinstance(result, Exception):
            log.error("coaching_follow_up_confirmed receiver %r failed: %r", receiver, result)


def emit_follow_up_event(sender, learner_id, course_key, plan_id, **kwargs):  # pylint: disable=unused-argument
    """The follow-up's tracking event: ids, the indicator's key and outcome codes."""
    api.send_tracking_event("coaching_plan.followed_up", {
        "user_id": learner_id, "course_id": course_key, "plan_id": plan_id, "indicator_key": kwargs["indicator_key"],
        "outcome": kwargs["outcome"], "computed_outcome": kwargs.get("computed_outcome"),
        "observation_id": kwargs["observation_id"], "coach_id": kwargs.get("coach_id")})


def queue_reflection_feedback(sender, comment_id, **kwargs):  # pylint: disable=unused-argument
    """``reflection_commented`` (sent after commit): queue the learner's message; a broker outage never undoes the comment."""
    try:
        messages.send_reflection_feedback.delay(comment_id)
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not queue the message about reflection comment %s", comment_id)


def retire_user(sender, user=None, **kwargs):  # pylint: disable=unused-argument
    """The platform's retirement signals (``user`` is the retiring user)."""
    if user is not None:
        api.retire_user(user.pk)


def connect_internal_receivers():
    """
    Connect the task-queueing receivers, the platform certificate's sync and the messages (ADR 0008),
    and retirement receivers where the platform has the signals.
    """
    api.certification_issued.connect(queue_certificate_request, dispatch_uid="miiwrap_fidelity.queue_certificate")
    api.course_reevaluation_requested.connect(queue_course_reevaluation,
                                              dispatch_uid="miiwrap_fidelity.queue_reevaluation")
    api.reflection_commented.connect(queue_reflection_feedback, dispatch_uid="miiwrap_fidelity.notifications")
    # A status change's consequences are delivered from the outbox (ADR 0019), each on its own.
    api.register_consequence_handler(api.ANNOUNCE, announce_competency_change)
    api.register_consequence_handler(api.DEPENDENTS, queue_dependent_reevaluation)
    api.register_consequence_handler(api.EXPIRY_EVENT, send_expiry_event)
    api.register_consequence_handler(api.LEADER_FIGURES, mark_leader_figures_changed)
    api.register_consequence_handler(api.MESSAGE, queue_competency_message)  # messages through edx-ace
    api.register_consequence_handler(api.INVALIDATION, queue_certificate_invalidations)  # the platform certificate
    api.register_consequence_handler(api.PROGRAM_CHECK, settle_program)  # programs (ADR 0025)
    api.register_consequence_handler(api.PROGRAM_CHANGED, announce_program_change)
    api.program_completion_changed.connect(emit_program_event, dispatch_uid="miiwrap_fidelity.program_event")
    # The coaching loop (issue 31): a plan's events and the learner's message, from the outbox too.
    api.register_consequence_handler(api.PLAN_SAVED, announce_plan_saved)
    api.register_consequence_handler(api.PLAN_MESSAGE, send_plan_message)
    api.register_consequence_handler(api.FOLLOW_UP_CONFIRMED, announce_follow_up_confirmed)
    api.coaching_plan_saved.connect(emit_plan_saved_event, dispatch_uid="miiwrap_fidelity.plan_saved_event")
    api.coaching_follow_up_confirmed.connect(emit_follow_up_event, dispatch_uid="miiwrap_fidelity.follow_up_event")
    try:
        retirement_signals = api.platform_retirement_signals()
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not look up the platform's retirement signals")
        return
    for signal in retirement_signals:
        signal.connect(retire_user, dispatch_uid=f"miiwrap_fidelity.retire_user.{id(signal)}")
