"""Input checks (types and sizes) before ``api`` applies the domain rules, and output shapes."""
from rest_framework import serializers

from miiwrap_fidelity import api

MAX_RATINGS = 200


class RatingInput(serializers.Serializer):  # pylint: disable=abstract-method
    level = serializers.CharField(max_length=32, allow_blank=True, required=False, default="",
                                  help_text="A level's key; on a scale the point, on a count the tally (e.g. 4).")
    strength = serializers.CharField(max_length=api.MAX_FEEDBACK_CHARS, allow_blank=True, required=False,
                                     default="")
    next_step = serializers.CharField(max_length=api.MAX_FEEDBACK_CHARS, allow_blank=True, required=False,
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
    privacy_confirmed = serializers.BooleanField(
        required=False, default=False,
        help_text="Submit although the text looks client-identifying: the observer confirms it is not.")
    instrument_version = serializers.IntegerField(min_value=1, required=False)  # one the policy's sets name
    co_observation_of = serializers.IntegerField(
        min_value=1, required=False, allow_null=True,
        help_text="A co-rating of this observed session (another observer's draft): rated blind, on the session's "
                  "instrument, never evidence. An edit may repeat the draft's session, never change it.")
    is_reference = serializers.BooleanField(
        required=False, help_text="A co-rating given by course staff as the reference for rater agreement.")


class ObservationUpdate(ObservationInput):  # pylint: disable=abstract-method
    learner = None
    revision = serializers.IntegerField(min_value=1)


class FeedbackInput(serializers.Serializer):  # pylint: disable=abstract-method
    strength = serializers.CharField(max_length=api.MAX_FEEDBACK_CHARS, allow_blank=True, required=False)
    next_step = serializers.CharField(max_length=api.MAX_FEEDBACK_CHARS, allow_blank=True, required=False)


class FeedbackField(serializers.DictField):
    child = FeedbackInput()

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > MAX_RATINGS:
            raise serializers.ValidationError(f"At most {MAX_RATINGS} indicators.")
        return super().to_internal_value(data)


class AmendmentInput(serializers.Serializer):  # pylint: disable=abstract-method
    reason = serializers.CharField(max_length=api.MAX_REASON_CHARS)
    overall_note = serializers.CharField(max_length=api.MAX_NOTE_CHARS, allow_blank=True, required=False)
    feedback = FeedbackField(required=False, help_text="{indicator key: {strength, next_step}}: corrected feedback.")
    privacy_confirmed = serializers.BooleanField(required=False, default=False)


class CommentInput(serializers.Serializer):  # pylint: disable=abstract-method
    text = serializers.CharField(max_length=api.MAX_REASON_CHARS)
    privacy_confirmed = serializers.BooleanField(required=False, default=False, help_text=(
        "True when the writer checked that text flagged as client-identifying is not."))


class SignOffInput(serializers.Serializer):  # pylint: disable=abstract-method
    learner = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=[api.APPROVE, api.REVOKE])
    level = serializers.ChoiceField(choices=[api.COACH, api.LEAD], required=False, default=api.COACH)
    reason = serializers.CharField(max_length=api.MAX_REASON_CHARS, allow_blank=True, required=False, default="")
    privacy_confirmed = serializers.BooleanField(required=False, default=False, help_text=(
        "True when the writer checked that a reason flagged as possibly client-identifying is not."))


def _policy_fields():
    """The policy's fields for partial or full updates; number limits as ``api`` reads them from the model."""
    fields = {name: serializers.BooleanField(required=False)
              for name in ("enabled", "require_lead_signoff", "require_calibration", "self_assessment")}
    fields["mode"] = serializers.ChoiceField(choices=api.POLICY_MODES, required=False)
    fields.update({name: serializers.IntegerField(min_value=low, max_value=high, required=False)
                   for name, (low, high) in api.POLICY_LIMITS.items() if name in api.POLICY_FIELDS})
    fields["requirement_sets"] = serializers.JSONField(required=False)  # api.save_policy checks every part
    fields["prerequisite_course"] = serializers.CharField(max_length=255, required=False, allow_blank=True)
    fields["program"] = serializers.CharField(max_length=64, required=False, allow_blank=True)
    fields["confirm_moves_back"] = serializers.BooleanField(required=False, default=False, help_text=(
        "True to save a change that moves learners back (e.g. ready to in progress); without it such a change "
        "is refused with its preview's figures. POST policy/preview/ shows them first."))
    return fields


PolicyInput = type("PolicyInput", (serializers.Serializer,), _policy_fields())


class StartDateInput(serializers.Serializer):  # pylint: disable=abstract-method
    learner = serializers.CharField(max_length=150)
    start_date = serializers.CharField(max_length=10)  # api.set_start_date checks the date and its range


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
        "enrolled": row["enrolled"], "due_on": row["due_on"], "overdue": row["overdue"],
        "coaches": [coach.username for coach in row["coaches"]],
    }


def course_progress_out(progress):
    """``course_progress.CourseProgress`` (None when the platform could not say)."""
    if progress is None:
        return None
    return {
        "units_complete": progress.units_complete, "units_total": progress.units_total,
        "units_locked": progress.units_locked, "units_percent": progress.units_percent,
        "domains": [{"domain": group.domain, "percent": group.percent,
                     "sections": [{"title": section.title, "earned": section.earned, "possible": section.possible,
                                   "percent": section.percent} for section in group.sections]}
                    for group in progress.domains],
    }


