"""
Records as they leave the api: model rows turned into ``miiwrap_fidelity.rules.data`` values.

Each function expects the row's relations already loaded (``select_related`` /
``prefetch_related`` in the query that read it), so making a value never queries; the one
exception is an observation with summary scores, whose version's definitions are read once per
request (``version_summaries``).
"""
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, overload

from django.utils.translation import get_language, gettext_lazy

from ..records.models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    DriftAlert,
    Indicator,
    IndicatorRating,
    InstrumentVersion,
    LearnerStatus,
    Observation,
    ObservationAmendment,
    Reflection,
    SelfAssessment,
    SignOff,
)
from ..rules import competency, data
from ..rules import rating_scales as rating_values
from .memo import per_request

SELF_ASSESSMENT_STATE_LABELS = {
    competency.SelfAssessmentState.AWAITING: gettext_lazy("Awaiting the learner's self-assessment"),
    competency.SelfAssessmentState.SUBMITTED: gettext_lazy("Self-assessment submitted"),
    competency.SelfAssessmentState.DECLINED: gettext_lazy("Self-assessment declined"),
    competency.SelfAssessmentState.LAPSED: gettext_lazy("Self-assessment not given in time"),
}


#: A policy's settings (``save_policy`` keywords); ``PolicyData`` carries them and the first set's
#: instrument version (the course's main instrument) as ``instrument_version_id``.
POLICY_FIELDS = (
    "enabled", "require_lead_signoff", "validity_months", "mode", "drift_window_observations",
    "drift_window_days", "drift_min_observations", "require_calibration", "calibration_threshold",
    "self_assessment",
    "requirement_sets", "deadline_days", "prerequisite_course", "program",
)


@overload
def policy_data(policy: None) -> None: ...
@overload
def policy_data(policy: CompetencyPolicy) -> data.PolicyData: ...
def policy_data(policy: CompetencyPolicy | None) -> data.PolicyData | None:
    """
    A ``CompetencyPolicy`` row as ``data.PolicyData`` (None stays None).

    Args:
        policy: the row, or None.

    Returns:
        Its settings, the rubric as its id; None for None.
    """
    if policy is None:
        return None
    return data.PolicyData(course_key=str(policy.course_key), instrument_version_id=policy.instrument_version_id,
                           updated_at=policy.updated_at,
                           **{name: getattr(policy, name) for name in POLICY_FIELDS if name != "requirement_sets"},
                           requirement_sets=tuple(policy.requirement_sets or ()))


@overload
def user_ref(user: None) -> None: ...
@overload
def user_ref(user: Any) -> data.UserRef: ...
def user_ref(user: Any) -> data.UserRef | None:
    """
    A user as ``data.UserRef`` (None stays None).

    Args:
        user: a user (the platform's user model), or None.

    Returns:
        Their id and username; None for None.
    """
    return data.UserRef(user.pk, user.username) if user is not None else None


@overload
def certification_data(certification: None, now: datetime) -> None: ...
@overload
def certification_data(certification: Certification, now: datetime) -> data.CertificationData: ...
def certification_data(certification: Certification | None, now: datetime) -> data.CertificationData | None:
    """
    A ``Certification`` as ``CertificationData`` at ``now`` (None stays None).

    Args:
        certification: the row, or None.
        now: the moment its state is told at.

    Returns:
        The certification with its state and whether it is active at ``now``; None for None.
    """
    if certification is None:
        return None
    state = competency.certification_state(certification.expires_at, certification.revoked_at, now)
    return data.CertificationData(certification.pk, certification.issued_at, certification.expires_at,
                                  certification.revoked_at, str(state),
                                  competency.is_active(certification.expires_at, certification.revoked_at, now))


