"""The learner's progress through the course content (units, knowledge checks), for their coach."""
import logging

from django.utils.translation import gettext as _

from ..seams import course_progress
from ..seams.platform import get_platform
from .courses import get_policy
from .inputs import get_user, parse_course_key
from .roles import can_view_learner, require
from .rubrics import version_indicators

log = logging.getLogger(__name__)


def learner_course_progress(viewer, learner, course_key):
    """
    ``course_progress.CourseProgress`` for the learner (themselves, their coaches, course staff), or
    None when the platform cannot say (the page shows the rest of the learner's records anyway).
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    policy = get_policy(course_key)
    domains = list(dict.fromkeys(indicator.domain for indicator in version_indicators(policy.instrument_version_id))
                   ) if policy else []
    try:
        progress = get_platform().course_progress(learner, course_key)
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not read course progress of user %s in %s", learner.pk, course_key)
        return None
    return course_progress.summarize(progress, domains)
