"""
Courses whose decisions rest on another course's records (ADR 0013): later stages (a policy's
``prerequisite_course``) and the other courses of a program (a shared ``program``). When a learner's
competency changes in one course, their status in those courses is evaluated again.
"""
from django.db import transaction
from django.db.models import Q

from ..records.models import CompetencyPolicy, LearnerStatus
from .courses import policy_row
from .inputs import CourseRef, parse_course_key
from .status import refresh_and_announce

#: The ``cause`` of a change a dependent course's re-evaluation announces (no message is sent for it).
DEPENDENT_CAUSE = "related_course_changed"


def dependent_policies(course_key: CourseRef) -> list[CompetencyPolicy]:
    """
    Args:
        course_key: the course whose records changed.

    Returns:
        The enabled policies of the courses that read its records (later stages, program
        siblings), by course key (internal to the api).

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    own = policy_row(course_key)
    related = Q(prerequisite_course=str(course_key))
    if own is not None and own.program:
        related |= Q(program=own.program)
    return list(CompetencyPolicy.objects.filter(related, enabled=True).exclude(course_key=course_key)
                .order_by("course_key"))


def reevaluate_dependents(learner_id: int, course_key: CourseRef) -> list[str]:
    """
    Evaluate the learner again in every dependent course where they have a status.

    Args:
        learner_id: the learner whose competency changed.
        course_key: the course it changed in.

    Returns:
        The ids of the courses whose state changed (each change announced, so that a chain of
        stages follows).

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    changed = []
    for policy in dependent_policies(course_key):
        with transaction.atomic():
            status = LearnerStatus.objects.select_for_update().filter(
                learner_id=learner_id, course_key=policy.course_key).first()  # the row first, as every write
            if status is None:
                continue  # not a learner of that course: nothing to show there
            before = status.state
            # The same step as every other re-evaluation that may change a state: announced with
            # the state it had (an expiry stored here has its expiry event too).
            decision, _certification, _alerts = refresh_and_announce(policy, learner_id, policy.course_key,
                                                                     cause=DEPENDENT_CAUSE)
            if str(decision.state) != before:
                changed.append(str(policy.course_key))
    return changed