def status_data(status: LearnerStatus, learner: Any, now: datetime) -> data.LearnerStatusData:
    """
    A ``LearnerStatus`` (its certification loaded) as ``LearnerStatusData``.

    Args:
        status: the status row.
        learner: its learner (a user).
        now: the moment its certification's state is told at.

    Returns:
        The learner's stored status.
    """
    return data.LearnerStatusData(
        learner=user_ref(learner), course_key=str(status.course_key),
        state=status.state, state_label=str(status.get_state_display()),
        qualifying_count=status.qualifying_count, required_count=status.required_count,
        last_practice_date=status.last_practice_date, last_percent=status.last_percent,
        reasons=tuple(status.reasons or ()),
        certification=certification_data(status.certification if status.certification_id else None, now),
        evaluated_at=status.evaluated_at, enrolled=status.enrolled, due_date=status.due_date,
        overdue=status.overdue, has_coach=status.has_coach,
    )


@overload
def signoff_data(signoff: None, blind: Collection[int] = frozenset()) -> None: ...
@overload
def signoff_data(signoff: SignOff, blind: Collection[int] = frozenset()) -> data.SignOffData: ...
def signoff_data(signoff: SignOff | None, blind: Collection[int] = frozenset()) -> data.SignOffData | None:
    """
    A ``SignOff`` (its actor loaded) as ``SignOffData``; the evidence's score of each ``blind``
    observation left out (the learner has yet to rate those sessions, ADR 0014).

    Args:
        signoff: the row, or None.
        blind: ids of the observations whose score the reader may not see yet.

    Returns:
        The sign-off; None for None.
    """
    if signoff is None:
        return None
    evidence = signoff.evidence
    if blind and isinstance(evidence, dict):
        evidence = {**evidence, "observations": [{**entry, "percent": None} if entry.get("id") in blind else entry
                                                 for entry in evidence.get("observations", [])]}
    return data.SignOffData(
        id=signoff.pk, learner_id=signoff.learner_id, actor=user_ref(signoff.actor),
        action=signoff.action, action_label=str(signoff.get_action_display()), level=signoff.level,
        level_label=str(signoff.get_level_display()), reason=signoff.reason, evidence=evidence,
        created_at=signoff.created_at,
    )


def assignment_data(assignment: CoachAssignment) -> data.CoachAssignmentData:
    """
    A ``CoachAssignment`` (coach and learner loaded) as ``CoachAssignmentData``.

    Args:
        assignment: the row.

    Returns:
        The assignment.
    """
    return data.CoachAssignmentData(assignment.pk, str(assignment.course_key), user_ref(assignment.coach),
                                    user_ref(assignment.learner), assignment.created_at)


def indicator_data(indicator: Indicator, language: str | None = None) -> data.IndicatorData:
    """
    An ``Indicator`` as ``IndicatorData``, its texts in ``language`` (default: the active one;
    the instrument's English text where it has no translation).

    Args:
        indicator: the row.
        language: the language code to word it in (default: the active language).

    Returns:
        The indicator with its translated texts and level labels (made once per request and
        language for a stored indicator).
    """
    language = language or get_language()
    translations = indicator.translations or {}

    def text(field: str) -> str:
        return rating_values.translated(getattr(indicator, field), translations, language, field)

    def build() -> data.IndicatorData:
        return data.IndicatorData(
            indicator.key, text("domain"), text("label"), text("description"), indicator.critical,
            rating_values.translated_levels(indicator.levels, translations, language), indicator.pk,
            indicator.position, indicator.kind, indicator.spec or {})

    # Once per request: a history page words every rating of every observation with its indicator
    # (indicators of a version in use never change).
    return per_request(("indicator_data", indicator.pk, language), build) if indicator.pk else build()


def rating_data(rating: IndicatorRating, indicator: Indicator) -> data.RatingData:
    """
    An ``IndicatorRating`` as ``RatingData``, worded with its indicator in the active language.

    Args:
        rating: the rating row.
        indicator: its indicator.

    Returns:
        The level with its label and outcome, and the feedback.
    """
    shown = indicator_data(indicator)
    level = shown.level(rating.level) if rating.level else None
    outcome = _outcome(level)
    return data.RatingData(
        indicator_id=indicator.pk, indicator_key=indicator.key, indicator_label=shown.label,
        level=rating.level, level_label=(level.get("label", rating.level) if level else rating.level),
        outcome=outcome, strength=rating.strength, next_step=rating.next_step,
    )


