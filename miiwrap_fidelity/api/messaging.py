"""
Our messages (edx-ace, ``seams/messages.py``): who gets which, and a person's choice about the
non-essential ones.

Essential messages (certified, revoked, certification expiring) always go out; the others
(observation recorded, feedback on a reflection, the coach digest, a learner overdue) respect the
person's ``MessagePreference``. Messages say that something happened and link to the page with the
details: they never carry a note, a reason or feedback text (which may describe a family), only
counts, dates and the names of the course's own people: the full names they gave the platform (their
usernames when they gave none). Every message names its course in ``course_ids``, so the LMS's
course e-mail opt-out holds it back (``seams/messages.py``).

Sent by Celery tasks (``tasks/messages.py``): after the change commits (the outbox's ``message``
consequence, the ``reflection_commented`` signal) and on celery beat (expiry reminders and overdue
notices daily, coach digests weekly; the Tutor plugin schedules them). See ADR 0008.
"""
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from ..records import evaluation
from ..records.coaching_plans import CoachingPlan
from ..records.models import (
    CoachAssignment,
    CompetencyPolicy,
    Consequence,
    ExpiryReminder,
    LearnerStatus,
    MessagePreference,
    OverdueNotice,
    ReflectionComment,
)
from ..records.time_selectors import active_certification
from ..rules import competency
from ..rules.competency import PLAN_MESSAGE, State
from ..seams.messages import (
    CertificationExpiring,
    Certified,
    CoachDigest,
    LearnerOverdue,
    MiiwrapMessage,
    ObservationRecorded,
    ReflectionFeedback,
    Revoked,
    absolute,
    names_of,
    send,
)
from ..seams.platform import get_platform
from . import to_data
from .inputs import CourseRef, User


def receives_non_essential(user: User) -> bool:
    """
    Whether ``user`` gets the non-essential messages.

    Args:
        user: the person.

    Returns:
        False once they opted out (everyone gets them until then).
    """
    return not MessagePreference.objects.filter(user_id=user.pk, non_essential=False).exists()


def set_non_essential(user: User, receive: bool) -> None:
    """
    Opt in or out of the non-essential messages; only the person themselves (the view checks login).

    Args:
        user: the person.
        receive: True to receive them, False to opt out.
    """
    MessagePreference.objects.update_or_create(user_id=user.pk, defaults={"non_essential": bool(receive)})


def deliver(message_type: type[MiiwrapMessage], user: User, course_key: CourseRef, **context: Any) -> bool:
    """
    Send one message to ``user`` when they want it (essential ones always).

    Args:
        message_type: the message (``seams.messages``).
        user: the recipient.
        course_key: the course it is about.
        **context: what its templates show (counts, dates, people's names, links: never a note or reason).

    Returns:
        True when it was handed to ACE; False when they opted out or have no e-mail.
    """
    if not (message_type.ESSENTIAL or receives_non_essential(user)):
        return False
    return send(message_type, user, course_key, **context)


# --- after a change commits -------------------------------------------------------------------

COMPETENCY_MESSAGES: dict[tuple[str, str | None], type[MiiwrapMessage]] = {("observation_submitted", None): ObservationRecorded, ("approved", "certified"): Certified,
                       ("revoked", None): Revoked}


def competency_message_type(cause: str, state: str | None) -> type[MiiwrapMessage] | None:
    """
    The message a status change sends its learner.

    Args:
        cause: what changed the status (``"observation_submitted"``, ``"approved"``, ``"revoked"``...).
        state: the new state.

    Returns:
        The message type; None when none is sent (e.g. the coach approved, the lead has still to confirm).
    """
    return COMPETENCY_MESSAGES.get((cause, state)) or COMPETENCY_MESSAGES.get((cause, None))


def send_competency_message(learner_id: int, course_id: str, state: str, cause: str) -> bool:
    """
    The learner's message about a status change of theirs.

    Args:
        learner_id: the learner.
        course_id: the course.
        state: the new state.
        cause: what changed it.

    Returns:
        True when it was sent.
    """
    message_type = competency_message_type(cause, state)
    if message_type is None:
        return False
    learner = get_user_model().objects.filter(pk=learner_id).first()
    return bool(learner) and deliver(message_type, learner, course_id, state=state)


def send_reflection_feedback(comment_id: int) -> bool:
    """
    Tell a learner that someone commented on their reflection (never their own comment).

    Args:
        comment_id: the comment.

    Returns:
        True when it was sent.
    """
    comment = ReflectionComment.objects.select_related("reflection__learner", "author").filter(pk=comment_id).first()
    if comment is None or comment.author_id == comment.reflection.learner_id:
        return False
    return deliver(ReflectionFeedback, comment.reflection.learner, comment.reflection.course_key,
                   author=names_of([comment.author])[comment.author_id])


class PlanAgreed(MiiwrapMessage):
    """The learner's focus until their next observed session (issue 31): non-essential, as coaching news is."""

    NAME = "coaching_plan"


