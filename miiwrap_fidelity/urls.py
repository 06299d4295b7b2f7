"""URLs mounted by the plugin under ``/miiwrap-fidelity/`` in the LMS and Studio."""
from django.urls import path

from . import views

app_name = "miiwrap_fidelity"

urlpatterns = [
    path("courses/<str:course_id>/me/", views.my_competency, name="my_competency"),
    path("courses/<str:course_id>/coaching/", views.workspace, name="workspace"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/", views.learner_detail,
         name="learner_detail"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/observations/", views.record_observation,
         name="record_observation"),
    path("courses/<str:course_id>/coaching/learners/<int:learner_id>/competency/", views.decide_competency,
         name="decide_competency"),
]
