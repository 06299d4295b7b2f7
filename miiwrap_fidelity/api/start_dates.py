"""
Learners' start dates for a policy's deadline: hire dates course staff upload (one by one or from a
CSV file); without one, the enrollment date counts (``evaluation``). Each change re-evaluates the
learner (their due date moves) and leaves an audit event.
"""
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, evaluation
from ..records.models import CompetencyPolicy, LearnerStartDate
from ..rules import data
from ..rules.errors import ValidationError
from .courses import _csv_rows, policy_row
from .inputs import CourseRef, User, UserRef, get_user
from .paged import PagedRows
from .roles import learners_of_course, require_course_staff, require_learner_of_course

#: A hire date is a real date: not before this year, and at most a year ahead (hired, starting soon).
EARLIEST_YEAR = 1950
MAX_DAYS_AHEAD = 366


def _only_staff() -> str:
    return _("Only course staff can set start dates.")


def clean_start_date(value: date | str, field: str = "start_date") -> date:
    """
    A hire date (``YYYY-MM-DD``) from 1950 to a year from today.

    Args:
        value: the date, or its ISO string.
        field: the input field a refusal names.

    Returns:
        The date.

    Raises:
        ValidationError: not a date, or out of that range (on ``field``).
    """
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from exc
    latest = timezone.now().date() + timedelta(days=MAX_DAYS_AHEAD)
    if not date(EARLIEST_YEAR, 1, 1) <= parsed <= latest:
        raise ValidationError({field: [_("Give a date from %(first)s to %(last)s.") % {
            "first": date(EARLIEST_YEAR, 1, 1).isoformat(), "last": latest.isoformat()}]})
    return parsed


def set_start_date(actor: User, course_key: CourseRef, learner: UserRef, start_date: date | str) -> data.StartDateData:
    """
    Set a learner's start (hire) date in the course (course staff only); a changed date evaluates
    the learner again under the course's policy (their due date moves).

    Args:
        actor: who sets it (course staff).
        course_key: the course.
        learner: the learner, or their id or username.
        start_date: the date, or its ISO string.

    Returns:
        The learner's start date.

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: no such learner, a learner not enrolled in the course, a date out of range,
            or ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _only_staff())
    learner = get_user(learner, "learner")
    start_date = clean_start_date(start_date)
    require_learner_of_course(learner, course_key)  # a start date gives a status row: only to the course's own
    with transaction.atomic():
        return _store(actor, course_key, policy_row(course_key), learner, start_date)[0]


def _store(actor: User, course_key: CourseKey, policy: CompetencyPolicy | None, learner: User,
           start_date: date) -> tuple[data.StartDateData, bool]:
    """
    Write one start date (inside a transaction): the status row locked first, the audit head last;
    the learner is evaluated again under the course's ``policy`` (when it has one).
    """
    evaluation.lock_status(learner.pk, course_key)
    row, created = LearnerStartDate.objects.get_or_create(course_key=course_key, learner=learner,
                                                          defaults={"start_date": start_date})
    if not created and row.start_date != start_date:
        row.start_date = start_date
        row.save(update_fields=["start_date", "updated_at"])
    elif not created:
        return _value(row), False
    if policy is not None:  # a deadline moves with the start date: the state may change
        evaluation.refresh_and_announce(policy, learner.pk, course_key, cause="start_date_set")
    audit.record("start_date.set", row, actor=actor, subject_user_id=learner.pk, course_key=course_key)
    return _value(row), True


def _value(row: LearnerStartDate) -> data.StartDateData:
    """The row as ``data.StartDateData`` (its learner loaded)."""
    return data.StartDateData(learner_id=row.learner_id, course_key=str(row.course_key), start_date=row.start_date,
                              username=row.learner.username)


def set_start_dates_from_csv(actor: User, course_key: CourseRef, text: str) -> tuple[list[dict[str, Any]], int]:
    """
    Set start dates from CSV text with a ``learner,start_date`` header (usernames, YYYY-MM-DD).

    All or nothing, like coach assignments: when any row is wrong nothing changes and the report
    says which rows and why.

    Args:
        actor: who sets them (course staff).
        course_key: the course.
        text: the CSV text (``read_csv_upload``).

    Returns:
        ``(report, changed_count)``; each report row is ``{"row", "learner", "start_date", "status",
        "errors"}`` with status "set", "unchanged" or "error" (0 changed when any row is wrong).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: the file is empty, not CSV, without the header, over ``MAX_CSV_ROWS`` rows
            or without rows (on ``file``), or ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _only_staff())
    rows = _csv_rows(text, columns=("learner", "start_date"))
    users = {user.username: user for user in get_user_model().objects.filter(username__in={row[1] for row in rows})}
    report: list[dict[str, Any]]
    report, seen, of_course = [], set(), learners_of_course(users.values(), course_key)
    for line, username, raw_date in rows:
        errors, parsed = [], None
        if username not in users:
            errors.append(_("Unknown learner username."))
        elif users[username].pk not in of_course:
            errors.append(_("This learner is not enrolled in this course."))
        elif username in seen:
            errors.append(_("This learner is already on an earlier line."))
        seen.add(username)
        try:
            parsed = clean_start_date(raw_date)
        except ValidationError as exc:
            errors += exc.message_dict["start_date"]
        report.append({"row": line, "learner": username, "start_date": parsed or raw_date,
                       "status": "error" if errors else "pending", "errors": errors})
    if any(item["status"] == "error" for item in report):
        return report, 0
    changed, policy = 0, policy_row(course_key)  # read once for every row
    with transaction.atomic():
        for item in sorted(report, key=lambda item: users[item["learner"]].pk):  # one lock order (ADR 0006)
            _row, wrote = _store(actor, course_key, policy, users[item["learner"]], item["start_date"])
            item["status"] = "set" if wrote else "unchanged"
            changed += wrote
    return report, changed


def start_dates(actor: User, course_key: CourseRef) -> PagedRows:
    """
    The course's uploaded start dates (course staff only), by learner id.

    Args:
        actor: who asks (course staff).
        course_key: the course.

    Returns:
        ``data.StartDateData`` in a ``paged.PagedRows`` (page it: a course may hold 100,000).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _only_staff())
    return PagedRows(LearnerStartDate.objects.filter(course_key=course_key).select_related(
        "learner").order_by("learner_id"), _value)