def send_plan_message(plan_id: int, consequence_id: int | None = None) -> bool:
    """
    Tell a learner the focus they and their coach agreed after an observed session (the outbox's
    ``plan_message`` consequence, ADR 0019): the focus indicators, worded in the learner's
    language, who agreed them and when, and the link to their page. The practice steps and the
    note stay on the page: a message never carries free text about practice (which may describe a
    family).

    Args:
        plan_id: the plan.
        consequence_id: the consequence delivering it; when a newer one for the same plan waits (the
            focus was saved again), this one sends nothing and the learner reads the latest focus once.

    Returns:
        True when it was sent; False when the plan is gone, a newer save will tell it, it has no
        focus, or the learner opted out of non-essential messages or has no e-mail.
    """
    plan = CoachingPlan.objects.select_related("learner", "author", "observation").filter(pk=plan_id).first()
    if plan is None:
        return False
    if consequence_id is not None and Consequence.objects.filter(
            kind=PLAN_MESSAGE, learner_id=plan.learner_id, course_key=plan.course_key, pk__gt=consequence_id,
            payload__plan_id=plan.pk).exists():
        return False
    language = get_platform().preferred_language(plan.learner)
    focus = [to_data.indicator_data(item.indicator, language).label
             for item in plan.focus.select_related("indicator").order_by("position", "id")]
    if not focus:
        return False
    coach = names_of([plan.author])[plan.author.pk] if plan.author is not None else None
    return deliver(PlanAgreed, plan.learner, plan.course_key, focus=focus, coach=coach,
                   practice_date=plan.observation.practice_date)


# --- on a schedule ---------------------------------------------------------------------------

def send_expiry_reminders(now: datetime | None = None) -> int:
    """
    Remind certified people 90 and 30 days before their certification expires (daily, celery beat).

    The reminder row is claimed first (a unique constraint), so a repeated or overlapping run sends
    nothing twice; a reminder missed on its day goes out the next run, while still before expiry.

    Args:
        now: the moment (default: the clock).

    Returns:
        How many reminders were sent.
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


def send_overdue_notices() -> int:
    """
    Tell each coach of a learner who passed their due date (a policy deadline), once per due date
    (daily, celery beat). The notice row is claimed first (a unique constraint), as for expiry reminders.

    Returns:
        How many notices were sent.
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
        learner_url = absolute(reverse("miiwrap_fidelity:learner_detail",
                                        args=[str(status.course_key), status.learner_id]))
        learner = names_of([status.learner])[status.learner_id]
        for assignment in CoachAssignment.objects.filter(course_key=status.course_key,
                                                         learner_id=status.learner_id).select_related("coach"):
            sent += deliver(LearnerOverdue, assignment.coach, status.course_key, learner=learner,
                            due_on=status.due_date, learner_url=learner_url)
    return sent


def cadence_days(policy: CompetencyPolicy) -> int:
    """
    How often a learner should be observed to gather the policy's evidence (every requirement set).

    Args:
        policy: the course's policy row.

    Returns:
        The days between observations.
    """
    return competency.observation_cadence_days(
        [(requirement.window_days, requirement.min_observations) for requirement in evaluation.rules_for(policy).sets])


def digest_rows(policy: CompetencyPolicy, learner_ids: Iterable[int],
                today: date) -> tuple[list[LearnerStatus], list[LearnerStatus]]:
    """
    The learners due for observation, for a coach's digest.

    Args:
        policy: the course's policy row.
        learner_ids: the coach's learners.
        today: the day.

    Returns:
        ``(due, long_due)`` status rows (learner loaded) of the enrolled learners not yet competent:
        due for observation (one cadence since the last), or long due (two).
    """
    cadence = cadence_days(policy)
    rows: dict[str, list] = {competency.DUE_FOR_OBSERVATION: [], competency.LONG_DUE_FOR_OBSERVATION: []}
    statuses = LearnerStatus.objects.filter(
        course_key=policy.course_key, learner_id__in=learner_ids, enrolled=True,
        state__in=[str(State.NOT_STARTED), str(State.IN_PROGRESS)],
    ).select_related("learner").order_by("last_practice_date", "learner__username")
    for status in statuses:
        due = competency.observation_due(status.last_practice_date, today, cadence)
        if due is not None:
            rows[due].append(status)
    return rows[competency.DUE_FOR_OBSERVATION], rows[competency.LONG_DUE_FOR_OBSERVATION]


def send_coach_digests(now: datetime | None = None) -> int:
    """
    Each coach, per course with a policy: the learners due or overdue for observation (weekly).

    Args:
        now: the moment (default: the clock).

    Returns:
        How many digests were sent.
    """
    today = (now or timezone.now()).date()
    sent = 0
    for policy in CompetencyPolicy.objects.filter(enabled=True):
        assignments = CoachAssignment.objects.filter(course_key=policy.course_key).select_related("coach")
        by_coach: dict = {}
        for assignment in assignments:
            by_coach.setdefault(assignment.coach, []).append(assignment.learner_id)
        for coach, learner_ids in by_coach.items():
            due, long_due = digest_rows(policy, learner_ids, today)
            if not due and not long_due:
                continue
            names = names_of(status.learner for status in due + long_due)
            sent += deliver(
                CoachDigest, coach, policy.course_key, cadence_days=cadence_days(policy),
                due=[_digest_line(status, names) for status in due],
                long_due=[_digest_line(status, names) for status in long_due],
                workspace_url=absolute(reverse("miiwrap_fidelity:workspace", args=[str(policy.course_key)])),
            )
    return sent


def _digest_line(status: LearnerStatus, names: dict[int, str]) -> dict[str, Any]:
    return {"name": names[status.learner_id], "last_observed": status.last_practice_date}
