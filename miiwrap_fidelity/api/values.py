"""
Records as they leave the api: model rows turned into ``miiwrap_fidelity.data`` values.

Each function expects the row's relations already loaded (``select_related`` /
``prefetch_related`` in the query that read it), so making a value never queries.
"""
from .. import competency, data


#: A policy's settings (``save_policy`` keywords); ``PolicyData`` carries them, the rubric as its id.
POLICY_FIELDS = (
    "enabled", "instrument_version", "min_observations", "min_percent", "window_days", "critical_required",
    "min_distinct_observers", "require_lead_signoff", "validity_months", "mode", "drift_window_observations",
    "drift_window_days", "drift_min_observations", "require_calibration", "calibration_threshold",
    "requirement_sets", "deadline_days", "prerequisite_course", "program",
)


def policy_data(policy):
    """A ``CompetencyPolicy`` row as ``data.PolicyData`` (None stays None)."""
    if policy is None:
        return None
    return data.PolicyData(course_key=str(policy.course_key), instrument_version_id=policy.instrument_version_id,
                           updated_at=policy.updated_at,
                           **{name: getattr(policy, name) for name in POLICY_FIELDS
                              if name not in ("instrument_version", "requirement_sets")},
                           requirement_sets=tuple(policy.requirement_sets or ()))


def user_ref(user):
    return data.UserRef(user.pk, user.username) if user is not None else None


def certification_data(certification, now):
    """A ``Certification`` as ``CertificationData`` at ``now`` (None stays None)."""
    if certification is None:
        return None
    state = competency.certification_state(certification.expires_at, certification.revoked_at, now)
    return data.CertificationData(certification.pk, certification.issued_at, certification.expires_at,
                                  certification.revoked_at, str(state),
                                  competency.is_active(certification.expires_at, certification.revoked_at, now))


def status_data(status, learner, now):
    """A ``LearnerStatus`` (its certification loaded) as ``LearnerStatusData``."""
    return data.LearnerStatusData(
        learner=user_ref(learner), course_key=str(status.course_key),
        state=status.state, state_label=str(status.get_state_display()),
        qualifying_count=status.qualifying_count, required_count=status.required_count,
        last_practice_date=status.last_practice_date, last_percent=status.last_percent,
        reasons=tuple(status.reasons or ()),
        certification=certification_data(status.certification if status.certification_id else None, now),
        evaluated_at=status.evaluated_at, enrolled=status.enrolled, due_date=status.due_date,
        overdue=status.overdue,
    )


def signoff_data(signoff):
    """A ``SignOff`` (its actor loaded) as ``SignOffData``."""
    if signoff is None:
        return None
    return data.SignOffData(
        id=signoff.pk, learner_id=signoff.learner_id, actor=user_ref(signoff.actor),
        action=signoff.action, action_label=str(signoff.get_action_display()), level=signoff.level,
        level_label=str(signoff.get_level_display()), reason=signoff.reason, evidence=signoff.evidence,
        created_at=signoff.created_at,
    )


def assignment_data(assignment):
    """A ``CoachAssignment`` (coach and learner loaded) as ``CoachAssignmentData``."""
    return data.CoachAssignmentData(assignment.pk, str(assignment.course_key), user_ref(assignment.coach),
                                    user_ref(assignment.learner), assignment.created_at)


def indicator_data(indicator):
    return data.IndicatorData(indicator.key, indicator.domain, indicator.label, indicator.description,
                              indicator.critical, indicator.levels, indicator.pk, indicator.position)


def rating_data(rating, indicator):
    level = indicator.level(rating.level) if rating.level else None
    outcome = "unrated" if level is None else "na" if level.get("met") is None else (
        "met" if level["met"] else "not_yet")
    return data.RatingData(
        indicator_id=indicator.pk, indicator_key=indicator.key, indicator_label=indicator.label,
        level=rating.level, level_label=(level.get("label", rating.level) if level else rating.level),
        outcome=outcome, strength=rating.strength, next_step=rating.next_step,
    )


def observation_data(observation, ratings=None):
    """
    An ``Observation`` (observer, session and ``ratings__indicator`` loaded) as ``ObservationData``;
    ``ratings``: its ``IndicatorRating`` rows when they were just written (not read back).
    """
    ratings = observation.ratings.all() if ratings is None else ratings
    ratings = sorted(ratings, key=lambda r: (r.indicator.position, r.indicator_id))
    primary = observation.co_observation_of if observation.co_observation_of_id else None
    return data.ObservationData(
        id=observation.pk, course_key=str(observation.course_key), learner_id=observation.learner_id,
        observer=user_ref(observation.observer), instrument_version_id=observation.instrument_version_id,
        practice_date=observation.practice_date, setting=observation.setting,
        setting_label=str(observation.get_setting_display()), status=observation.status,
        status_label=str(observation.get_status_display()), overall_note=observation.overall_note,
        percent=observation.percent, met_count=observation.met_count, applicable_count=observation.applicable_count,
        critical_missed=tuple(observation.critical_missed or ()), revision=observation.revision,
        submitted_at=observation.submitted_at, co_observation_of_id=observation.co_observation_of_id,
        co_observation_of_date=primary.practice_date if primary else None, is_reference=observation.is_reference,
        ratings=tuple(rating_data(rating, rating.indicator) for rating in ratings),
    )


def reflection_data(reflection):
    """A ``Reflection`` (``comments__author`` loaded) as ``ReflectionData``."""
    return data.ReflectionData(
        id=reflection.pk, course_key=str(reflection.course_key), learner_id=reflection.learner_id,
        block_id=reflection.block_id, title=reflection.title, prompts=reflection.prompts,
        answers=reflection.answers, self_ratings=reflection.self_ratings, status=reflection.status,
        submitted_at=reflection.submitted_at,
        comments=tuple(data.CommentData(c.pk, user_ref(c.author), c.text, c.created_at)
                       for c in reflection.comments.all()),
    )


def alert_data(alert):
    """A ``DriftAlert`` (learner and acknowledging coach loaded) as ``DriftAlertData``."""
    return data.DriftAlertData(
        id=alert.pk, learner=user_ref(alert.learner), kind=alert.kind, indicator_key=alert.indicator_key,
        details=alert.details, created_at=alert.created_at, resolved_at=alert.resolved_at,
        acknowledged_at=alert.acknowledged_at, acknowledged_by=user_ref(alert.acknowledged_by),
        plan_note=alert.plan_note,
    )
