"""
REST API v1: thin views over ``miiwrap_fidelity.api``, which checks every permission.

A learner sees only their own records; a coach only their assigned learners; course staff the
whole course. Every list is paginated; errors are 400 (field messages), 403 or 404, and 503 when a
write kept losing lock conflicts (``write_retry``).
"""
from django.db import transaction
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from edx_rest_framework_extensions.permissions import NotJwtRestrictedApplication
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from miiwrap_fidelity import api

from . import serializers as s
from .errors import exception_handler
from .pagination import KeysetPagination, Pagination
from .parsers import CappedJSONParser
from .schema import ApiSchema

LEARNER_QUERY = {"learner": "integer"}  # whose records; the requester's own when absent


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
    # Tokens of restricted OAuth applications (client credentials of third parties) are refused, as
    # Open edX REST APIs do without a scope of their own: fidelity records are personal (ADR 0007).
    permission_classes = [IsAuthenticated, NotJwtRestrictedApplication]
    parser_classes = [CappedJSONParser]

    @classmethod
    def as_view(cls, **initkwargs):
        # The transaction boundary of a write is its handler (retried there after a lock conflict),
        # not the whole request as ATOMIC_REQUESTS would make it.
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if request.method not in SAFE_METHODS and hasattr(self, method):
            setattr(self, method, api.with_write_retries(getattr(self, method)))

    def get_exception_handler(self):
        return exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        """Every answer here is personal or permission-dependent: no cache keeps it."""
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

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

    def idempotency_key(self):
        """The client's ``Idempotency-Key`` header (``api.submission_keys``), None when absent."""
        return self.request.headers.get("Idempotency-Key")

    def learner_param(self):
        """The ``learner`` query parameter (an id); the requester themselves when absent."""
        value = self.request.query_params.get("learner")
        if value in (None, ""):
            return self.request.user
        return api.get_user(api.clean_id(value, "learner", _("Give the learner's numeric id.")), "learner")


class LearnersView(CourseView):
    """
    GET: the learners the requester may list (coach: theirs; staff: all) with their status and
    coaches. Query: ``coach`` (a coach's id, or ``none``: learners nobody coaches yet), ``state``,
    ``search``, ``ordering``, ``cursor`` (from ``next`` / ``previous`` / ``last``), ``page_size``.
    """
    schema = ApiSchema(query={"coach": "string", "state": "string", "search": "string", "ordering": "string"},
                       paginated="keyset")

    def get(self, request, course_id):
        params = request.query_params
        statuses = api.learner_statuses(request.user, self.course_key, coach=params.get("coach"),
                                        state=params.get("state") or None, search=params.get("search"),
                                        ordering=params.get("ordering") or None, count_limit=api.COUNT_LIMIT)
        paginator = KeysetPagination(api.LAST_PAGE)
        rows = paginator.paginate_listing(statuses, request)
        return paginator.get_paginated_response([s.learner_row_out(row) for row in api.learner_rows(rows)])


class CoachesView(CourseView):
    """GET (course staff): up to 10 coaches of the course whose username or full name starts with ``search``."""
    schema = ApiSchema(query={"search": "string"})

    def get(self, request, course_id):
        coaches = api.search_coaches(request.user, self.course_key, request.query_params.get("search", ""))
        return Response({"results": [s.user_out(coach) for coach in coaches]})


class LearnerDetailView(CourseView):
    schema = ApiSchema()

    def get(self, request, course_id, user_id):
        learner = api.get_user(user_id, "learner")
        try:
            status_row = api.learner_status(request.user, learner, self.course_key)
        except api.NotEnrolled as exc:
            raise NotFound(" ".join(exc.messages)) from exc
        reviewer = request.user.pk != learner.pk
        row = api.learner_rows([status_row], reviewer=reviewer)[0]
        messages = api.reason_sentences(status_row.reasons, reviewer=reviewer)
        certification = api.certification_status(request.user, learner, self.course_key)
        return Response({**s.learner_row_out(row),
                         "reasons": [{**reason, "message": message} for reason, message in zip(status_row.reasons,
                                                                                              messages)],
                         "certification": certification.as_dict() if certification else None,
                         "course_progress": s.course_progress_out(
                             api.learner_course_progress(request.user, learner, self.course_key))})


class ObservationsView(CourseView):
    schema = ApiSchema(requests={"POST": s.ObservationInput}, query=LEARNER_QUERY, paginated=True, conflicts=True,
                       idempotent=True)

    def get(self, request, course_id):
        learner = self.learner_param()
        # Paged in SQL: only the page's observations and their ratings are read.
        history = api.observation_history(request.user, learner, self.course_key, include_drafts=True)
        return self.paginated(history, s.observation_out)

    def post(self, request, course_id):
        data = self.valid(s.ObservationInput)
        result = api.save_observation(request.user, data["learner"], self.course_key, _observation_data(data),
                                      submit=data["submit"], idempotency_key=self.idempotency_key())
        observation = api.get_observation(request.user, self.course_key, result.observation.pk)
        return Response({**s.observation_out(observation), "warnings": result.warnings},
                        status=status.HTTP_201_CREATED)


