"""
REST API v1: thin views over ``miiwrap_fidelity.api``, which checks every permission.

A learner sees only their own records; a coach only their assigned learners; course staff the
whole course. Every list is paginated; errors are 400 (field messages), 403 or 404.
"""
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miiwrap_fidelity import api
from miiwrap_fidelity.models import Indicator, InstrumentVersion

from . import serializers as s
from .errors import exception_handler
from .pagination import Pagination


def authentication_classes():
    """JWT (as the platform's MFEs send it) when edx-drf-extensions is there, and the session."""
    from rest_framework.authentication import SessionAuthentication  # pylint: disable=import-outside-toplevel

    classes = [SessionAuthentication]
    try:
        from edx_rest_framework_extensions.auth.jwt.authentication import (  # pylint: disable=import-outside-toplevel
            JwtAuthentication,
        )
    except ImportError:  # pragma: no cover - edx-drf-extensions is a dependency
        return classes
    return [JwtAuthentication] + classes


class BaseView(APIView):
    authentication_classes = authentication_classes()
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_exception_handler(self):
        return exception_handler

    def valid(self, serializer_class, partial=False):
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated(self, items, render):
        paginator = Pagination()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response([render(item) for item in page])


class CourseView(BaseView):
    """A view under ``courses/<course_id>/``: ``self.course_key`` is parsed (400 when invalid)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.course_key = api.parse_course_key(kwargs["course_id"])

    def learner_param(self):
        """The ``learner`` query parameter (an id); the requester themselves when absent."""
        value = self.request.query_params.get("learner")
        if value in (None, ""):
            return self.request.user
        if not value.isdigit():
            raise ValidationError({"learner": [_("Give the learner's numeric id.")]})
        return api.get_user(int(value), "learner")


class LearnersView(CourseView):
    """
    GET: the learners the requester may list (coach: theirs; staff: all) with their status.
    Query: ``coach`` (a coach's id, or ``none``: learners nobody coaches yet), ``state``, ``search``,
    ``ordering``, ``page``, ``page_size``.
    """

    def get(self, request, course_id):
        params = request.query_params
        statuses = api.learner_statuses(request.user, self.course_key, coach=params.get("coach"),
                                        state=params.get("state") or None, search=params.get("search"),
                                        ordering=params.get("ordering") or None)
        paginator = Pagination()
        page = paginator.paginate_queryset(statuses, request, view=self)
        return paginator.get_paginated_response([s.learner_row_out(row) for row in api.learner_rows(page)])


class LearnerDetailView(CourseView):
    def get(self, request, course_id, user_id):
        learner = api.get_user(user_id, "learner")
        status_row = api.learner_status(request.user, learner, self.course_key)
        reviewer = request.user.pk != learner.pk
        row = api.learner_rows([status_row], reviewer=reviewer)[0]
        messages = api.competency.reason_messages(status_row.reasons, reviewer=reviewer)
        return Response({**s.learner_row_out(row),
                         "reasons": [{**reason, "message": message} for reason, message in zip(status_row.reasons,
                                                                                              messages)],
                         "certification": api.certification_status(learner, self.course_key),
                         "course_progress": s.course_progress_out(
                             api.learner_course_progress(request.user, learner, self.course_key))})


class ObservationsView(CourseView):
    def get(self, request, course_id):
        learner = self.learner_param()
        observations = api.observations_for(request.user, learner, self.course_key, include_drafts=True)
        return self.paginated(observations, s.observation_out)

    def post(self, request, course_id):
        data = self.valid(s.ObservationInput)
        result = api.save_observation(request.user, data["learner"], self.course_key, _observation_data(data),
                                      submit=data["submit"])
        observation = api.get_observation(request.user, self.course_key, result.observation.pk)
        return Response({**s.observation_out(observation), "warnings": result.warnings},
                        status=status.HTTP_201_CREATED)


def _observation_data(data):
    return {"practice_date": data["practice_date"], "setting": data["setting"],
            "overall_note": data.get("overall_note", ""), "ratings": data.get("ratings", {}),
            "revision": data.get("revision")}


class ObservationDetailView(CourseView):
    def get(self, request, course_id, observation_id):
        return Response(s.observation_out(api.get_observation(request.user, self.course_key, observation_id)))

    def patch(self, request, course_id, observation_id):
        observation = api.get_observation(request.user, self.course_key, observation_id)
        data = self.valid(s.ObservationUpdate)
        result = api.save_observation(request.user, observation.learner_id, self.course_key, _observation_data(data),
                                      observation_id=observation.pk, submit=data["submit"])
        observation = api.get_observation(request.user, self.course_key, result.observation.pk)
        return Response({**s.observation_out(observation), "warnings": result.warnings})


class ReflectionsView(CourseView):
    def get(self, request, course_id):
        learner = self.learner_param()
        return self.paginated(api.reflections_for(request.user, learner, self.course_key), s.reflection_out)


class ReflectionCommentsView(CourseView):
    def post(self, request, course_id, reflection_id):
        reflection = api.get_reflection_by_id(request.user, self.course_key, reflection_id)
        data = self.valid(s.CommentInput)
        api.comment_on_reflection(request.user, reflection.pk, data["text"])
        reflection = api.get_reflection_by_id(request.user, self.course_key, reflection.pk)
        return Response(s.reflection_out(reflection), status=status.HTTP_201_CREATED)


class SignOffsView(CourseView):
    def get(self, request, course_id):
        learner = self.learner_param()
        return self.paginated(api.signoffs_for(request.user, learner, self.course_key), s.signoff_out)

    def post(self, request, course_id):
        data = self.valid(s.SignOffInput)
        if data["action"] == "approve":
            signoff = api.sign_off(request.user, data["learner"], self.course_key, level=data["level"],
                                   reason=data["reason"])
        else:
            signoff = api.revoke(request.user, data["learner"], self.course_key, data["reason"])
        return Response(s.signoff_out(signoff), status=status.HTTP_201_CREATED)


class CertificationsView(CourseView):
    def get(self, request, course_id):
        learner = self.learner_param()
        api.learner_status(request.user, learner, self.course_key)  # permission check and fresh status
        certification = api.certification_status(learner, self.course_key)
        return self.paginated([certification] if certification else [], lambda item: item)


class ReevaluationView(CourseView):
    """GET (course staff): how far the re-evaluation after the latest policy change has come."""

    def get(self, request, course_id):
        progress = api.reevaluation_progress(request.user, self.course_key)
        if progress is None:
            return Response({"state": "none", "message": _("The learners' status has not been re-evaluated yet.")})
        return Response(progress)


class PolicyView(CourseView):
    def get(self, request, course_id):
        policy = api.get_policy(self.course_key)
        if policy is None:
            return Response({"detail": _("This course has no competency policy.")}, status=status.HTTP_404_NOT_FOUND)
        return Response(s.policy_out(policy))

    def put(self, request, course_id):
        return self._save(partial=False)

    def patch(self, request, course_id):
        return self._save(partial=True)

    def _save(self, partial):
        data = self.valid(s.PolicyInput, partial=partial)
        if not partial and "instrument_version" not in data:
            raise ValidationError({"instrument_version": [_("This field is required.")]})
        if "instrument_version" in data and not InstrumentVersion.objects.filter(
                pk=data["instrument_version"]).exists():
            raise ValidationError({"instrument_version": [_("No such instrument version.")]})
        return Response(s.policy_out(api.save_policy(self.request.user, self.course_key, **data)))


class CoachAssignmentsView(CourseView):
    def get(self, request, course_id):
        return self.paginated(api.coach_assignments(request.user, self.course_key), s.assignment_out)

    def post(self, request, course_id):
        data = self.valid(s.AssignmentInput)
        assignment = api.assign_coach(request.user, self.course_key, data["coach"], data["learner"])
        return Response(s.assignment_out(assignment), status=status.HTTP_201_CREATED)


class CoachAssignmentDetailView(CourseView):
    def delete(self, request, course_id, assignment_id):
        api.unassign_coach(request.user, assignment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CoachAssignmentUploadView(CourseView):
    """POST a CSV file (``file``, header ``coach,learner``): all rows assigned, or none and a report."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request, course_id):
        text = api.read_csv_upload(request.FILES.get("file"))
        report, assigned = api.assign_coaches_from_csv(request.user, self.course_key, text)
        failed = any(item["status"] == "error" for item in report)
        return Response({"assigned": assigned, "rows": report},
                        status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)


class InstrumentVersionsView(BaseView):
    def get(self, request):
        versions = InstrumentVersion.objects.select_related("instrument").order_by("instrument__slug", "number")
        return self.paginated(versions, lambda v: {"id": v.pk, "instrument": v.instrument.slug, "number": v.number,
                                                   "title": v.title, "created_at": v.created_at})


class InstrumentVersionDetailView(BaseView):
    def get(self, request, version_id):
        version = InstrumentVersion.objects.select_related("instrument").filter(pk=version_id).first()
        if version is None:
            return Response({"detail": _("No such instrument version.")}, status=status.HTTP_404_NOT_FOUND)
        indicators = Indicator.objects.filter(version=version).order_by("position", "id")
        return Response({"id": version.pk, "instrument": version.instrument.slug, "number": version.number,
                         "title": version.title, "indicators": [s.indicator_out(i) for i in indicators]})
