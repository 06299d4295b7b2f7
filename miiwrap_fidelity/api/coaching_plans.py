"""
The coaching loop (issue 31, ADR 0027): after an observed session the coach (with the learner)
agrees one or two focus indicators with a practice step each; the learner adds their note; the next
observation follows each focus up (improved, held or slipped: computed from the ratings, the coach
may confirm or correct it).
"""
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ..records import audit, outbox
from ..records.coaching_plans import CoachingPlan, PlanFocus
from ..records.models import Indicator, IndicatorRating, Observation
from ..rules import coaching_loop, data, privacy
from ..rules.competency import FOLLOW_UP_CONFIRMED, PLAN_MESSAGE, PLAN_SAVED
from ..rules.errors import NotFound, ValidationError
from ..rules.validation import as_id, clean_text
from . import to_data as values
from .inputs import MAX_REASON_CHARS, CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, require, require_coach
from .rubrics import loop_ratings


def _observation(observation_id: int | str, course_key: CourseRef | None = None) -> Observation:
    """
    A submitted primary observation (a co-rating serves rater agreement, never a plan); with
    ``course_key`` (a REST path names its course) one of that course, else ``NotFound``.
    """
    found = Observation.objects.filter(pk=observation_id).first() if as_id(observation_id) else None
    if course_key is not None and (found is None or found.course_key != parse_course_key(course_key)):
        raise NotFound(_("No such observation in this course."))
    if found is None or found.status != Observation.SUBMITTED or found.co_observation_of_id:
        raise ValidationError({"observation": [_("Choose a submitted observation of the learner.")]})
    return found


def _plan(plan_id: int | str, course_key: CourseRef | None = None) -> CoachingPlan:
    """The plan; with ``course_key``, only one of that course (``NotFound`` otherwise)."""
    plan = CoachingPlan.objects.filter(pk=plan_id).select_related("observation").first() if as_id(plan_id) else None
    if course_key is not None and (plan is None or plan.course_key != parse_course_key(course_key)):
        raise NotFound(_("No such plan in this course."))
    if plan is None:
        raise ValidationError({"plan": [_("No such plan.")]})
    return plan


def _rated(observation: Observation) -> dict[int, coaching_loop.Rated]:
    """``{indicator id: its rating}`` in the observation, as the loop's rules read them (one query)."""
    return loop_ratings((rating.indicator, rating.level)
                        for rating in IndicatorRating.objects.filter(observation=observation).select_related("indicator"))


def suggested_focus(actor: User, observation_id: int | str, *,
                    course_key: CourseRef | None = None) -> list[data.IndicatorData]:
    """
    The focus a plan after this observation suggests (``coaching_loop.suggested_focus``).

    Args:
        actor: the coach (or course staff) planning.
        observation_id: the observed session.
        course_key: the course it must be of (REST names it in the path); None: any.

    Returns:
        Up to two indicators: missed essentials first, then the lowest-rated.

    Raises:
        NotFound: ``course_key`` given and no such observation in it.
        PermissionDenied: ``actor`` may not coach this learner here.
        ValidationError: no such submitted observation.
    """
    observation = _observation(observation_id, course_key)
    require_coach(actor, observation.learner_id, observation.course_key)
    rated = _rated(observation)
    keys = coaching_loop.suggested_focus(rated.values())
    indicators = {indicator.key: indicator for indicator in Indicator.objects.filter(
        version_id=observation.instrument_version_id, key__in=keys)}
    return [values.indicator_data(indicators[key]) for key in keys]


