"""
REST API v1 of self-assessments (ADR 0014): the learner rates an observed session blind, then
learner and coaches read both ratings side by side. ``api`` applies every permission and blindness rule.
"""
from rest_framework import serializers, status
from rest_framework.response import Response

from miiwrap_fidelity import api

from .schema import ApiSchema
from .serializers import MAX_RATINGS, user_out
from .views import LEARNER_QUERY, CourseView


class LevelsField(serializers.DictField):
    """``{indicator key: level key}``: self-ratings are levels only."""

    child = serializers.CharField(max_length=32, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, dict) and len(data) > MAX_RATINGS:
            raise serializers.ValidationError(f"At most {MAX_RATINGS} ratings.")
        return super().to_internal_value(data)


class SelfAssessmentInput(serializers.Serializer):  # pylint: disable=abstract-method
    ratings = LevelsField(required=False, default=dict)
    note = serializers.CharField(max_length=api.MAX_NOTE_CHARS, allow_blank=True, required=False, default="")
    decline = serializers.BooleanField(required=False, default=False)
    privacy_confirmed = serializers.BooleanField(
        required=False, default=False,
        help_text="Submit although the note looks client-identifying: the learner confirms it is not.")


def _rating_out(rating):
    return {"level": rating.level, "outcome": rating.outcome} if rating is not None else None


def self_assessment_out(assessment):
    """Hidden sides are ``null`` (the coach's while the learner has yet to rate; the learner's until submitted)."""
    return {
        "observation": assessment.observation_id, "course_id": assessment.course_key,
        "learner": assessment.learner_id, "observer": user_out(assessment.observer),
        "practice_date": assessment.practice_date, "state": assessment.state,
        "requested_at": assessment.requested_at, "closes_at": assessment.closes_at,
        "answered_at": assessment.answered_at,
        "note": assessment.note if assessment.learner_visible else None,
        "indicators": [{
            "key": row.indicator_key,
            "coach": _rating_out(row.coach) if assessment.coach_visible else None,
            "learner": {"level": row.learner_level, "outcome": row.learner_outcome}
            if assessment.learner_visible else None,
            "agreement": row.agreement or None,
        } for row in assessment.rows],
    }


class SelfAssessmentsView(CourseView):
    """GET: a learner's self-assessments (the requester's own when ``learner`` is absent)."""
    schema = ApiSchema(query=LEARNER_QUERY, paginated=True)

    def get(self, request, course_id):
        return self.paginated(api.self_assessments_for(request.user, self.learner_param(), self.course_key),
                              self_assessment_out)


class SelfAssessmentDetailView(CourseView):
    """GET: one observed session's self-assessment; POST (the learner): submit or decline it, once."""
    schema = ApiSchema(requests={"POST": SelfAssessmentInput}, created="200", idempotent=True)

    def get(self, request, course_id, observation_id):
        return Response(self_assessment_out(api.self_assessment_for(request.user, self.course_key, observation_id)))

    def post(self, request, course_id, observation_id):
        data = self.valid(SelfAssessmentInput)
        body = {"decline": True} if data["decline"] else {"ratings": data["ratings"], "note": data["note"],
                                                          "privacy_confirmed": data["privacy_confirmed"]}
        assessment = api.save_self_assessment(request.user, self.course_key, observation_id, body,
                                              idempotency_key=self.idempotency_key())
        return Response(self_assessment_out(assessment), status=status.HTTP_200_OK)