def _observation_data(data):
    given = {"practice_date": data["practice_date"], "setting": data["setting"],
             "overall_note": data.get("overall_note", ""), "ratings": data.get("ratings", {}),
             "revision": data.get("revision"), "privacy_confirmed": data.get("privacy_confirmed") is True,
             "instrument_version": data.get("instrument_version")}
    # Only when sent: the api checks an edit's session against the draft's (absent: not checked).
    given.update({name: data[name] for name in ("co_observation_of", "is_reference") if name in data})
    return given


class ObservationDetailView(CourseView):
    schema = ApiSchema(requests={"PATCH": s.ObservationUpdate}, conflicts=True, idempotent=True)

    def get(self, request, course_id, observation_id):
        return Response(s.observation_out(api.get_observation(request.user, self.course_key, observation_id)))

    def patch(self, request, course_id, observation_id):
        observation = api.get_observation(request.user, self.course_key, observation_id)
        data = self.valid(s.ObservationUpdate)
        result = api.save_observation(request.user, observation.learner_id, self.course_key, _observation_data(data),
                                      observation_id=observation.pk, submit=data["submit"],
                                      idempotency_key=self.idempotency_key())
        observation = api.get_observation(request.user, self.course_key, result.observation.pk)
        return Response({**s.observation_out(observation), "warnings": result.warnings})


class ObservationAmendmentsView(CourseView):
    schema = ApiSchema(requests={"POST": s.AmendmentInput}, idempotent=True)

    def post(self, request, course_id, observation_id):
        data = self.valid(s.AmendmentInput)
        observation = api.amend_observation(request.user, self.course_key, observation_id, data,
                                            idempotency_key=self.idempotency_key())
        return Response(s.observation_out(observation), status=status.HTTP_201_CREATED)


class ReflectionsView(CourseView):
    schema = ApiSchema(query=LEARNER_QUERY, paginated=True)

    def get(self, request, course_id):
        learner = self.learner_param()
        return self.paginated(api.reflections_for(request.user, learner, self.course_key), s.reflection_out)


class ReflectionCommentsView(CourseView):
    schema = ApiSchema(requests={"POST": s.CommentInput}, idempotent=True)

    def post(self, request, course_id, reflection_id):
        reflection = api.get_reflection_by_id(request.user, self.course_key, reflection_id)
        data = self.valid(s.CommentInput)
        api.comment_on_reflection(request.user, reflection.pk, data["text"],
                                  privacy_confirmed=data["privacy_confirmed"], idempotency_key=self.idempotency_key())
        reflection = api.get_reflection_by_id(request.user, self.course_key, reflection.pk)
        return Response(s.reflection_out(reflection), status=status.HTTP_201_CREATED)


class SignOffsView(CourseView):
    schema = ApiSchema(requests={"POST": s.SignOffInput}, query=LEARNER_QUERY, paginated=True, idempotent=True)

    def get(self, request, course_id):
        learner = self.learner_param()
        return self.paginated(api.signoffs_for(request.user, learner, self.course_key), s.signoff_out)

    def post(self, request, course_id):
        data = self.valid(s.SignOffInput)
        if data["action"] == "approve":
            signoff = api.sign_off(request.user, data["learner"], self.course_key, level=data["level"],
                                   reason=data["reason"], idempotency_key=self.idempotency_key(),
                                   privacy_confirmed=data["privacy_confirmed"])
        else:
            signoff = api.revoke(request.user, data["learner"], self.course_key, data["reason"],
                                 idempotency_key=self.idempotency_key(), privacy_confirmed=data["privacy_confirmed"])
        return Response(s.signoff_out(signoff), status=status.HTTP_201_CREATED)


class CertificationsView(CourseView):
    schema = ApiSchema(query=LEARNER_QUERY, paginated=True)

    def get(self, request, course_id):
        certification = api.certification_status(request.user, self.learner_param(), self.course_key)
        return self.paginated([certification] if certification else [], lambda item: item.as_dict())


class ReevaluationView(CourseView):
    """GET (course staff): how far the re-evaluation after the latest policy change has come."""
    schema = ApiSchema()

    def get(self, request, course_id):
        progress = api.reevaluation_progress(request.user, self.course_key)
        if progress is None:
            return Response({"state": "none", "message": _("The learners' status has not been re-evaluated yet.")})
        return Response(progress)


