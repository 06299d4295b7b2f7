"""Routes of REST API v1 (mounted at /api/miiwrap-fidelity/v1/)."""
from django.urls import path, re_path

from . import plan_views, program_views, self_assessments, views
from .schema import schema_view

COURSE = "courses/<str:course_id>/"

urlpatterns = [
    path(f"{COURSE}learners/", views.LearnersView.as_view(), name="api-learners"),
    path(f"{COURSE}coaches/", views.CoachesView.as_view(), name="api-coaches"),
    path(f"{COURSE}learners/<int:user_id>/", views.LearnerDetailView.as_view(), name="api-learner"),
    path(f"{COURSE}learners/<int:user_id>/program/", program_views.LearnerProgramView.as_view(),
         name="api-learner-program"),
    path(f"{COURSE}observations/", views.ObservationsView.as_view(), name="api-observations"),
    path(f"{COURSE}observations/<int:observation_id>/", views.ObservationDetailView.as_view(),
         name="api-observation"),
    path(f"{COURSE}observations/<int:observation_id>/amendments/", views.ObservationAmendmentsView.as_view(),
         name="api-observation-amendments"),
    path(f"{COURSE}observations/<int:observation_id>/self-assessment/",
         self_assessments.SelfAssessmentDetailView.as_view(), name="api-self-assessment"),
    path(f"{COURSE}observations/<int:observation_id>/focus-suggestions/", plan_views.FocusSuggestionsView.as_view(),
         name="api-focus-suggestions"),
    path(f"{COURSE}observations/<int:observation_id>/plan/", plan_views.ObservationPlanView.as_view(),
         name="api-observation-plan"),
    path(f"{COURSE}plans/current/", plan_views.CurrentPlanView.as_view(), name="api-current-plan"),
    path(f"{COURSE}plans/<int:plan_id>/note/", plan_views.PlanNoteView.as_view(), name="api-plan-note"),
    path(f"{COURSE}plans/<int:plan_id>/follow-up/", plan_views.PlanFollowUpView.as_view(), name="api-plan-follow-up"),
    path(f"{COURSE}self-assessments/", self_assessments.SelfAssessmentsView.as_view(), name="api-self-assessments"),
    path(f"{COURSE}reflections/", views.ReflectionsView.as_view(), name="api-reflections"),
    path(f"{COURSE}reflections/<int:reflection_id>/comments/", views.ReflectionCommentsView.as_view(),
         name="api-reflection-comments"),
    path(f"{COURSE}signoffs/", views.SignOffsView.as_view(), name="api-signoffs"),
    path(f"{COURSE}certifications/", views.CertificationsView.as_view(), name="api-certifications"),
    path(f"{COURSE}policy/", views.PolicyView.as_view(), name="api-policy"),
    path(f"{COURSE}policy/preview/", views.PolicyPreviewView.as_view(), name="api-policy-preview"),
    path(f"{COURSE}policy/reevaluation/", views.ReevaluationView.as_view(), name="api-reevaluation"),
    path(f"{COURSE}coach-assignments/", views.CoachAssignmentsView.as_view(), name="api-assignments"),
    path(f"{COURSE}start-dates/", views.StartDatesView.as_view(), name="api-start-dates"),
    path(f"{COURSE}start-dates/upload/", views.StartDatesUploadView.as_view(), name="api-start-dates-upload"),
    path(f"{COURSE}coach-assignments/<int:assignment_id>/", views.CoachAssignmentDetailView.as_view(),
         name="api-assignment"),
    path(f"{COURSE}coach-assignments/upload/", views.CoachAssignmentUploadView.as_view(),
         name="api-assignments-upload"),
    path("instruments/", views.InstrumentVersionsView.as_view(), name="api-instruments"),
    path("instruments/<int:version_id>/", views.InstrumentVersionDetailView.as_view(), name="api-instrument"),
    path("schema/", schema_view, name="api-schema"),
    # Anything else under the API (a negative id, a course id with a slash...) is a JSON 404 too.
    re_path(r"^.*$", views.not_found, name="api-not-found"),
]