def save_plan(actor: User, observation_id: int | str, focus: Sequence[Mapping[str, Any]],
              privacy_confirmed: bool = False, *, course_key: CourseRef | None = None) -> data.PlanData:
    """
    Agree the plan after an observed session: one or two focus indicators of its instrument, a
    practice step each. Saving again replaces the focus (the learner's note stays).

    A saved change of the focus records, in the same transaction, its consequences (ADR 0019): the
    ``coaching_plan_saved`` signal with its tracking event (ids and indicator keys, never a step)
    and the learner's message with their focus (``messaging.send_plan_message``). Saving the same
    focus and steps again records nothing: a client's retry never tells the learner twice.

    Args:
        actor: the learner's coach or course staff.
        observation_id: the observed session.
        focus: ``[{"indicator": its key or id, "step": the practice step}]``, one or two.
        privacy_confirmed: ``actor`` confirmed the steps do not identify a client.
        course_key: the course the observation must be of (REST names it in the path); None: any.

    Returns:
        The plan.

    Raises:
        NotFound: ``course_key`` given and no such observation in it.
        PermissionDenied: ``actor`` may not coach this learner here.
        ValidationError: no such submitted observation; no, too many, repeated or unknown
            indicators; an empty or too long step; a step that looks client-identifying (unless
            confirmed). Each problem keyed by its place (``focus[1].step``).
    """
    observation = _observation(observation_id, course_key)
    require_coach(actor, observation.learner_id, observation.course_key)
    chosen = _clean_focus(focus, observation)
    privacy.require_confirmed({f"focus[{index}].step": step for index, (_indicator, step) in enumerate(chosen)},
                              privacy_confirmed)
    with transaction.atomic():
        plan, _created = CoachingPlan.objects.select_for_update().get_or_create(
            observation=observation, defaults={"course_key": observation.course_key,
                                               "learner_id": observation.learner_id, "author": actor})
        before = list(plan.focus.order_by("position", "id").values_list("indicator_id", "step"))
        if plan.author_id is None:  # the coach who agreed it stays its author (a retired one: the next writer)
            plan.author = actor
        plan.save(update_fields=["author", "updated_at"])
        plan.focus.all().delete()
        PlanFocus.objects.bulk_create(PlanFocus(plan=plan, indicator=indicator, position=index, step=step)
                                      for index, (indicator, step) in enumerate(chosen))
        audit.record("plan.saved", plan, actor=actor, course_key=observation.course_key)
        if before != [(indicator.pk, step) for indicator, step in chosen]:
            _record_plan_saved(plan, actor, [indicator.key for indicator, _step in chosen])
    return _plan_data(plan)


def _record_plan_saved(plan: CoachingPlan, actor: User, indicator_keys: list[str]) -> None:
    """The saved plan's consequences, in its transaction (ADR 0019): ids and keys, never a step."""
    outbox.record(PLAN_SAVED, plan.learner_id, plan.course_key, {
        "plan_id": plan.pk, "observation_id": plan.observation_id, "coach_id": actor.pk,
        "indicator_keys": indicator_keys})
    outbox.record(PLAN_MESSAGE, plan.learner_id, plan.course_key, {"plan_id": plan.pk})