def version_summaries(version_id: int) -> list[dict[str, Any]]:
    """
    A rubric version's summary score definitions (read once per request; versions are immutable).

    Args:
        version_id: the instrument version.

    Returns:
        Its summary definitions as the instrument file declares them (empty without any).
    """
    return _version_rules(version_id).get("summaries") or []


def version_settings(version_id: int) -> list[str]:
    """
    The practice settings a rubric version declares (its file's ``settings``; read once per request
    with its summaries).

    Args:
        version_id: the instrument version.

    Returns:
        The declared setting keys; empty when the version declares none (every setting).
    """
    return _version_rules(version_id).get("settings") or []


def _version_rules(version_id: int) -> dict[str, Any]:
    """A version's summaries and settings, in one statement once per request (versions are immutable)."""
    return per_request(("version_rules", version_id), lambda: InstrumentVersion.objects.filter(
        pk=version_id).values("summaries", "settings").first() or {})


def remember_version_rules(version: InstrumentVersion) -> None:
    """
    Keep a version row already read (the policy's, with its policy) as ``version_summaries`` and
    ``version_settings`` read it: no second statement for it in the request.

    Args:
        version: the instrument version row.
    """
    per_request(("version_rules", version.pk), lambda: {"summaries": version.summaries,
                                                        "settings": version.settings})


def summary_definitions(summaries: Iterable[dict[str, Any]], language: str | None = None) -> list[dict[str, Any]]:
    """
    Summary definitions with their label, description and level labels in ``language``.

    Args:
        summaries: the definitions (``version_summaries``).
        language: the language code (default: the active language).

    Returns:
        Copies of the definitions, worded in ``language``.
    """
    language = language or get_language()
    shown = []
    for summary in summaries:
        translations = summary.get("translations") or {}
        shown.append({**summary, "label": rating_values.translated(summary["label"], translations, language, "label"),
                      "description": rating_values.translated(summary.get("description", ""), translations,
                                                              language, "description"),
                      "levels": rating_values.translated_levels(summary.get("levels", ()), translations, language)})
    return shown


def summary_score_data(version_id: int, scores: Mapping[str, float] | None) -> tuple[data.SummaryScoreData, ...]:
    """
    An observation's stored summary scores as ``SummaryScoreData`` in the instrument's order,
    each with the proficiency level it reaches. No query when there are none (levels-only rubrics).

    Args:
        version_id: the observation's instrument version.
        scores: its stored scores, ``{summary key: value}``.

    Returns:
        The scores the version defines, in its order.
    """
    if not scores:
        return ()
    shown = []
    for summary in summary_definitions(version_summaries(version_id)):
        if summary["key"] not in scores:
            continue
        value = scores[summary["key"]]
        level = rating_values.proficiency(summary, value)
        shown.append(data.SummaryScoreData(summary["key"], summary["label"], value,
                                           level["key"] if level else "", level["label"] if level else ""))
    return tuple(shown)


def observation_record(observation: data.ObservationData) -> competency.ObservationRecord:
    """
    An ``ObservationData`` as the rules read it (``competency.ObservationRecord``).

    Args:
        observation: the observation.

    Returns:
        Its score snapshot.
    """
    return competency.ObservationRecord(
        observation.id, observation.observer.id, observation.instrument_version_id, observation.practice_date,
        observation.met_count or 0, observation.applicable_count or 0, tuple(observation.critical_missed),
        tuple(sorted((score.key, score.value) for score in observation.summary_scores)), observation.setting)