class PolicyView(CourseView):
    schema = ApiSchema(requests={"PUT": s.PolicyInput, "PATCH": s.PolicyInput})

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
        data = policy_input(self, partial)
        confirmed = data.pop("confirm_moves_back", False)
        return Response(s.policy_out(api.save_previewed_policy(self.request.user, self.course_key, confirmed,
                                                               **data)))


class PolicyPreviewView(CourseView):
    """POST (course staff): what saving these policy fields would do to the learners' states; nothing is saved."""

    schema = ApiSchema(requests={"POST": s.PolicyInput}, created="200")

    def post(self, request, course_id):
        data = policy_input(self, partial=True)
        data.pop("confirm_moves_back", None)
        return Response(s.policy_preview_out(api.preview_policy(request.user, self.course_key, **data)))


#: Fields of the policy's first set before it held requirement sets only (ADR 0026): refused by name,
#: never ignored (a script sending them would believe it changed the rules).
SINGLE_SET_FIELDS = ("instrument_version", "min_observations", "min_percent", "window_days", "critical_required",
                     "min_distinct_observers")


def policy_input(view, partial):
    """The validated policy fields of a request (course staff only: checked first, as for every write);
    the single-set fields and, in full, no sets refused."""
    if not api.is_course_staff(view.request.user, view.course_key):
        raise api.PermissionDenied(_("Only course staff can change the competency policy."))
    sent = view.request.data if isinstance(view.request.data, dict) else {}
    removed = [name for name in SINGLE_SET_FIELDS if name in sent]
    if removed:
        raise ValidationError({name: [_("A policy's evidence rules are its requirement_sets only: write this in "
                                        "the sets.")] for name in removed})
    data = view.valid(s.PolicyInput, partial=partial)
    if not partial and "requirement_sets" not in data:
        raise ValidationError({"requirement_sets": [_("This field is required.")]})
    return data


class CoachAssignmentsView(CourseView):
    schema = ApiSchema(requests={"POST": s.AssignmentInput}, paginated=True)

    def get(self, request, course_id):
        return self.paginated(api.coach_assignments(request.user, self.course_key), s.assignment_out)

    def post(self, request, course_id):
        data = self.valid(s.AssignmentInput)
        assignment = api.assign_coach(request.user, self.course_key, data["coach"], data["learner"])
        return Response(s.assignment_out(assignment), status=status.HTTP_201_CREATED)


class CoachAssignmentDetailView(CourseView):
    schema = ApiSchema()

    def delete(self, request, course_id, assignment_id):
        api.unassign_coach(request.user, assignment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CoachAssignmentUploadView(CourseView):
    """POST a CSV file (``file``, header ``coach,learner``): all rows assigned, or none and a report."""
    schema = ApiSchema(created="200")

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request, course_id):
        text = api.read_csv_upload(request.FILES.get("file"))
        report, assigned = api.assign_coaches_from_csv(request.user, self.course_key, text)
        failed = any(item["status"] == "error" for item in report)
        return Response({"assigned": assigned, "rows": report},
                        status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)


class StartDatesView(CourseView):
    """GET the uploaded start (hire) dates; POST one (``learner``: id or username, ``start_date``)."""
    schema = ApiSchema(requests={"POST": s.StartDateInput}, paginated=True)

    def get(self, request, course_id):
        return self.paginated(api.start_dates(request.user, self.course_key), s.start_date_out)

    def post(self, request, course_id):
        data = self.valid(s.StartDateInput)
        return Response(s.start_date_out(api.set_start_date(request.user, self.course_key, data["learner"],
                                                            data["start_date"])))


class StartDatesUploadView(CourseView):
    """POST a CSV file (``file``, header ``learner,start_date``): all rows saved, or none and a report."""
    schema = ApiSchema(created="200")

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request, course_id):
        text = api.read_csv_upload(request.FILES.get("file"))
        report, changed = api.set_start_dates_from_csv(request.user, self.course_key, text)
        failed = any(item["status"] == "error" for item in report)
        return Response({"saved": changed, "rows": report},
                        status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)


class InstrumentVersionsView(BaseView):
    schema = ApiSchema(paginated=True)

    def get(self, request):
        return self.paginated(api.instrument_versions(), s.version_out)


class InstrumentVersionDetailView(BaseView):
    schema = ApiSchema()

    def get(self, request, version_id):
        version = api.instrument_version(version_id)
        return Response({**s.version_out(version), "indicators": [s.indicator_out(i) for i in version.indicators],
                         "summaries": [s.summary_out(summary) for summary in version.summaries]})


@csrf_exempt  # it changes nothing; CSRF's own 403 page would answer HTML
def not_found(request, *args, **kwargs):  # pylint: disable=unused-argument
    """A path under the API that names no operation: 404 as JSON, like every other answer here."""
    response = JsonResponse({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
    add_never_cache_headers(response)
    return response
