"""
Who may do what: course staff (the platform's roles) and assigned coaches, answered once per
request.
"""
from django.utils.translation import gettext as _

from ..records.models import CoachAssignment, LearnerStatus
from ..rules.errors import PermissionDenied, ValidationError
from ..seams.platform import get_platform
from .inputs import parse_course_key
from .memo import per_request


def is_course_staff(user, course_key):
    if not getattr(user, "is_authenticated", False):
        return False
    course_key = parse_course_key(course_key)
    return per_request(("staff", user.pk, str(course_key)),
                        lambda: bool(get_platform().is_course_staff(user, course_key)))


def is_coach_of(user, learner, course_key):
    if not getattr(user, "is_authenticated", False):
        return False
    course_key, learner_id = parse_course_key(course_key), getattr(learner, "pk", learner)
    return per_request(("coach", user.pk, str(course_key), learner_id), lambda: CoachAssignment.objects.filter(
        course_key=course_key, coach_id=user.pk, learner_id=learner_id).exists())


def can_view_learner(user, learner, course_key):
    """The learner, their coaches and course staff see a learner's fidelity records."""
    if not getattr(user, "is_authenticated", False):
        return False
    learner_id = getattr(learner, "pk", learner)
    return user.pk == learner_id or is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def can_coach(user, learner, course_key):
    """Assigned coaches and course staff may observe and sign off, never for themselves."""
    learner_id = getattr(learner, "pk", learner)
    if not getattr(user, "is_authenticated", False) or user.pk == learner_id:
        return False
    return is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def require(allowed, message):
    if not allowed:
        raise PermissionDenied(message)


def require_course_staff(user, course_key, message):
    """The parsed course key; ``PermissionDenied`` with ``message`` unless ``user`` is its course staff."""
    course_key = parse_course_key(course_key)
    require(is_course_staff(user, course_key), message)
    return course_key


def require_coach(user, learner, course_key):
    """``PermissionDenied`` unless ``user`` may observe and sign off ``learner`` in the course."""
    require(can_coach(user, learner, course_key), _("You are not a coach of this learner in this course."))


def learners_of_course(learners, course_key):
    """
    The ids among ``learners`` (users or ids) the course may hold records of: they are enrolled in
    it, or hold records there already (a status row stays when a learner unenrols, and so do their
    records). Two queries whatever the number (CSV uploads check every row).
    """
    course_key = parse_course_key(course_key)
    ids = {getattr(learner, "pk", learner) for learner in learners}
    with_records = set(LearnerStatus.objects.filter(learner_id__in=ids, course_key=course_key)
                       .values_list("learner_id", flat=True))
    return with_records | (get_platform().enrolled_ids(course_key, ids - with_records) if ids - with_records else set())


def is_learner_of_course(learner, course_key):
    """Whether the course may hold records of ``learner`` (``learners_of_course``)."""
    return getattr(learner, "pk", learner) in learners_of_course([learner], course_key)


def require_learner_of_course(learner, course_key, field="learner"):
    """``ValidationError`` on ``field`` unless ``learner`` is a learner of the course (ADR 0018): a
    course's people never assign, observe or describe someone of another course."""
    if not is_learner_of_course(learner, course_key):
        raise ValidationError({field: [_("This learner is not enrolled in this course.")]})
