"""
Messages through edx-ace, the platform's messaging framework (templates under
``templates/miiwrap_fidelity/edx_ace/<name>/email/``, rendered in the recipient's language).

Essential messages (certified, revoked, certification expiring) always go out; the others
(observation recorded, feedback on a reflection, the coach digest) respect the person's
``MessagePreference``. Messages say that something happened and link to the page with the
details: they never carry a note, a reason or feedback text (which may describe a family), only
counts, dates and usernames of the course's own people.

Sent by Celery tasks: after the change commits (receivers of ``competency_changed`` and
``reflection_commented``) and on celery beat (expiry reminders daily, coach digests weekly; the
Tutor plugin schedules both). See ADR 0008.
"""
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from edx_ace import MessageType, Recipient, ace

from .models import (
    CoachAssignment,
    CompetencyPolicy,
    ExpiryReminder,
    LearnerStatus,
    OverdueNotice,
    ReflectionComment,
)
from . import competency, evaluation
from .competency import State
from .platform import get_platform
from .time_selectors import active_certification

log = logging.getLogger(__name__)



class MiiwrapMessage(MessageType):
    APP_LABEL = "miiwrap_fidelity"
    ESSENTIAL = False


class ObservationRecorded(MiiwrapMessage):
    NAME = "observation_recorded"


class ReflectionFeedback(MiiwrapMessage):
    NAME = "reflection_feedback"


class Certified(MiiwrapMessage):
    NAME = "certified"
    ESSENTIAL = True


class Revoked(MiiwrapMessage):
    NAME = "revoked"
    ESSENTIAL = True


class CertificationExpiring(MiiwrapMessage):
    NAME = "certification_expiring"
    ESSENTIAL = True


class CoachDigest(MiiwrapMessage):
    NAME = "coach_digest"


class LearnerOverdue(MiiwrapMessage):
    NAME = "learner_overdue"


def wants(user, message_type):
    """Essential messages always; the others unless the person opted out."""
    from .api.messaging import receives_non_essential  # pylint: disable=import-outside-toplevel

    return message_type.ESSENTIAL or receives_non_essential(user)


def _absolute(path):
    return getattr(settings, "LMS_ROOT_URL", "").rstrip("/") + path


def deliver(message_type, user, course_key, **context):
    """Render and send one message to ``user`` (when they want it); True when it was handed to ACE."""
    if not user.email or not wants(user, message_type):
        return False
    platform = get_platform()
    context.update(
        course_id=str(course_key), course_name=platform.course_name(course_key),
        status_url=_absolute(reverse("miiwrap_fidelity:my_competency", args=[str(course_key)])),
        preferences_url=_absolute(reverse("miiwrap_fidelity:message_preferences")),
        essential=message_type.ESSENTIAL, username=user.username,
    )
    message = message_type(context=context).personalize(
        recipient=Recipient(lms_user_id=user.pk, email_address=user.email),
        language=platform.preferred_language(user), user_context={},
    )
    ace.send(message)
    return True


# --- after a change commits -------------------------------------------------------------------

COMPETENCY_MESSAGES = {("observation_submitted", None): ObservationRecorded, ("approved", "certified"): Certified,
                       ("revoked", None): Revoked}


@shared_task
def send_competency_message(learner_id, course_id, state, cause):
    message_type = COMPETENCY_MESSAGES.get((cause, state)) or COMPETENCY_MESSAGES.get((cause, None))
    if message_type is None:  # e.g. the coach approved and the lead has still to confirm
        return False
    learner = get_user_model().objects.filter(pk=learner_id).first()
    return bool(learner) and deliver(message_type, learner, course_id, state=state)


def queue_competency_message(consequence):
    """
    The ``message`` consequence of a status change (outbox, ADR 0019): queue the learner's message
    when the change has one; raises when the broker is down, so the consequence stays due.
    """
    state, cause = consequence.payload.get("state"), consequence.payload.get("cause")
    if COMPETENCY_MESSAGES.get((cause, state)) or COMPETENCY_MESSAGES.get((cause, None)):
        send_competency_message.delay(consequence.learner_id, str(consequence.course_key), state, cause)


@shared_task
def send_reflection_feedback(comment_id):
    comment = ReflectionComment.objects.select_related("reflection__learner").filter(pk=comment_id).first()
    if comment is None or comment.author_id == comment.reflection.learner_id:
        return False
    return deliver(ReflectionFeedback, comment.reflection.learner, comment.reflection.course_key)


def reflection_commented(sender, comment_id, **kwargs):  # pylint: disable=unused-argument
    """``reflection_commented`` receiver (sent after commit): queue the learner's message."""
    _queue(send_reflection_feedback, comment_id)


def _queue(task, *args):
    try:
        task.delay(*args)
    except Exception:  # pylint: disable=broad-except  # a broker outage never undoes the change
        log.exception("Could not queue %s%s", task.name, args)


