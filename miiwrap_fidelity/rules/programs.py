"""
Programs as people see them (ADR 0025): the courses whose enabled policies name the same program,
in stage order, and whether a learner has completed the program. Pure, like ``competency``, whose
certification rule it applies: a course of the program is done while the learner's status there
rests on an active certification (``competency.CertificationRecord.is_active``).

What a viewer is told (ADR 0018's bound): a course they have no right in is counted, never named,
and its state is never told, neither directly nor through the program's completion.
"""
import heapq
from collections.abc import Iterable, Mapping
from datetime import datetime

from .competency import CertificationRecord, State, display_state

#: The consequence kinds of a program (ADR 0019's outbox): a status change in one of its courses asks
#: for the program to be decided again (``PROGRAM_CHECK``); when its completion changes, the
#: completed or no-longer-complete event is announced (``PROGRAM_CHANGED``), once.
PROGRAM_CHECK, PROGRAM_CHANGED = "program_check", "program_changed"
#: The state shown for a course of the program where the learner has no status row (not a learner of it).
NOT_ENROLLED = "not_enrolled"


def stage_order(prerequisites: Mapping[str, str]) -> list[str]:
    """
    The program's courses in the order people read them: a course after the course it names as its
    prerequisite (when that course is in the program), otherwise by course id.

    Args:
        prerequisites: ``{course id: its prerequisite course id ("" for none)}``.

    Returns:
        The course ids, each after its prerequisite; among those free to come next, the lowest id
        first. Courses in a circle (refused when policies are saved) come last, by id.
    """
    waiting: dict[str, list[str]] = {}
    ready = []
    for course, prerequisite in prerequisites.items():
        if prerequisite and prerequisite in prerequisites and prerequisite != course:
            waiting.setdefault(prerequisite, []).append(course)
        else:
            ready.append(course)
    heapq.heapify(ready)
    ordered = []
    while ready:
        course = heapq.heappop(ready)
        ordered.append(course)
        for later in waiting.pop(course, ()):
            heapq.heappush(ready, later)
    return ordered + sorted(set(prerequisites) - set(ordered))


def course_done(state: str | None, certification: CertificationRecord | None, now: datetime) -> bool:
    """
    Whether a course of the program counts as done for the learner.

    Args:
        state: the learner's stored state there (None: no status row, not a learner of the course).
        certification: the certification the status row rests on (None: none).
        now: the moment.

    Returns:
        True while the row is certified on a certification that is active at ``now`` (not revoked,
        not past its expiry).
    """
    return state == State.CERTIFIED and certification is not None and certification.is_active(now)


def course_state(state: str | None, certification: CertificationRecord | None, now: datetime) -> tuple[str, bool]:
    """
    A course of the program as a viewer who may see it is told.

    Args:
        state: the learner's stored state there (None: no status row).
        certification: the certification the status row rests on (None: none).
        now: the moment.

    Returns:
        ``(the state as lists show it, whether the course is done)``: ``competency.display_state``
        ("expiring", "expired" past the expiry), or ``NOT_ENROLLED`` without a status row.
    """
    if state is None:
        return NOT_ENROLLED, False
    return (display_state(state, certification.expires_at if certification is not None else None, now),
            course_done(state, certification, now))


def may_change_completion(state: str, previous_state: str | None) -> bool:
    """
    Whether a status change may change a program's completion (and its course's program is worth
    looking up): only a change into or out of "certified" can; a change whose previous state is
    unknown (an approval, a revocation) might.

    Args:
        state: the new state.
        previous_state: the state before (None: not known).

    Returns:
        True when the program is to be decided again.
    """
    return previous_state is None or State.CERTIFIED in (str(state), str(previous_state))


def tally(done: Iterable[bool], hidden: int) -> tuple[int, bool | None]:
    """
    What a viewer is told of a learner's program from the courses they may see.

    Args:
        done: for each course the viewer may see, whether it is done.
        hidden: how many courses of the program the viewer may not see.

    Returns:
        ``(courses done among those seen, completed)``: completed is True when every course of the
        program is done, False when one seen is not, and None when that depends on a course not
        seen (its state is not told, not even through the program's completion).
    """
    flags = list(done)
    count = sum(flags)
    if count < len(flags):
        return count, False
    if hidden:
        return count, None
    return count, bool(flags)
