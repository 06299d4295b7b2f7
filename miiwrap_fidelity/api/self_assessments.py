"""
Self-assessment: the learner rates an observed session on the same rubric, blind to the coach's
ratings until both are in; then coach and learner see the two side by side (ADR 0014).

A coaching conversation, never evidence: nothing here touches the decision, the gate, reliability
or drift. The blindness rules are ``competency.self_assessment_state`` and its companions; this
module applies them to every read (observations, drift alerts, side by side).
"""
import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, evaluation, time_selectors
from ..records.models import CompetencyPolicy, Indicator, Observation, SelfAssessment
from ..rules import competency, privacy, rubric
from ..rules.competency import SelfAssessmentState
from ..rules.data import LearnerStatusData, SelfAssessmentData
from ..rules.errors import NotFound, PermissionDenied, ValidationError
from ..rules.validation import as_id, clean_text, collect
from . import submission_keys
from . import to_data as values
from .inputs import MAX_NOTE_CHARS, CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, require
from .rubrics import version_indicators


def request_for(observation: Observation, policy: CompetencyPolicy) -> SelfAssessment | None:
    """
    Ask the learner to rate a just-submitted observation, when the course's policy says so. Called
    inside the submitting transaction (after the learner's status row is locked), so the learner
    never sees the coach's ratings before the request exists. Co-ratings and reference ratings are
    never shown to learners, so they are never self-assessed.

    Args:
        observation: the observation just submitted.
        policy: the course's policy (its ``self_assessment`` setting).

    Returns:
        The request made (audited), or None when none is asked for.
    """
    if not policy.self_assessment or observation.co_observation_of_id is not None or observation.is_reference:
        return None
    assessment = SelfAssessment.objects.create(
        observation=observation, course_key=observation.course_key, learner_id=observation.learner_id,
        requested_at=observation.submitted_at)
    audit.record("self_assessment.requested", assessment, subject_user_id=observation.learner_id,
                 course_key=observation.course_key)
    return assessment


def state_of(assessment: SelfAssessment, now: datetime) -> SelfAssessmentState:
    """
    Where a self-assessment stands at ``now`` (``competency.self_assessment_state``).

    Args:
        assessment: the self-assessment row.
        now: the moment.

    Returns:
        Awaiting, submitted, declined or lapsed.
    """
    return competency.self_assessment_state(assessment.status, assessment.requested_at, now)


def hides_coach_ratings(observation: Observation, now: datetime) -> bool:
    """
    Whether the learner must still rate the observed session before seeing the coach's judgement.

    Args:
        observation: the observation (its ``self_assessment`` loaded, to spare a query).
        now: the moment.

    Returns:
        True while ``observation``'s learner must rate it before seeing the coach's judgement.
    """
    assessment = getattr(observation, "self_assessment", None)  # None: no self-assessment was asked for
    return assessment is not None and competency.coach_ratings_hidden_from_learner(state_of(assessment, now))


def blind_to_learner(observation_ids: Collection[int], now: datetime) -> set[int]:
    """
    The observations whose coach's judgement the learner may not see yet, in one query.

    Args:
        observation_ids: the observations' ids.
        now: the moment.

    Returns:
        The ids among ``observation_ids`` whose self-assessment is still awaited.
    """
    if not observation_ids:
        return set()
    return {assessment.observation_id for assessment in SelfAssessment.objects.filter(
        observation_id__in=sorted(observation_ids), status=SelfAssessment.REQUESTED)
        if competency.coach_ratings_hidden_from_learner(state_of(assessment, now))}


def awaiting_before(created_at_field: str, now: datetime) -> Exists:
    """
    A condition for rows of the learner's course (``learner``, ``course_key`` fields) made at or after
    a self-assessment request still awaited: drift alerts such rows raise would tell the learner
    what the coach's ratings were (one statement: an ``EXISTS`` in the row's own query).

    Args:
        created_at_field: the row's field holding when it was made.
        now: the moment.

    Returns:
        An ``EXISTS`` condition, for ``filter`` or ``exclude`` on the rows' query.
    """
    return Exists(SelfAssessment.objects.filter(
        time_selectors.awaited_self_assessment(now), learner_id=OuterRef("learner_id"),
        course_key=OuterRef("course_key"), requested_at__lte=OuterRef(created_at_field)))