def observation_data(observation: Observation, ratings: Iterable[IndicatorRating] | None = None,
                     amendments: Sequence[ObservationAmendment] = (),
                     show_original: bool = False) -> data.ObservationData:
    """
    An ``Observation`` (observer, session and ``ratings__indicator`` loaded) as ``ObservationData``.

    Args:
        observation: the row.
        ratings: its ``IndicatorRating`` rows when they were just written (not read back); None
            reads them from the observation.
        amendments: its ``ObservationAmendment`` rows (author loaded), oldest first: the latest
            one's text is shown.
        show_original: add the original text (for coaches and staff).

    Returns:
        The observation with its ratings in rubric order and its summary scores.
    """
    ratings = observation.ratings.all() if ratings is None else ratings
    ratings = sorted(ratings, key=lambda r: (r.indicator.position, r.indicator_id))
    primary = observation.co_observation_of if observation.co_observation_of_id else None
    shown_ratings = tuple(rating_data(rating, rating.indicator) for rating in ratings)
    note, amendment = observation.overall_note, None
    if amendments:
        latest = amendments[-1]
        amendment = data.AmendmentData(
            latest.pk, user_ref(latest.author), latest.reason, latest.created_at, len(amendments),
            original_note=observation.overall_note if show_original else "",
            original_feedback=tuple((r.indicator_label, r.strength, r.next_step) for r in shown_ratings
                                    if r.strength or r.next_step) if show_original else (),
            shows_original=show_original)
        note = latest.overall_note
        shown_ratings = tuple(replace(r, **{part: latest.feedback.get(r.indicator_key, {}).get(part, "")
                                            for part in ("strength", "next_step")}) for r in shown_ratings)
    return data.ObservationData(
        id=observation.pk, course_key=str(observation.course_key), learner_id=observation.learner_id,
        observer=user_ref(observation.observer), instrument_version_id=observation.instrument_version_id,
        practice_date=observation.practice_date, setting=observation.setting,
        setting_label=str(observation.get_setting_display()), status=observation.status,
        status_label=str(observation.get_status_display()), overall_note=note,
        percent=observation.percent, met_count=observation.met_count, applicable_count=observation.applicable_count,
        critical_missed=tuple(observation.critical_missed or ()), revision=observation.revision,
        submitted_at=observation.submitted_at, co_observation_of_id=observation.co_observation_of_id,
        co_observation_of_date=primary.practice_date if primary else None, is_reference=observation.is_reference,
        ratings=shown_ratings, amendment=amendment,
        summary_scores=summary_score_data(observation.instrument_version_id, observation.summary_scores),
    )


def reflection_data(reflection: Reflection, indicators: Mapping[str, Indicator] | None = None) -> data.ReflectionData:
    """
    A ``Reflection`` (``comments__author`` loaded) as ``ReflectionData``.

    Args:
        reflection: the row.
        indicators: ``{key: Indicator}`` of the rubric, to word its self-ratings with the rubric's
            labels (none: no labels).

    Returns:
        The reflection with its comments.
    """
    self_rated: list[tuple[int, str, str]] = []
    if indicators:
        for key, level_key in (reflection.self_ratings or {}).items():
            indicator = indicators.get(key)
            if indicator is not None:
                shown = indicator_data(indicator)  # in the reader's language, as the rubric is shown
                level = shown.level(level_key)
                self_rated.append((indicator.position, shown.label,
                                   level.get("label", level_key) if level else level_key))
    return data.ReflectionData(
        id=reflection.pk, course_key=str(reflection.course_key), learner_id=reflection.learner_id,
        block_id=reflection.block_id, title=reflection.title, prompts=reflection.prompts,
        answers=reflection.answers, self_ratings=reflection.self_ratings, status=reflection.status,
        submitted_at=reflection.submitted_at,
        comments=tuple(data.CommentData(c.pk, user_ref(c.author), c.text, c.created_at)
                       for c in reflection.comments.all()),
        self_rating_labels=tuple((label, level) for _position, label, level in sorted(self_rated)),
    )


def alert_data(alert: DriftAlert) -> data.DriftAlertData:
    """
    A ``DriftAlert`` (learner and acknowledging coach loaded) as ``DriftAlertData``.

    Args:
        alert: the row.

    Returns:
        The alert.
    """
    return data.DriftAlertData(
        id=alert.pk, learner=user_ref(alert.learner), kind=alert.kind, indicator_key=alert.indicator_key,
        details=alert.details, created_at=alert.created_at, resolved_at=alert.resolved_at,
        acknowledged_at=alert.acknowledged_at, acknowledged_by=user_ref(alert.acknowledged_by),
        plan_note=alert.plan_note,
    )


