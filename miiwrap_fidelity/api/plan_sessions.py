"""The session a coaching plan follows on the coach's page (issue 31): the learner's latest observed one."""
from django.utils.translation import gettext as _

from ..records.coaching_plans import PlanFocus
from ..records.models import IndicatorRating, Observation
from ..rules import coaching_loop, data
from . import to_data as values
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_coach, can_view_learner, require
from .rubrics import loop_ratings, version_indicators


def latest_session(actor: User, learner: UserRef,
                   course_key: CourseRef) -> tuple[data.ObservationData | None, list[str]]:
    """
    The learner's latest submitted observation in the course (co-ratings left out), the session a
    new plan follows, with the focus it suggests (``coaching_loop.suggested_focus``). Two queries:
    the rubric is the one the page's form reads already.

    Args:
        actor: the learner's coach or course staff.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        ``(the observation without its ratings, the suggested indicator keys)``; ``(None, [])`` when
        the learner has none.

    Raises:
        PermissionDenied: ``actor`` may not coach this learner here.
        ValidationError: ``course_key`` is not a course key, or no such user.
    """
    course_key, learner = parse_course_key(course_key), get_user(learner)
    require(can_coach(actor, learner, course_key), _("Only the learner's coaches and course staff plan coaching."))
    observation = Observation.objects.filter(
        learner=learner, course_key=course_key, status=Observation.SUBMITTED, co_observation_of__isnull=True,
    ).select_related("observer").order_by("-practice_date", "-id").first()
    if observation is None:
        return None, []
    rubric = {indicator.pk: indicator for indicator in version_indicators(observation.instrument_version_id)}
    given = IndicatorRating.objects.filter(observation=observation).values_list("indicator_id", "level")
    rated = loop_ratings((rubric[indicator_id], level) for indicator_id, level in given if indicator_id in rubric)
    return values.observation_data(observation, ratings=()), coaching_loop.suggested_focus(rated.values())


def focus_by_session(viewer: User, learner: UserRef, course_key: CourseRef,
                     observation_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """
    The focus agreed after each of these sessions (the history shows focus after focus). One query.

    Args:
        viewer: the learner, their coaches, course staff.
        learner: the learner, or their id.
        course_key: the course.
        observation_ids: the sessions shown.

    Returns:
        ``{observation id: [(indicator label in the reader's language, practice step)]}``, sessions
        with a plan only.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: ``course_key`` is not a course key, or no such user.
    """
    course_key, learner = parse_course_key(course_key), get_user(learner)
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    shown: dict[int, list[tuple[str, str]]] = {}
    if not observation_ids:
        return shown
    for focus in PlanFocus.objects.filter(plan__learner=learner, plan__course_key=course_key,
                                          plan__observation_id__in=sorted(set(observation_ids))).select_related(
            "plan", "indicator").order_by("plan__observation_id", "position", "id"):
        shown.setdefault(focus.plan.observation_id, []).append((values.indicator_data(focus.indicator).label,
                                                               focus.step))
    return shown