def status_seen_by_learner(status: LearnerStatusData, now: datetime) -> LearnerStatusData:
    """
    The learner's own status value without what tells the ratings of a session they have yet to
    rate: its score (when it is the latest) and the reasons naming it. The state and counts stay:
    they are what the certificate gate answers (ADR 0014). One query.

    Args:
        status: the learner's status.
        now: the moment.

    Returns:
        ``status`` itself when no self-assessment is awaited, else a copy without those.
    """
    hidden = {day.isoformat() for day in SelfAssessment.objects.filter(
        time_selectors.awaited_self_assessment(now), learner_id=status.learner.id, course_key=status.course_key,
    ).values_list("observation__practice_date", flat=True)}
    if not hidden:
        return status
    last_hidden = status.last_practice_date is not None and status.last_practice_date.isoformat() in hidden
    return dataclasses.replace(status, reasons=competency.reasons_seen_blind(status.reasons, hidden),
                               last_percent=None if last_hidden else status.last_percent)


def _value(assessment: SelfAssessment, viewer_id: int, now: datetime,
           indicators_by_version: dict[int, list[Indicator]] | None = None) -> SelfAssessmentData:
    state = state_of(assessment, now)
    own = viewer_id == assessment.learner_id
    coach_visible = not (own and competency.coach_ratings_hidden_from_learner(state))
    version_id = assessment.observation.instrument_version_id
    indicators_by_version = {} if indicators_by_version is None else indicators_by_version
    if version_id not in indicators_by_version:  # one query per rubric version, not per session
        indicators_by_version[version_id] = version_indicators(version_id)
    return values.self_assessment_data(assessment, indicators_by_version[version_id], state,
                                       coach_visible=coach_visible,
                                       learner_visible=competency.learner_ratings_visible(state))


def _queryset(course_key: CourseKey) -> QuerySet:
    return SelfAssessment.objects.filter(course_key=course_key).select_related(
        "observation__observer").prefetch_related("observation__ratings__indicator")


def self_assessments_for(viewer: User, learner: UserRef, course_key: CourseRef) -> list[SelfAssessmentData]:
    """
    A learner's self-assessments in the course, for the learner, their coaches and staff: each side
    shown as the blindness rules allow. Three queries plus one per rubric version, whatever the
    number of sessions.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The self-assessments, newest session first.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    now = timezone.now()
    rows = _queryset(course_key).filter(learner=learner).order_by("-observation__practice_date", "-observation_id")
    indicators_by_version: dict[int, list[Indicator]] = {}
    return [_value(assessment, viewer.pk, now, indicators_by_version) for assessment in rows]


def self_assessment_for(viewer: User, course_key: CourseRef, observation_id: int | str) -> SelfAssessmentData:
    """
    The self-assessment of one observed session.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        course_key: the course.
        observation_id: the observation.

    Returns:
        The self-assessment, each side shown as the blindness rules allow.

    Raises:
        NotFound: none was asked for, or it is not the viewer's to see.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    assessment = _queryset(course_key).filter(observation_id=observation_id).first() \
        if as_id(observation_id) else None
    if assessment is None or not can_view_learner(viewer, assessment.learner_id, course_key):
        raise NotFound(_("No self-assessment was asked for this observation."))
    return _value(assessment, viewer.pk, timezone.now())


def _clean_levels(raw: Any) -> Any:
    """Self-ratings arrive as ``{key: level}`` or ``{key: {"level": level}}`` (the coach's shape); levels only."""
    if not isinstance(raw, dict):
        return raw  # ``rubric.clean_ratings`` words the error
    return {key: {"level": entry.get("level")} if isinstance(entry, dict) else {"level": entry}
            for key, entry in raw.items()}


CLOSED_MESSAGES = {
    SelfAssessmentState.SUBMITTED: lambda: _("You have already submitted your self-assessment of this session."),
    SelfAssessmentState.DECLINED: lambda: _("You declined to rate this session; it can no longer change."),
    SelfAssessmentState.LAPSED: lambda: _("This self-assessment closed; the coach's ratings are now shown to you."),
}