def connect():
    from . import api, signals  # pylint: disable=import-outside-toplevel

    api.register_consequence_handler(competency.MESSAGE, queue_competency_message)
    signals.reflection_commented.connect(reflection_commented, dispatch_uid="miiwrap_fidelity.notifications")


# --- on a schedule ---------------------------------------------------------------------------

@shared_task
def send_expiry_reminders(now=None):
    """
    Remind certified people 90 and 30 days before their certification expires (daily, celery beat).

    The reminder row is claimed first (a unique constraint), so a repeated or overlapping run sends
    nothing twice; a reminder missed on its day goes out the next run, while still before expiry.
    """
    now = now or timezone.now()
    sent = 0
    for days in sorted(competency.EXPIRY_REMINDER_DAYS):
        due = LearnerStatus.objects.filter(
            active_certification(now, prefix="certification__"), state=str(State.CERTIFIED),
            certification__expires_at__lte=now + timedelta(days=days),
        ).select_related("certification", "learner")
        for status in due:
            certification = status.certification
            if ExpiryReminder.objects.filter(certification=certification, days_before__lte=days).exists():
                continue  # the nearer reminder went out already (or this one)
            try:
                with transaction.atomic():
                    ExpiryReminder.objects.create(certification=certification, days_before=days)
            except IntegrityError:
                continue
            sent += deliver(CertificationExpiring, status.learner, certification.course_key, days=days,
                            expires_on=certification.expires_at.date())
    return sent


@shared_task
def send_overdue_notices():
    """
    Tell each coach of a learner who passed their due date (a policy deadline), once per due date
    (daily, celery beat). The notice row is claimed first (a unique constraint), as for expiry reminders.
    """
    sent = 0  # the stored flag is the decision (refreshed at the day edge in the learner's time zone)
    told = OverdueNotice.objects.filter(course_key=OuterRef("course_key"), learner_id=OuterRef("learner_id"),
                                        due_date=OuterRef("due_date"))
    # Learners told already are not read again each day (the claim below still settles races).
    overdue = LearnerStatus.objects.filter(overdue=True, enrolled=True, due_date__isnull=False).exclude(
        Exists(told)).select_related("learner").order_by("pk")
    for status in overdue.iterator():
        try:
            with transaction.atomic():
                OverdueNotice.objects.create(course_key=status.course_key, learner_id=status.learner_id,
                                             due_date=status.due_date)
        except IntegrityError:
            continue  # told already
        learner_url = _absolute(reverse("miiwrap_fidelity:learner_detail",
                                        args=[str(status.course_key), status.learner_id]))
        for assignment in CoachAssignment.objects.filter(course_key=status.course_key,
                                                         learner_id=status.learner_id).select_related("coach"):
            sent += deliver(LearnerOverdue, assignment.coach, status.course_key, learner=status.learner.username,
                            due_on=status.due_date, learner_url=learner_url)
    return sent


def cadence_days(policy):
    """How often a learner should be observed to gather the policy's evidence (every requirement set)."""
    return competency.observation_cadence_days(
        [(requirement.window_days, requirement.min_observations) for requirement in evaluation.rules_for(policy).sets])


def digest_rows(policy, learner_ids, today):
    """``(due, long_due)`` statuses among the learners: due for observation (one cadence), or long due (two)."""
    cadence = cadence_days(policy)
    rows = {competency.DUE_FOR_OBSERVATION: [], competency.LONG_DUE_FOR_OBSERVATION: []}
    statuses = LearnerStatus.objects.filter(
        course_key=policy.course_key, learner_id__in=learner_ids, enrolled=True,
        state__in=[str(State.NOT_STARTED), str(State.IN_PROGRESS)],
    ).select_related("learner").order_by("last_practice_date", "learner__username")
    for status in statuses:
        due = competency.observation_due(status.last_practice_date, today, cadence)
        if due is not None:
            rows[due].append(status)
    return rows[competency.DUE_FOR_OBSERVATION], rows[competency.LONG_DUE_FOR_OBSERVATION]


@shared_task
def send_coach_digests(now=None):
    """Each coach, per course with a policy: the learners due or overdue for observation (weekly)."""
    today = (now or timezone.now()).date()
    sent = 0
    for policy in CompetencyPolicy.objects.filter(enabled=True):
        assignments = CoachAssignment.objects.filter(course_key=policy.course_key).select_related("coach")
        by_coach = {}
        for assignment in assignments:
            by_coach.setdefault(assignment.coach, []).append(assignment.learner_id)
        for coach, learner_ids in by_coach.items():
            due, long_due = digest_rows(policy, learner_ids, today)
            if not due and not long_due:
                continue
            sent += deliver(
                CoachDigest, coach, policy.course_key, cadence_days=cadence_days(policy),
                due=[_digest_line(status) for status in due], long_due=[_digest_line(status) for status in long_due],
                workspace_url=_absolute(reverse("miiwrap_fidelity:workspace", args=[str(policy.course_key)])),
            )
    return sent


def _digest_line(status):
    return {"username": status.learner.username, "last_observed": status.last_practice_date}
