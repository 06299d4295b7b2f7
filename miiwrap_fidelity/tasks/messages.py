"""Celery tasks that send our messages (``api/messaging.py`` decides who gets which)."""
from celery import shared_task

from .. import api


# Names as before the modules moved: messages already queued under them still find their task.
@shared_task(name="miiwrap_fidelity.notifications.send_competency_message")
def send_competency_message(learner_id, course_id, state, cause):
    """The learner's message about a change of their status (after the change committed)."""
    return api.send_competency_message(learner_id, course_id, state, cause)


@shared_task(name="miiwrap_fidelity.notifications.send_reflection_feedback")
def send_reflection_feedback(comment_id):
    """Tell the learner someone commented on their reflection."""
    return api.send_reflection_feedback(comment_id)


@shared_task(name="miiwrap_fidelity.notifications.send_plan_message")
def send_plan_message(plan_id, consequence_id):
    """The learner's message with the focus their coach and they agreed (issue 31)."""
    return api.send_plan_message(plan_id, consequence_id)


@shared_task(name="miiwrap_fidelity.notifications.send_expiry_reminders")
def send_expiry_reminders(now=None):
    """Daily (celery beat): remind certified people 90 and 30 days before their certification expires."""
    return api.send_expiry_reminders(now)


@shared_task(name="miiwrap_fidelity.notifications.send_overdue_notices")
def send_overdue_notices():
    """Daily (celery beat): tell each coach of a learner who passed their due date, once per due date."""
    return api.send_overdue_notices()


@shared_task(name="miiwrap_fidelity.notifications.send_coach_digests")
def send_coach_digests(now=None):
    """Weekly (celery beat): each coach, per course, the learners due or long due for observation."""
    return api.send_coach_digests(now)