def save_self_assessment(actor: User, course_key: CourseRef, observation_id: int | str, data: Any,
                         idempotency_key: str | None = None) -> SelfAssessmentData:
    """
    The learner answers the request for an observed session, once. Final either way; the learner
    then sees the coach's ratings, and the coaches see the learner's. Changes no decision.

    Args:
        actor: the observed learner.
        course_key: the course.
        observation_id: the observed session.
        data: ``{"ratings": {key: level}, "note": text, "privacy_confirmed": bool}`` (every
            indicator rated on the observation's rubric version, validated as the coach's ratings
            are; a note that looks client-identifying is refused unless confirmed, as the coach's
            texts are) or ``{"decline": true}``.
        idempotency_key: a repeat with the same key (``submission_keys``) returns the first answer
            (without a key a second answer is refused: the request is closed).

    Returns:
        The self-assessment as the learner now sees it.

    Raises:
        NotFound: no self-assessment was asked for this observation.
        PermissionDenied: ``actor`` is not the observed learner.
        ValidationError: ``data`` is not an object, the request is closed, ratings or a note
            refused (a note that looks client-identifying is refused unless confirmed), a key that
            is malformed or was used for other content, or not a course key.
    """
    submitted = submission_keys.fingerprint(str(course_key), observation_id, data)
    return submission_keys.once(actor, idempotency_key, "self_assessment", submitted,
                                lambda: _answer(actor, course_key, observation_id, data),
                                lambda _assessment_id: self_assessment_for(actor, course_key, observation_id))


def _answer(actor: User, course_key: CourseRef, observation_id: int | str,
            data: Any) -> tuple[SelfAssessmentData, int]:
    """``save_self_assessment``'s write: ``(SelfAssessmentData, self-assessment id)``."""
    course_key = parse_course_key(course_key)
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("Expected an object.")]})
    found = SelfAssessment.objects.filter(observation_id=observation_id, course_key=course_key).values_list(
        "learner_id", flat=True).first() if as_id(observation_id) else None
    if found is None:
        raise NotFound(_("No self-assessment was asked for this observation."))
    if found != actor.pk:
        raise PermissionDenied(_("Only the observed learner rates their own session."))
    decline = data.get("decline") is True
    errors: dict = {}
    note = "" if decline else collect(errors, clean_text, data.get("note"), "note", MAX_NOTE_CHARS)
    suspected = privacy.fields_with_identifiers({"note": note}) if "note" not in errors else {}
    errors.update(privacy.unconfirmed_errors(suspected, data.get("privacy_confirmed")))
    with transaction.atomic():
        # The learner's status row first (ADR 0006): a second submission waits here, then finds the row answered.
        evaluation.lock_status(actor.pk, course_key)
        assessment = SelfAssessment.objects.select_for_update().select_related("observation").get(
            observation_id=observation_id)
        now = timezone.now()
        state = state_of(assessment, now)
        if state != SelfAssessmentState.AWAITING:
            raise ValidationError({"self_assessment": [CLOSED_MESSAGES[state]()]})
        if not decline:
            ratings = collect(errors, rubric.clean_ratings,
                               version_indicators(assessment.observation.instrument_version_id),
                               _clean_levels(data.get("ratings")), require_all=True)
            if errors:
                raise ValidationError(errors)
            # ``collect`` returns None only for a refusal, and there was none.
            assessment.ratings = {key: rating.level for key, rating in cast(
                dict[str, rubric.CleanRating], ratings).items()}
            assessment.note = note
        assessment.status = SelfAssessment.DECLINED if decline else SelfAssessment.SUBMITTED
        assessment.answered_at = now
        assessment.save(update_fields=["ratings", "note", "status", "answered_at"])
        audit.record("self_assessment.declined" if decline else "self_assessment.submitted", assessment,
                     actor=actor, subject_user_id=actor.pk, course_key=course_key)
        if suspected:
            audit.record("self_assessment.identifier_check_confirmed", assessment, actor=actor,
                         subject_user_id=actor.pk, course_key=course_key)
    return self_assessment_for(actor, course_key, observation_id), assessment.pk

