"""The learner's progress through the course content (units, knowledge checks), for their coach."""
import logging

from django.utils.translation import gettext as _

from ..seams import course_progress
from ..seams.platform import get_platform
from . import to_data as values
from .courses import get_policy
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, require
from .rubrics import version_indicators

log = logging.getLogger(__name__)


def learner_course_progress(viewer: User, learner: UserRef,
                            course_key: CourseRef) -> course_progress.CourseProgress | None:
    """
    The learner's progress through the course content, for themselves, their coaches and staff.

    Args:
        viewer: who asks.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        Units completed and knowledge-check scores per domain of the course's rubric; None when
        the platform cannot say (the page shows the rest of the learner's records anyway).

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    policy = get_policy(course_key)
    indicators = version_indicators(policy.instrument_version_id) if policy else []
    domains = list(dict.fromkeys(indicator.domain for indicator in indicators))
    # The domains' names in the reader's language, as the rubric words them (issue 26).
    shown = {indicator.domain: values.indicator_data(indicator).domain for indicator in indicators}
    try:
        progress = get_platform().course_progress(learner, course_key)
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not read course progress of user %s in %s", learner.pk, course_key)
        return None
    return course_progress.summarize(progress, domains, shown)
