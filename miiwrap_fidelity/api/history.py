"""
A learner's observation history a page at a time, for the pages and the REST API: the database
pages it (visibility, blind co-rating included, is a condition of the query), and only the page's
observations and their ratings are loaded. A page is five statements whatever the history's length.
"""
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from ..records import evaluation
from ..records.models import Observation
from ..rules import competency, data
from . import self_assessments
from . import to_data as values
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .observations import as_seen_by, visible_observations
from .paged import PagedRows
from .roles import can_view_learner, require
from .rubrics import with_rubric_indicators

#: Observations per page of a history (pages; the REST API takes ``page_size``).
HISTORY_PAGE_SIZE = 10
#: The growth section's score chart shows this many latest observations (its indicator table fewer).
GROWTH_OBSERVATIONS = 30
#: ... and its indicator table the ratings of this many of them, the latest the viewer may see.
GROWTH_RATED = 6
#: What the growth section reads of its observations and the rows joined to them (the database
#: reads every observation of the history to find the latest: the fewer columns, the less it carries).
GROWTH_COLUMNS = (
    "course_key", "learner_id", "observer_id", "instrument_version_id", "practice_date", "setting", "status",
    "overall_note", "met_count", "applicable_count", "critical_missed", "summary_scores", "revision",
    "co_observation_of_id", "is_reference", "submitted_at", "observer__username", "co_observation_of__practice_date",
    "self_assessment__status", "self_assessment__requested_at")


def hidden_from(viewer: User) -> Q:
    """
    ``_hidden_from`` as a query condition: co-raters rate blind, so each side of a co-rated session
    is hidden from the other side's observer until both are submitted.

    Args:
        viewer: who reads the observations.

    Returns:
        A condition on observations that holds for those ``viewer`` may not see yet.
    """
    submitted = Observation.SUBMITTED
    other_side_of_mine = Q(co_observation_of__isnull=False, co_observation_of__observer_id=viewer.pk) & ~Q(
        status=submitted, co_observation_of__status=submitted)
    my_co_ratings = Observation.objects.filter(co_observation_of=OuterRef("pk"), observer_id=viewer.pk)
    rated_by_me_blind = Q(co_observation_of__isnull=True) & (
        Exists(my_co_ratings.exclude(status=submitted)) | (~Q(status=submitted) & Exists(my_co_ratings)))
    return ~Q(observer_id=viewer.pk) & (other_side_of_mine | rated_by_me_blind)


def _visible(viewer: User, learner: User, course_key: Any, include_drafts: bool) -> Any:
    queryset = visible_observations(viewer, learner, course_key, include_drafts)
    return queryset.exclude(hidden_from(viewer)).order_by("-practice_date", "-id")


class ObservationHistory(PagedRows):
    """
    The observations ``viewer`` may see of a learner, newest first, as Django's and DRF's
    paginators take them: ``count()`` (one query) and slices, each loading that slice's
    observations with their ratings (four queries), as ``data.ObservationData``.
    """

    def __init__(self, viewer: User, queryset: Any) -> None:
        now = timezone.now()
        # Amended text, blinded while a self-assessment is awaited (``as_seen_by``).
        super().__init__(queryset, lambda observation: as_seen_by(viewer, observation, now))
        self.viewer = viewer

    def slice_rows(self, index: slice) -> Any:
        return with_rubric_indicators(list(self.queryset[index].select_related(
            "observer", "co_observation_of", "self_assessment").prefetch_related(
            "ratings", "amendments__author")))


def observation_history(viewer: User, learner: UserRef, course_key: CourseRef,
                        include_drafts: bool = False) -> ObservationHistory:
    """
    A learner's observations that ``viewer`` may see, newest first.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.
        include_drafts: also ``viewer``'s own drafts in the course.

    Returns:
        An ``ObservationHistory`` to page (``count()`` and slices of ``data.ObservationData``).

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return ObservationHistory(viewer, _visible(viewer, learner, course_key, include_drafts))


def history_page(viewer: User, learner: UserRef, course_key: CourseRef, number: Any, include_drafts: bool = False,
                 size: int = HISTORY_PAGE_SIZE) -> Page:
    """
    One page of the history (``observation_history``).

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.
        number: the page, 1 first (out of range: the nearest page; not a number: the first).
        include_drafts: also ``viewer``'s own drafts in the course.
        size: observations per page.

    Returns:
        A Django ``Page`` of ``data.ObservationData``.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    history = observation_history(viewer, learner, course_key, include_drafts)
    if _is_first_page(number):
        history.load_first(size)
    return Paginator(history, size).get_page(number)


