"""
Signals we send and receivers we connect.

``competency_changed`` is sent after a transaction that changed a learner's competency commits;
the plugin's ``signals_config`` connects ``emit_competency_event`` to it, and ``enrollment_created``
and ``unenrollment_completed`` to openedx-events' ``COURSE_ENROLLMENT_CREATED`` and
``COURSE_UNENROLLMENT_COMPLETED``. Platform retirement
signals are connected in ``AppConfig.ready`` only where the platform defines them.
"""
import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

#: kwargs: learner_id, course_key (str), state, cause ("observation_submitted" | "approved" | "revoked")
competency_changed = Signal()

#: kwargs: comment_id. Sent after a coach's comment on a reflection commits (the learner is told).
reflection_commented = Signal()

EVENT_NAME = "edx.miiwrap_fidelity.competency.changed"


def emit_competency_event(sender, learner_id, course_key, state, cause, **kwargs):  # pylint: disable=unused-argument
    """Send a tracking event (ids and codes only, never free text)."""
    from . import events  # pylint: disable=import-outside-toplevel

    events.send("competency.changed", {"user_id": learner_id, "course_id": course_key, "state": state,
                                       "cause": cause})


def enrollment_created(sender, enrollment=None, **kwargs):  # pylint: disable=unused-argument
    """
    ``COURSE_ENROLLMENT_CREATED`` (openedx-events): a learner enrolled in a course with a competency
    policy gets a status row at once, so course staff see them (and can assign a coach) before
    anyone has observed them.
    """
    from . import api  # pylint: disable=import-outside-toplevel

    if enrollment is not None and enrollment.is_active:
        api.note_enrollment(enrollment.user.id, enrollment.course.course_key)


def unenrollment_completed(sender, enrollment=None, **kwargs):  # pylint: disable=unused-argument
    """``COURSE_UNENROLLMENT_COMPLETED``: a learner who left before anything was recorded leaves the list."""
    from . import api  # pylint: disable=import-outside-toplevel

    if enrollment is not None:
        api.note_unenrollment(enrollment.user.id, enrollment.course.course_key)


def connect_platform_receivers():
    """Connect user-retirement receivers where the platform provides the signals."""
    from .platform import get_platform  # pylint: disable=import-outside-toplevel
    from .retirement import retire_user  # pylint: disable=import-outside-toplevel

    try:
        retirement_signals = get_platform().retirement_signals()
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not look up the platform's retirement signals")
        return
    for signal in retirement_signals:
        signal.connect(retire_user, dispatch_uid=f"miiwrap_fidelity.retire_user.{id(signal)}")
