"""Input checks (types and sizes) before ``api`` applies the domain rules, and output shapes."""
from rest_framework import serializers

from miiwrap_fidelity import api
from miiwrap_fidelity.models import CompetencyPolicy, SignOff

MAX_RATINGS = 200


class RatingInput(serializers.Serializer):  # pylint: disable=abstract-method
    level = serializers.CharField(max_length=32, allow_blank=True, required=False, default="")
    strength = serializers.CharField(max_length=api.rubric.MAX_FEEDBACK_CHARS, allow_blank=True, required=False,
                                     default="")
    next_step = serializers.CharField(max_length=api.rubric.MAX_FEEDBACK_CHARS, allow_blank=True, required=False,
                                      default="")


class RatingsField(serializers.DictField):
    child = RatingInput()

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > MAX_RATINGS:
            raise serializers.ValidationError(f"At most {MAX_RATINGS} ratings.")
        return super().to_internal_value(data)


class ObservationInput(serializers.Serializer):  # pylint: disable=abstract-method
    learner = serializers.IntegerField(min_value=1)
    practice_date = serializers.DateField()
    setting = serializers.ChoiceField(choices=api.OBSERVATION_SETTINGS)
    overall_note = serializers.CharField(max_length=api.MAX_NOTE_CHARS, allow_blank=True, required=False, default="")
    ratings = RatingsField(required=False, default=dict)
    submit = serializers.BooleanField(required=False, default=False)


class ObservationUpdate(ObservationInput):  # pylint: disable=abstract-method
    learner = None
    revision = serializers.IntegerField(min_value=1)


class CommentInput(serializers.Serializer):  # pylint: disable=abstract-method
    text = serializers.CharField(max_length=api.MAX_REASON_CHARS)


class SignOffInput(serializers.Serializer):  # pylint: disable=abstract-method
    learner = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=[SignOff.APPROVE, SignOff.REVOKE])
    level = serializers.ChoiceField(choices=[SignOff.COACH, SignOff.LEAD], required=False, default=SignOff.COACH)
    reason = serializers.CharField(max_length=api.MAX_REASON_CHARS, allow_blank=True, required=False, default="")


class PolicyInput(serializers.Serializer):  # pylint: disable=abstract-method
    enabled = serializers.BooleanField(required=False)
    instrument_version = serializers.IntegerField(min_value=1, required=False)
    min_observations = serializers.IntegerField(min_value=1, max_value=50, required=False)
    min_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    window_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    critical_required = serializers.BooleanField(required=False)
    min_distinct_observers = serializers.IntegerField(min_value=1, max_value=10, required=False)
    require_lead_signoff = serializers.BooleanField(required=False)
    validity_months = serializers.IntegerField(min_value=0, max_value=120, required=False)
    mode = serializers.ChoiceField(choices=CompetencyPolicy.MODE_CHOICES, required=False)
    drift_window_observations = serializers.IntegerField(min_value=1, max_value=20, required=False)
    drift_window_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    drift_min_observations = serializers.IntegerField(min_value=1, max_value=20, required=False)
    require_calibration = serializers.BooleanField(required=False)
    calibration_threshold = serializers.IntegerField(min_value=1, max_value=100, required=False)


class AssignmentInput(serializers.Serializer):  # pylint: disable=abstract-method
    coach = serializers.CharField(max_length=150)
    learner = serializers.CharField(max_length=150)


def user_out(user):
    return {"id": user.pk, "username": user.username}


def learner_row_out(row):
    return {
        "learner": user_out(row["learner"]), "state": row["state"], "state_label": row["state_label"],
        "qualifying_observations": row["qualifying"], "required_observations": row["required"],
        "last_practice_date": row["last_practice_date"], "last_percent": row["last_percent"],
        "next_requirement": row["next_step"], "certification_expires_at": row["expires_at"],
        "enrolled": row["enrolled"],
    }


def observation_out(observation):
    return {
        "id": observation.pk, "course_id": str(observation.course_key), "learner": observation.learner_id,
        "observer": user_out(observation.observer), "instrument_version": observation.instrument_version_id,
        "practice_date": observation.practice_date, "setting": observation.setting, "status": observation.status,
        "overall_note": observation.overall_note, "percent": observation.percent,
        "met_count": observation.met_count, "applicable_count": observation.applicable_count,
        "critical_missed": observation.critical_missed, "revision": observation.revision,
        "submitted_at": observation.submitted_at,
        "ratings": {r.indicator.key: {"level": r.level, "strength": r.strength, "next_step": r.next_step}
                    for r in observation.ratings.all()},
    }


def reflection_out(reflection):
    return {
        "id": reflection.pk, "course_id": str(reflection.course_key), "learner": reflection.learner_id,
        "block_id": reflection.block_id, "title": reflection.title, "prompts": reflection.prompts,
        "answers": reflection.answers, "self_ratings": reflection.self_ratings, "status": reflection.status,
        "submitted_at": reflection.submitted_at,
        "comments": [{"id": c.pk, "author": user_out(c.author), "text": c.text, "created_at": c.created_at}
                     for c in reflection.comments.all()],
    }


def signoff_out(signoff):
    return {
        "id": signoff.pk, "learner": signoff.learner_id, "actor": user_out(signoff.actor), "action": signoff.action,
        "level": signoff.level, "reason": signoff.reason, "evidence": signoff.evidence,
        "created_at": signoff.created_at,
    }


def policy_out(policy):
    return {
        "course_id": str(policy.course_key), "enabled": policy.enabled,
        "instrument_version": policy.instrument_version_id, "min_observations": policy.min_observations,
        "min_percent": policy.min_percent, "window_days": policy.window_days,
        "critical_required": policy.critical_required, "min_distinct_observers": policy.min_distinct_observers,
        "require_lead_signoff": policy.require_lead_signoff, "validity_months": policy.validity_months,
        "mode": policy.mode, "drift_window_observations": policy.drift_window_observations,
        "drift_window_days": policy.drift_window_days, "drift_min_observations": policy.drift_min_observations,
        "require_calibration": policy.require_calibration, "calibration_threshold": policy.calibration_threshold,
        "updated_at": policy.updated_at,
    }


def assignment_out(assignment):
    return {"id": assignment.pk, "course_id": str(assignment.course_key), "coach": user_out(assignment.coach),
            "learner": user_out(assignment.learner), "created_at": assignment.created_at}


def indicator_out(indicator):
    return {"key": indicator.key, "domain": indicator.domain, "label": indicator.label,
            "description": indicator.description, "critical": indicator.critical, "levels": indicator.levels}