def _clean_focus(focus: object, observation: Observation) -> list[tuple[Indicator, str]]:
    if not isinstance(focus, (list, tuple)) or not 1 <= len(focus) <= coaching_loop.MAX_FOCUS:
        raise ValidationError({"focus": [_("Choose one or two focus indicators.")]})
    indicators = {indicator.key: indicator for indicator in Indicator.objects.filter(
        version_id=observation.instrument_version_id)}
    by_id = {indicator.pk: indicator for indicator in indicators.values()}
    errors: dict[str, list[str]] = {}
    chosen: list[tuple[Indicator, str]] = []
    for index, item in enumerate(focus):
        item = item if isinstance(item, Mapping) else {}
        named = item.get("indicator")
        indicator = indicators.get(named) if isinstance(named, str) else None
        indicator = indicator or (by_id.get(as_id(named)) if not isinstance(named, bool) else None)
        if indicator is None:
            errors[f"focus[{index}].indicator"] = [_("Choose an indicator of the session's instrument.")]
        elif any(indicator.pk == other.pk for other, _step in chosen):
            errors[f"focus[{index}].indicator"] = [_("This indicator is already a focus of the plan.")]
        try:
            step = clean_text(item.get("step"), f"focus[{index}].step", MAX_REASON_CHARS, required=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if indicator is not None:
            chosen.append((indicator, step))
    if errors:
        raise ValidationError(errors)
    return chosen


def add_learner_note(learner: User, plan_id: int | str, note: str, privacy_confirmed: bool = False, *,
                     course_key: CourseRef | None = None) -> data.PlanData:
    """
    The learner's own note on their plan (a guided reflection).

    Args:
        learner: the learner the plan is for (only they write it).
        plan_id: the plan.
        note: the note ("" clears it).
        privacy_confirmed: the learner confirmed the note does not identify a client.
        course_key: the course the plan must be of (REST names it in the path); None: any.

    Returns:
        The plan.

    Raises:
        NotFound: ``course_key`` given and no such plan in it.
        PermissionDenied: ``learner`` is not the plan's learner.
        ValidationError: no such plan; a too long note, or one that looks client-identifying.
    """
    plan = _plan(plan_id, course_key)
    require(plan.learner_id == learner.pk, _("Only the learner writes their note on the plan."))
    plan.learner_note = clean_text(note, "note", MAX_REASON_CHARS)
    privacy.require_confirmed({"note": plan.learner_note}, privacy_confirmed)
    plan.save(update_fields=["learner_note", "updated_at"])
    audit.record("plan.noted", plan, actor=learner, course_key=plan.course_key)
    return _plan_data(plan)


def current_plan(viewer: User, learner: UserRef, course_key: CourseRef) -> data.PlanData | None:
    """
    The learner's latest plan in the course, each focus followed up by the next observation.

    Args:
        viewer: the learner, their coaches, course staff.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The plan (by the practice date of its session), or None when there is none.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: ``course_key`` is not a course key, or no such user.
    """
    course_key, learner = parse_course_key(course_key), get_user(learner)
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    plan = CoachingPlan.objects.filter(learner=learner, course_key=course_key).select_related(
        "observation", "author").order_by("-observation__practice_date", "-observation_id").first()
    return _plan_data(plan) if plan is not None else None


def _next_observation(plan: CoachingPlan) -> Observation | None:
    """The learner's first submitted primary observation in the course after the plan's session."""
    session = plan.observation
    return Observation.objects.filter(
        learner_id=plan.learner_id, course_key=plan.course_key, status=Observation.SUBMITTED,
        co_observation_of__isnull=True, instrument_version_id=session.instrument_version_id,
        practice_date__gte=session.practice_date).exclude(
        practice_date=session.practice_date, pk__lte=session.pk).order_by("practice_date", "id").first()


def _plan_data(plan: CoachingPlan) -> data.PlanData:
    focus = list(plan.focus.select_related("indicator"))
    following = _next_observation(plan)
    before, after = _rated(plan.observation), (_rated(following) if following else {})
    return data.PlanData(
        id=plan.pk, course_key=str(plan.course_key), learner_id=plan.learner_id, observation_id=plan.observation_id,
        instrument_version_id=plan.observation.instrument_version_id,
        practice_date=plan.observation.practice_date, author=values.user_ref(plan.author),
        learner_note=plan.learner_note, created_at=plan.created_at,
        focus=tuple(data.FocusData(
            indicator_id=item.indicator_id, indicator_key=item.indicator.key,
            indicator_label=values.indicator_data(item.indicator).label, step=item.step,
            computed_outcome=coaching_loop.follow_up(before.get(item.indicator_id), after.get(item.indicator_id))
            if following else None,
            # the coach's word holds for the session it was given on (a session recorded in between moves it)
            confirmed_outcome=item.confirmed_outcome if following and item.followed_up_by_id == following.pk else "",
            followed_up_by=following.pk if following else None)
            for item in focus))


def confirm_follow_up(actor: User, plan_id: int | str, indicator: str, outcome: str, *,
                      course_key: CourseRef | None = None) -> data.PlanData:
    """
    The coach confirms (or corrects) how the next observation followed a focus up.

    A confirmation that changes what was stored records, in the same transaction, the
    ``coaching_follow_up_confirmed`` signal with its tracking event (ADR 0019; ids, the indicator's
    key and outcome codes); confirming the same again records nothing.

    Args:
        actor: the learner's coach or course staff.
        plan_id: the plan.
        indicator: the focus indicator's key.
        outcome: ``improved``, ``held`` or ``slipped``.
        course_key: the course the plan must be of (REST names it in the path); None: any.

    Returns:
        The plan.

    Raises:
        NotFound: ``course_key`` given and no such plan in it.
        PermissionDenied: ``actor`` may not coach this learner here.
        ValidationError: no such plan or focus; no next observation yet; an unknown outcome.
    """
    plan = _plan(plan_id, course_key)
    require_coach(actor, plan.learner_id, plan.course_key)
    if outcome not in coaching_loop.OUTCOMES:
        raise ValidationError({"outcome": [_("Choose improved, held or slipped.")]})
    item = plan.focus.filter(indicator__key=indicator).first() if isinstance(indicator, str) else None
    if item is None:
        raise ValidationError({"indicator": [_("This indicator is not a focus of the plan.")]})
    following = _next_observation(plan)
    if following is None:
        raise ValidationError({"outcome": [_("The learner has not been observed since the plan.")]})
    if (item.confirmed_outcome, item.followed_up_by_id) == (outcome, following.pk):
        return _plan_data(plan)  # confirmed so already (a client's retry): nothing new to record or announce
    computed = coaching_loop.follow_up(_rated(plan.observation).get(item.indicator_id),
                                       _rated(following).get(item.indicator_id))
    with transaction.atomic():
        item.confirmed_outcome, item.followed_up_by = outcome, following
        item.save(update_fields=["confirmed_outcome", "followed_up_by"])
        audit.record("plan.followed_up", plan, actor=actor, course_key=plan.course_key)
        outbox.record(FOLLOW_UP_CONFIRMED, plan.learner_id, plan.course_key, {
            "plan_id": plan.pk, "indicator_key": indicator, "outcome": outcome, "computed_outcome": computed,
            "observation_id": following.pk, "coach_id": actor.pk})
    return _plan_data(plan)