def _is_first_page(number: Any) -> bool:
    """Page 1, as ``Paginator.get_page`` reads it: "1", or no number or not a number."""
    try:
        return int(number) == 1
    except (TypeError, ValueError):
        return True


def growth_observations(viewer: User, learner: UserRef, course_key: CourseRef,
                        limit: int = GROWTH_OBSERVATIONS, rated: int = GROWTH_RATED) -> list[Any]:
    """
    The latest submitted observations ``viewer`` may see of the learner, for the growth charts: the
    score trend reads the score of each, the indicator table the ratings of the latest few.

    Only those few are loaded whole (ratings, corrections: ``as_seen_by``); the others are score
    snapshots made straight from their row. Loading and wording every rating of every point made
    the learner's page grow with the history up to ``limit`` points (issue 30). Three statements
    whatever the history's length (the observations, the few's ratings and corrections), four when
    some were corrected.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.
        limit: how many.
        rated: how many of the latest whose score ``viewer`` may see come whole, with their ratings.

    Returns:
        ``data.ObservationData``, newest first: the latest ``rated`` that ``viewer`` may see, and
        those blinded to them (ADR 0014), as ``as_seen_by`` shows them; the others as score
        snapshots (``_score_snapshot``: no ratings, note or correction).

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    history = observation_history(viewer, learner, course_key)
    rows = list(history.queryset.filter(status=Observation.SUBMITTED).select_related(
        "observer", "co_observation_of", "self_assessment").only(*GROWTH_COLUMNS)[:limit])
    now = timezone.now()
    # As ``as_seen_by`` blinds them: the learner's own, while their self-assessment is awaited.
    blinded = {o.pk for o in rows if o.learner_id == viewer.pk and self_assessments.hides_coach_ratings(o, now)}
    whole = [o for o in rows if o.pk not in blinded][:rated]
    prefetch_related_objects(whole, "ratings", "amendments__author")
    with_rubric_indicators(whole)
    whole_ids = {o.pk for o in whole} | blinded
    return [as_seen_by(viewer, o, now) if o.pk in whole_ids else _score_snapshot(o) for o in rows]


def _score_snapshot(observation: Observation) -> data.ObservationData:
    """
    What the score chart reads of a submitted observation whose score its viewer may see: when,
    where, by whom, the score and what the rules read; no ratings, note or correction (those are
    the history's).
    """
    return replace(values.observation_data(observation, ratings=()), overall_note="")


def qualifying_ids(policy: Any, observations: Iterable[Any]) -> set[int]:
    """
    Which observations qualify for at least one requirement set (``competency.qualifies_for_a_set``).

    Args:
        policy: the course's policy (``data.PolicyData``, as ``get_policy`` returns it), or None.
        observations: ``data.ObservationData`` (e.g. ``growth_observations``).

    Returns:
        Their ids that qualify (co-ratings never do); none without a policy.
    """
    if policy is None:
        return set()
    rules = evaluation.rules_for(policy)
    # A co-rating serves rater agreement, never evidence.
    return {o.pk for o in observations
            if o.co_observation_of_id is None and competency.qualifies_for_a_set(rules, values.observation_record(o))}


def qualifying_percent(policy: Any) -> float | None:
    """
    The percent of indicators met a session needs (``competency.qualifying_percent``), for charts.

    Args:
        policy: the course's policy (``data.PolicyData``), or None.

    Returns:
        The percent, or None without a policy or when no requirement set asks for one.
    """
    return None if policy is None else competency.qualifying_percent(evaluation.rules_for(policy).sets)


def own_drafts(viewer: User, learner: UserRef, course_key: CourseRef) -> list[Any]:
    """
    ``viewer``'s draft observations of the learner, newest first.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        ``data.ObservationData`` without ratings.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return [values.observation_data(draft, ratings=()) for draft in Observation.objects.filter(
        learner=learner, course_key=course_key, status=Observation.DRAFT,
        observer_id=viewer.pk).select_related("observer", "co_observation_of").order_by("-practice_date", "-id")]


