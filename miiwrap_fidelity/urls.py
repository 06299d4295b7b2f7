"""URLs of the plugin: pages under ``/miiwrap-fidelity/``, the REST API under ``/api/miiwrap-fidelity/v1/``."""
from django.urls import include, path

from .pages import coaching_plans as plan_views
from .pages import learner_and_coach as views
from .pages import message_preferences as message_views
from .pages import monitoring as monitoring_views
from .pages import policy_editor
from .pages import self_assessment as self_assessment_views
from .pages import staff as staff_views

app_name = "miiwrap_fidelity"

page_patterns = [
    path("courses/<str:course_id>/me/", views.my_competency, name="my_competency"),
    path("courses/<str:course_id>/me/self-assessments/<int:observation_id>/", self_assessment_views.self_assess,
         name="self_assess"),
    path("courses/<str:course_id>/coaching/", views.workspace, name="workspace"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/", views.learner_detail,
         name="learner_detail"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/observations/", views.record_observation,
         name="record_observation"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/observations/<int:observation_id>/amend/",
         views.amend_observation, name="amend_observation"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/observations/<int:observation_id>/plan/",
         plan_views.save_plan, name="save_plan"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/plans/<int:plan_id>/follow-up/",
         plan_views.confirm_follow_up, name="confirm_follow_up"),
    path("courses/<str:course_id>/me/plans/<int:plan_id>/note/", plan_views.plan_note, name="plan_note"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/competency/", views.decide_competency,
         name="decide_competency"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/reflections/<int:reflection_id>/comments/",
         views.comment_reflection, name="comment_reflection"),
    path("courses/<str:course_id>/coaching/assignments/", staff_views.assignments, name="assignments"),
    path("courses/<str:course_id>/coaching/policy/", policy_editor.policy, name="policy"),
    path("courses/<str:course_id>/coaching/start-dates/", staff_views.start_dates, name="start_dates"),
    path("courses/<str:course_id>/coaching/alerts/", monitoring_views.alerts, name="alerts"),
    path("courses/<str:course_id>/coaching/alerts/<int:alert_id>/acknowledge/", monitoring_views.acknowledge,
         name="acknowledge_alert"),
    path("courses/<str:course_id>/coaching/reliability/", monitoring_views.reliability, name="reliability"),
    path("courses/<str:course_id>/coaching/leaders/", monitoring_views.leaders, name="leaders"),
    path("courses/<str:course_id>/coaching/leaders/refresh/", monitoring_views.refresh_leaders,
         name="refresh_leaders"),
    path("courses/<str:course_id>/coaching/exports/<slug:kind>.csv", monitoring_views.export, name="export"),
    path("messages/", message_views.message_preferences, name="message_preferences"),
]

urlpatterns = [
    path("miiwrap-fidelity/", include(page_patterns)),
    path("api/miiwrap-fidelity/v1/", include("miiwrap_fidelity.rest_api.v1.urls")),
]
