"""
Programs (ADR 0013, 0018, 0025): the courses whose enabled policies name the same program. A
learner's progress through them, as the viewer may see it; the program's completed (and
no-longer-complete) event, once per change; the staff export.
"""
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from opaque_keys.edx.keys import CourseKey

from ..records import audit, exports, outbox
from ..records.program_completion import ProgramCompletion, course_prerequisites, statuses
from ..records.row_locks import locked_or_created
from ..rules import data, programs
from ..rules.competency import CertificationRecord
from .courses import policy_row, require_policy
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .names import course_display_name
from .roles import can_view_learner, is_course_staff, require, require_course_staff
from .status import STATE_FILTERS, NotEnrolled

#: The label of ``programs.NOT_ENROLLED``: a course of the program where the learner has no status row.
NOT_ENROLLED_LABEL = gettext_lazy("Not enrolled")
#: The export of program progress (``exports.program_rows``), beside ``exports.EXPORTS``' kinds.
PROGRAM_EXPORT = exports.PROGRAM


def program_progress(viewer: User, learner: UserRef, course_key: CourseRef,
                     now: datetime | None = None) -> data.ProgramProgressData | None:
    """
    The learner's progress through the program of ``course_key``'s policy, as ``viewer`` may see it
    (ADR 0025): the learner sees every course of the program; a coach or course staff member sees
    the courses where they may see the learner (``can_view_learner``); the others are counted, not
    named, and their state is not told (nor is the program's completion when it depends on them).
    Three queries, and who may see the learner in each other course of the program.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course asked from (the learner must be a learner of it).
        now: the moment certifications are judged at (default: the clock).

    Returns:
        The progress, its courses in the program's order (stages first); None when the course is
        in no program.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records in ``course_key``.
        NotEnrolled: the learner has no status row in ``course_key``.
        ValidationError: no such learner, not a course key, or the course has no competency policy.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    program = require_policy(course_key).program
    if not program:
        return None
    order = programs.stage_order(course_prerequisites(program))
    rows = statuses([learner.pk], order)
    if (learner.pk, str(course_key)) not in rows:
        raise NotEnrolled({"learner": [_("Not enrolled in this course.") if viewer.pk == learner.pk
                                       else _("This learner is not enrolled in this course.")]})
    now = now or timezone.now()
    shown = tuple(_course(course, rows.get((learner.pk, course)), now)
                  for course in _visible(viewer, learner, course_key, order))
    hidden = len(order) - len(shown)
    done, completed = programs.tally((course.done for course in shown), hidden)
    return data.ProgramProgressData(program=program, course_key=str(course_key),
                                    learner=data.UserRef(learner.pk, learner.username), courses=shown,
                                    total=len(order), done=done, hidden=hidden, completed=completed)


def _visible(viewer: User, learner: User, course_key: CourseKey, order: list[str]) -> list[str]:
    """The program's courses ``viewer`` may see the learner in, in order (the learner: all of them)."""
    if viewer.pk == learner.pk:
        return order
    return [course for course in order
            if course == str(course_key) or can_view_learner(viewer, learner, course)]


def _course(course: str, row: tuple[str, CertificationRecord | None] | None, now: datetime) -> data.ProgramCourseData:
    """One course of the program with the learner's status row there (None: none)."""
    state, certification = row or (None, None)
    shown, done = programs.course_state(state, certification, now)
    return data.ProgramCourseData(
        course_key=course, name=course_display_name(course), state=shown,
        state_label=str(STATE_FILTERS.get(shown) or NOT_ENROLLED_LABEL), done=done,
        certified_until=certification.expires_at if certification is not None else None)


def settle_program(learner_id: int, program: str, course_key: CourseRef, now: datetime | None = None) -> bool | None:
    """
    Decide again whether the learner has completed the program (the ``PROGRAM_CHECK`` consequence of
    a status change in one of its courses, after that change committed). Under the lock of the
    learner's ``ProgramCompletion`` row (the transaction's only lock), so that two courses certified
    at once complete the program once; a change of completion records ``PROGRAM_CHANGED`` (the
    event) in the same transaction, delivered once it commits.

    Args:
        learner_id: the learner.
        program: the program's name.
        course_key: the course whose change asked for it (the event names it).
        now: the moment certifications are judged at (default: the clock).

    Returns:
        The completion when it changed (True: completed; False: no longer complete), else None.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key, now = parse_course_key(course_key), now or timezone.now()
    with transaction.atomic():
        latch = locked_or_created(ProgramCompletion, learner_id=learner_id, program=program)
        order = programs.stage_order(course_prerequisites(program))
        rows = statuses([learner_id], order)
        found = [rows.get((learner_id, course)) or (None, None) for course in order]
        completed = bool(programs.tally((programs.course_done(state, certification, now)
                                         for state, certification in found), hidden=0)[1])
        if completed == latch.completed:
            return None
        latch.completed, latch.changed_at = completed, now
        latch.save(update_fields=["completed", "changed_at"])
        # Keyed by the program's first course, so that its events are delivered in their order.
        outbox.record(programs.PROGRAM_CHANGED, learner_id, order[0] if order else course_key, {
            "program": program, "completed": completed, "course_id": str(course_key), "course_ids": order}, now)
    return completed


def program_export_lines(viewer: User, course_key: CourseRef) -> Iterator[str]:
    """
    The program progress export of a course (course staff only; audited): for each learner of the
    course, their state in each course of the program where ``viewer`` is course staff, how many of
    those are done, and whether the program is complete (blank when that depends on a course the
    exporter has no right in). Streamed a chunk of learners at a time.

    Args:
        viewer: who asks.
        course_key: the course.

    Returns:
        The CSV lines (only the header when the course is in no program).

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(viewer, course_key, _("Only course staff can export records."))
    policy = policy_row(course_key)
    program = policy.program if policy is not None else ""
    order = programs.stage_order(course_prerequisites(program))
    with transaction.atomic():
        audit.record("export." + PROGRAM_EXPORT, None, actor=viewer, course_key=course_key)
    return exports.program_rows(course_key, program, order, _staff_courses(viewer, course_key, order))


def _staff_courses(viewer: User, course_key: CourseKey, order: Iterable[str]) -> list[str]:
    """The program's courses where ``viewer`` is course staff (``course_key`` is one), in order."""
    return [course for course in order if course == str(course_key) or is_course_staff(viewer, course)]