def observation_out(observation):
    return {
        "id": observation.pk, "course_id": str(observation.course_key), "learner": observation.learner_id,
        "observer": user_out(observation.observer), "instrument_version": observation.instrument_version_id,
        "practice_date": observation.practice_date, "setting": observation.setting, "status": observation.status,
        "overall_note": observation.overall_note, "percent": observation.percent,
        "met_count": observation.met_count, "applicable_count": observation.applicable_count,
        "critical_missed": observation.critical_missed, "revision": observation.revision,
        "submitted_at": observation.submitted_at, "blinded": observation.blinded,
        "ratings": {r.indicator_key: {"level": r.level, "strength": r.strength, "next_step": r.next_step}
                    for r in observation.ratings},
        "amended": amendment_out(observation.amendment),
        "summary_scores": [summary_score_out(score) for score in observation.summary_scores],
        "co_observation_of": observation.co_observation_of_id, "is_reference": observation.is_reference,
    }


def amendment_out(amendment):
    """The latest correction of an observation's text (None when never amended)."""
    if amendment is None:
        return None
    out = {"id": amendment.id, "author": user_out(amendment.author), "created_at": amendment.created_at,
           "count": amendment.count}
    if amendment.shows_original:
        out.update(reason=amendment.reason, original_note=amendment.original_note)
    return out


def summary_score_out(score):
    return {"key": score.key, "label": score.label, "value": score.value, "level": score.level or None,
            "level_label": score.level_label or None}


def reflection_out(reflection):
    return {
        "id": reflection.pk, "course_id": str(reflection.course_key), "learner": reflection.learner_id,
        "block_id": reflection.block_id, "title": reflection.title, "prompts": reflection.prompts,
        "answers": reflection.answers, "self_ratings": reflection.self_ratings, "status": reflection.status,
        "submitted_at": reflection.submitted_at,
        "comments": [{"id": c.id, "author": user_out(c.author), "text": c.text, "created_at": c.created_at}
                     for c in reflection.comments],
    }


def signoff_out(signoff):
    return {
        "id": signoff.id, "learner": signoff.learner_id, "actor": user_out(signoff.actor), "action": signoff.action,
        "level": signoff.level, "reason": signoff.reason, "evidence": signoff.evidence,
        "created_at": signoff.created_at,
    }


def policy_out(policy):
    return {
        "course_id": str(policy.course_key), "enabled": policy.enabled,
        "instrument_version": policy.instrument_version_id,
        "require_lead_signoff": policy.require_lead_signoff, "validity_months": policy.validity_months,
        "mode": policy.mode, "drift_window_observations": policy.drift_window_observations,
        "drift_window_days": policy.drift_window_days, "drift_min_observations": policy.drift_min_observations,
        "require_calibration": policy.require_calibration, "calibration_threshold": policy.calibration_threshold,
        "self_assessment": policy.self_assessment, "requirement_sets": list(policy.requirement_sets),
        "deadline_days": policy.deadline_days,
        "prerequisite_course": policy.prerequisite_course, "program": policy.program,
        "updated_at": policy.updated_at,
    }


def policy_preview_out(preview):
    return {
        "evaluated": preview.evaluated, "total": preview.total, "unchanged": preview.unchanged,
        "moved_back": preview.moved_back, "other_courses": preview.other_courses,
        "needs_confirmation": preview.needs_confirmation,
        "changes": [{"before": change.before, "after": change.after, "count": change.count,
                     "moves_back": change.moves_back, "before_label": change.before_label,
                     "after_label": change.after_label,
                     "learners": [{**user_out(learner), "name": person}
                                  for learner, person in zip(change.learners, change.people)]}
                    for change in preview.changes],
    }


def start_date_out(row):
    return {"learner": row.learner_id, "username": row.username, "course_id": row.course_key,
            "start_date": row.start_date}


def version_out(version):
    return {"id": version.id, "instrument": version.instrument, "number": version.number, "title": version.title,
            "created_at": version.created_at}


def assignment_out(assignment):
    return {"id": assignment.id, "course_id": str(assignment.course_key), "coach": user_out(assignment.coach),
            "learner": user_out(assignment.learner), "created_at": assignment.created_at}


def indicator_out(indicator):
    return {"key": indicator.key, "kind": indicator.kind, "domain": indicator.domain, "label": indicator.label,
            "description": indicator.description, "critical": indicator.critical, "levels": indicator.levels,
            **({"min": indicator.spec["min"], "max": indicator.spec["max"]} if indicator.kind == "scale" else {}),
            **({"max": indicator.count_max} if indicator.kind == "count" else {})}


def summary_out(summary):
    return {"key": summary["key"], "label": summary["label"], "description": summary["description"],
            "op": summary["op"], **{field: summary[field] for field in ("of", "numerator", "denominator")
                                     if field in summary},
            "better": summary["better"],
            "levels": [{"key": level["key"], "label": level["label"], "threshold": level["threshold"]}
                       for level in summary["levels"]]}