def blinded_observation_data(observation: Observation) -> data.ObservationData:
    """
    What a learner sees of an observation they have yet to rate themselves (ADR 0014): when, where
    and by whom; none of the coach's judgement. Built from the identifying fields only, so whatever
    an observation later carries (scores, notes) stays hidden unless named here.

    Args:
        observation: the row (its observer loaded).

    Returns:
        The observation, ``blinded``: no score, note or ratings.
    """
    return data.ObservationData(
        id=observation.pk, course_key=str(observation.course_key), learner_id=observation.learner_id,
        observer=user_ref(observation.observer), instrument_version_id=observation.instrument_version_id,
        practice_date=observation.practice_date, setting=observation.setting,
        setting_label=str(observation.get_setting_display()), status=observation.status,
        status_label=str(observation.get_status_display()), overall_note="", percent=None, met_count=None,
        applicable_count=None, critical_missed=(), revision=observation.revision,
        submitted_at=observation.submitted_at, co_observation_of_id=None, co_observation_of_date=None,
        is_reference=False, blinded=True,
    )


def _outcome(level: dict[str, Any] | None) -> str:
    return "unrated" if level is None else "na" if level.get("met") is None else (
        "met" if level["met"] else "not_yet")


def self_assessment_data(assessment: SelfAssessment, indicators: Iterable[Indicator],
                         state: competency.SelfAssessmentState, coach_visible: bool,
                         learner_visible: bool) -> data.SelfAssessmentData:
    """
    A ``SelfAssessment`` (observation, its observer and ``ratings__indicator`` loaded when
    ``coach_visible``) as ``SelfAssessmentData``: one row per indicator of the rubric version, each
    side filled only when the viewer may see it.

    Args:
        assessment: the row.
        indicators: the ``Indicator`` rows of the observation's rubric version, in rubric order.
        state: its state (``competency.SelfAssessmentState``).
        coach_visible: the viewer may see the coach's ratings.
        learner_visible: the viewer may see the learner's own ratings and note.

    Returns:
        The self-assessment, side by side.
    """
    observation = assessment.observation
    coach_ratings = {r.indicator_id: r for r in observation.ratings.all()} if coach_visible else {}
    rows = []
    for indicator in indicators:
        rating = coach_ratings.get(indicator.pk)
        coach = rating_data(rating, indicator) if rating is not None else None
        shown = indicator_data(indicator)  # its texts and level labels in the reader's language
        own_key = (assessment.ratings or {}).get(indicator.key, "") if learner_visible else ""
        own = shown.level(own_key) if own_key else None
        agreement = competency.rating_agreement(
            coach.level if coach else "", coach.outcome if coach else "unrated", own_key, _outcome(own),
        ) if coach_visible and learner_visible else ""
        rows.append(data.SideBySideRow(
            indicator_key=indicator.key, indicator_label=shown.label, critical=indicator.critical, coach=coach,
            learner_level=own_key, learner_level_label=own.get("label", own_key) if own else own_key,
            learner_outcome=_outcome(own), agreement=agreement, domain=shown.domain,
            description=shown.description, levels=tuple(shown.levels), kind=shown.kind, count_max=shown.count_max))
    return data.SelfAssessmentData(
        id=assessment.pk, observation_id=observation.pk, course_key=str(assessment.course_key),
        learner_id=assessment.learner_id, observer=user_ref(observation.observer),
        practice_date=observation.practice_date, setting_label=str(observation.get_setting_display()),
        state=str(state), state_label=str(SELF_ASSESSMENT_STATE_LABELS[state]),
        requested_at=assessment.requested_at,
        closes_at=competency.self_assessment_closes_at(assessment.requested_at),
        answered_at=assessment.answered_at, coach_visible=coach_visible, learner_visible=learner_visible,
        note=assessment.note if learner_visible else "", rows=tuple(rows),
    )
