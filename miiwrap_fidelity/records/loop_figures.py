"""
The leader view's loop-closure figures (issue 31, ADR 0027): each plan with its follow-up, read a
batch of 2,000 plans at a time in two statements (the next session and the focus ratings as subqueries), then
``coaching_loop.loop_figures`` (5+ plans a figure, no learner named).
"""
from django.db.models import OuterRef, Subquery

from ..rules import coaching_loop
from .coaching_plans import CoachingPlan, PlanFocus
from .models import Indicator, IndicatorRating, Observation


def _next_session():
    """The plan's next session: the learner's first submitted primary observation after it, same instrument."""
    return Observation.objects.filter(
        learner_id=OuterRef("learner_id"), course_key=OuterRef("course_key"), status=Observation.SUBMITTED,
        co_observation_of__isnull=True, instrument_version_id=OuterRef("observation__instrument_version_id"),
        practice_date__gte=OuterRef("observation__practice_date"),
    ).exclude(pk=OuterRef("observation_id")).exclude(
        practice_date=OuterRef("observation__practice_date"), pk__lt=OuterRef("observation_id"),
    ).order_by("practice_date", "id")


def coaching_loop_figures(course_key) -> coaching_loop.LoopFigures:
    """The course's loop-closure figures (``coaching_loop.loop_figures``), plans and focus rows streamed."""
    return coaching_loop.loop_figures(_records(course_key))


#: Plans read a batch at a time (keyset by id): memory stays flat on MySQL too, whose driver holds a
#: whole result.
BATCH = 2000


def _records(course_key):
    """Each plan as a ``LoopRecord``, a batch of plans and their focus rows at a time."""
    plans = CoachingPlan.objects.filter(course_key=course_key).annotate(
        following=Subquery(_next_session().values("pk")[:1]),
        following_on=Subquery(_next_session().values("practice_date")[:1]),
    ).order_by("pk")
    rubric: dict = {}
    last = 0
    while True:
        batch = list(plans.filter(pk__gt=last).values_list(
            "pk", "author_id", "observation__practice_date", "following", "following_on")[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        outcomes: dict = {}
        following_of = {row[0]: row[3] for row in batch}
        for plan_id, indicator_id, before, after, confirmed, confirmed_on in PlanFocus.objects.filter(
                plan_id__in=[row[0] for row in batch if row[3] is not None]).annotate(
                before=Subquery(IndicatorRating.objects.filter(observation_id=OuterRef("plan__observation_id"),
                                                               indicator_id=OuterRef("indicator_id")).values("level")[:1]),
                after=Subquery(IndicatorRating.objects.filter(
                    observation_id=Subquery(_next_session_of_focus().values("pk")[:1]),
                    indicator_id=OuterRef("indicator_id")).values("level")[:1]),
        ).values_list("plan_id", "indicator_id", "before", "after", "confirmed_outcome", "followed_up_by_id"):
            indicator = rubric.get(indicator_id) or rubric.setdefault(
                indicator_id, Indicator.objects.get(pk=indicator_id))  # a rubric's few indicators, once each
            # the coach's word holds for the session it was given on (as api.coaching_plans reads it)
            confirmed = confirmed if confirmed_on == following_of[plan_id] else ""
            outcomes.setdefault(plan_id, []).append(confirmed or coaching_loop.follow_up(
                coaching_loop.rated(indicator, before), coaching_loop.rated(indicator, after)))
        for pk, author, planned, following, following_on in batch:
            yield coaching_loop.LoopRecord(author or 0, planned, following_on if following is not None else None,
                                           tuple(outcomes.get(pk, ())))


def _next_session_of_focus():
    """``_next_session`` seen from a focus row (its plan's fields one relation further)."""
    return Observation.objects.filter(
        learner_id=OuterRef(OuterRef("plan__learner_id")), course_key=OuterRef(OuterRef("plan__course_key")),
        status=Observation.SUBMITTED, co_observation_of__isnull=True,
        instrument_version_id=OuterRef(OuterRef("plan__observation__instrument_version_id")),
        practice_date__gte=OuterRef(OuterRef("plan__observation__practice_date")),
    ).exclude(pk=OuterRef(OuterRef("plan__observation_id"))).exclude(
        practice_date=OuterRef(OuterRef("plan__observation__practice_date")),
        pk__lt=OuterRef(OuterRef("plan__observation_id")),
    ).order_by("practice_date", "id")

