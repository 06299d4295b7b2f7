"""
REST API v1 of the coaching loop (issue 31, ADR 0027): the focus a plan after an observed session
suggests, the plan itself (one or two focus indicators with a practice step each), the learner's
note on it, and the coach's word on how the next observation followed a focus up.

``api`` applies every permission and validates every value (one set of messages for pages, blocks
and REST); the serializers here only check the shape of a body. Every path names its course: an
observation or a plan of another course is a 404. The writes need no ``Idempotency-Key``: each is
idempotent by its content (saving the same focus again, confirming the same outcome again, writing
the same note again changes nothing and tells nobody twice).
"""
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from miiwrap_fidelity import api

from .schema import ApiSchema
from .views import LEARNER_QUERY, CourseView


class FocusItemInput(serializers.Serializer):  # pylint: disable=abstract-method
    indicator = serializers.CharField(max_length=100, help_text="The indicator's key (or id) in the session's instrument.")
    step = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                 help_text="The practice step, checked by the api (required, at most "
                                           f"{api.MAX_REASON_CHARS} characters, no client-identifying text).")


class PlanInput(serializers.Serializer):  # pylint: disable=abstract-method
    focus = FocusItemInput(many=True, help_text="One or two focus indicators, in the order agreed.")
    privacy_confirmed = serializers.BooleanField(
        required=False, default=False,
        help_text="Save although a step looks client-identifying: the coach confirms it is not.")


class NoteInput(serializers.Serializer):  # pylint: disable=abstract-method
    note = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                 help_text="The learner's own note on their plan (empty clears it).")
    privacy_confirmed = serializers.BooleanField(
        required=False, default=False,
        help_text="Save although the note looks client-identifying: the learner confirms it is not.")


class FollowUpInput(serializers.Serializer):  # pylint: disable=abstract-method
    indicator = serializers.CharField(max_length=100, help_text="The focus indicator's key.")
    outcome = serializers.CharField(max_length=16, help_text="improved, held or slipped.")


def plan_out(plan):
    """``data.PlanData``: each focus with its step and its follow-up (null while the learner has not been observed since)."""
    return {
        "id": plan.id, "course_id": plan.course_key, "learner": plan.learner_id, "observation": plan.observation_id,
        "practice_date": plan.practice_date,
        "author": {"id": plan.author.id, "username": plan.author.username} if plan.author is not None else None,
        "learner_note": plan.learner_note, "created_at": plan.created_at,
        "focus": [{
            "indicator": item.indicator_key, "indicator_id": item.indicator_id, "label": item.indicator_label,
            "step": item.step, "computed_outcome": item.computed_outcome,
            "confirmed_outcome": item.confirmed_outcome or None, "outcome": item.outcome,
            "followed_up_by": item.followed_up_by,
        } for item in plan.focus],
    }


def suggestion_out(indicator):
    return {"indicator": indicator.key, "indicator_id": indicator.id, "label": indicator.label,
            "domain": indicator.domain, "critical": indicator.critical}


class CurrentPlanView(CourseView):
    """
    GET: the learner's latest plan in the course (the requester's own when ``learner`` is absent),
    each focus followed up by the next observation; 404 when they have none. The learner, their
    coaches and course staff.
    """
    schema = ApiSchema(query=LEARNER_QUERY)

    def get(self, request, course_id):
        plan = api.current_plan(request.user, self.learner_param(), self.course_key)
        if plan is None:
            raise NotFound(_("This learner has no coaching plan in this course yet."))
        return Response(plan_out(plan))


class FocusSuggestionsView(CourseView):
    """
    GET (the learner's coaches, course staff): the focus a plan after this observed session suggests,
    at most two: missed essential indicators first, then the lowest-rated.
    """
    schema = ApiSchema()

    def get(self, request, course_id, observation_id):
        suggested = api.suggested_focus(request.user, observation_id, course_key=self.course_key)
        return Response({"results": [suggestion_out(indicator) for indicator in suggested]})


class ObservationPlanView(CourseView):
    """
    POST (the learner's coaches, course staff): agree the plan after this observed session, one or
    two focus indicators with a practice step each; saving again replaces the focus (the learner's
    note stays). A changed focus tells the learner (a message in their language) and is announced
    (``coaching_plan.saved``), once, after the save commits.
    """
    schema = ApiSchema(requests={"POST": PlanInput}, created="200")

    def post(self, request, course_id, observation_id):
        data = self.valid(PlanInput)
        plan = api.save_plan(request.user, observation_id, [dict(item) for item in data["focus"]],
                             privacy_confirmed=data["privacy_confirmed"], course_key=self.course_key)
        return Response(plan_out(plan), status=status.HTTP_200_OK)


class PlanNoteView(CourseView):
    """POST (the plan's learner alone): their own note on the plan (a guided reflection)."""
    schema = ApiSchema(requests={"POST": NoteInput}, created="200")

    def post(self, request, course_id, plan_id):
        data = self.valid(NoteInput)
        plan = api.add_learner_note(request.user, plan_id, data["note"], privacy_confirmed=data["privacy_confirmed"],
                                    course_key=self.course_key)
        return Response(plan_out(plan), status=status.HTTP_200_OK)


class PlanFollowUpView(CourseView):
    """
    POST (the learner's coaches, course staff): confirm or correct how the next observation followed
    a focus up (``improved``, ``held`` or ``slipped``); announced once (``coaching_plan.followed_up``).
    """
    schema = ApiSchema(requests={"POST": FollowUpInput}, created="200")

    def post(self, request, course_id, plan_id):
        data = self.valid(FollowUpInput)
        plan = api.confirm_follow_up(request.user, plan_id, data["indicator"], data["outcome"],
                                     course_key=self.course_key)
        return Response(plan_out(plan), status=status.HTTP_200_OK)
