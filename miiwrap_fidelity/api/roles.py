"""
Who may do what: course staff (the platform's roles) and assigned coaches, answered once per
request.
"""
from collections.abc import Iterable

from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records.models import CoachAssignment, LearnerStatus
from ..rules.errors import PermissionDenied, ValidationError
from ..seams.platform import get_platform
from .inputs import CourseRef, User, UserRef, parse_course_key
from .memo import per_request


def is_course_staff(user: User, course_key: CourseRef) -> bool:
    """
    Whether ``user`` is course staff (the platform's course roles), asked once per request.

    Args:
        user: the person (anonymous: never staff).
        course_key: the course.

    Returns:
        True for course staff.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    course_key = parse_course_key(course_key)
    return per_request(("staff", user.pk, str(course_key)),
                        lambda: bool(get_platform().is_course_staff(user, course_key)))


def is_coach_of(user: User, learner: UserRef, course_key: CourseRef) -> bool:
    """
    Whether ``user`` is an assigned coach of ``learner`` in the course, asked once per request.

    Args:
        user: the person (anonymous: never a coach).
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        True when a coach assignment links them.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    course_key, learner_id = parse_course_key(course_key), getattr(learner, "pk", learner)
    return per_request(("coach", user.pk, str(course_key), learner_id), lambda: CoachAssignment.objects.filter(
        course_key=course_key, coach_id=user.pk, learner_id=learner_id).exists())


def can_view_learner(user: User, learner: UserRef, course_key: CourseRef) -> bool:
    """
    Whether ``user`` may see the learner's fidelity records: the learner, their coaches, course staff.

    Args:
        user: the person asking.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        True when they may.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    learner_id = getattr(learner, "pk", learner)
    return user.pk == learner_id or is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def can_coach(user: User, learner: UserRef, course_key: CourseRef) -> bool:
    """
    Whether ``user`` may observe and sign off the learner: assigned coaches and course staff, never
    for themselves.

    Args:
        user: the person acting.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        True when they may.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    learner_id = getattr(learner, "pk", learner)
    if not getattr(user, "is_authenticated", False) or user.pk == learner_id:
        return False
    return is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def require(allowed: bool, message: str) -> None:
    """
    Refuse unless ``allowed``.

    Args:
        allowed: the permission decided.
        message: what the refusal says.

    Raises:
        PermissionDenied: not ``allowed``.
    """
    if not allowed:
        raise PermissionDenied(message)


def require_course_staff(user: User, course_key: CourseRef, message: str) -> CourseKey:
    """
    Refuse anyone but the course's staff.

    Args:
        user: the person acting.
        course_key: the course.
        message: what the refusal says.

    Returns:
        The parsed course key.

    Raises:
        PermissionDenied: ``user`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    require(is_course_staff(user, course_key), message)
    return course_key


def require_coach(user: User, learner: UserRef, course_key: CourseRef) -> None:
    """
    Refuse anyone who may not observe and sign off ``learner`` in the course (``can_coach``).

    Args:
        user: the person acting.
        learner: the learner, or their id.
        course_key: the course.

    Raises:
        PermissionDenied: ``user`` may not coach this learner here.
        ValidationError: ``course_key`` is not a course key.
    """
    require(can_coach(user, learner, course_key), _("You are not a coach of this learner in this course."))


def learners_of_course(learners: Iterable[UserRef], course_key: CourseRef) -> set[int]:
    """
    The learners the course may hold records of, in two queries whatever their number (CSV uploads
    check every row).

    Args:
        learners: users or ids.
        course_key: the course.

    Returns:
        The ids among ``learners`` enrolled in the course or holding records there already (a
        status row stays when a learner unenrols, and so do their records).

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    ids = {getattr(learner, "pk", learner) for learner in learners}
    with_records = set(LearnerStatus.objects.filter(learner_id__in=ids, course_key=course_key)
                       .values_list("learner_id", flat=True))
    return with_records | (get_platform().enrolled_ids(course_key, ids - with_records) if ids - with_records else set())


def is_learner_of_course(learner: UserRef, course_key: CourseRef) -> bool:
    """
    Whether the course may hold records of ``learner`` (``learners_of_course``).

    Args:
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        True when it may.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    return getattr(learner, "pk", learner) in learners_of_course([learner], course_key)


def require_learner_of_course(learner: UserRef, course_key: CourseRef, field: str = "learner") -> None:
    """
    Refuse a learner of another course (ADR 0018): a course's people never assign, observe or
    describe someone of another course.

    Args:
        learner: the learner, or their id.
        course_key: the course.
        field: the input field a refusal names.

    Raises:
        ValidationError: ``learner`` is not a learner of the course (on ``field``), or ``course_key``
            is not a course key.
    """
    if not is_learner_of_course(learner, course_key):
        raise ValidationError({field: [_("This learner is not enrolled in this course.")]})
