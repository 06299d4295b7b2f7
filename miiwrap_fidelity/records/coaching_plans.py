"""
The coaching loop's records (issue 31, ADR 0027): the plan a coach and a learner agree after an
observation, its one or two focus indicators with a practice step each, and the learner's own note.
A focus is followed up by the learner's next observation: its outcome is computed from the ratings
when read (``rules/coaching_loop.follow_up``); the coach's confirmation or correction is stored.
"""
from django.conf import settings
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField

from ..rules import coaching_loop
from .models import Indicator, Observation


class CoachingPlan(models.Model):
    """
    What a coach and a learner agreed to work on after an observed session (one plan per session).

    .. pii: a learner id with their coach's id and the learner's own free-text note on the plan.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    observation = models.OneToOneField(Observation, on_delete=models.CASCADE, related_name="coaching_plan")
    learner_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "miiwrap_fidelity"
        indexes = [models.Index(fields=["learner", "course_key", "created_at"], name="mwf_plan_learner")]

    def __str__(self):
        return f"plan {self.pk} for learner {self.learner_id} after observation {self.observation_id}"


class PlanFocus(models.Model):
    """
    One focus indicator of a plan, its practice step, and the coach's word on its follow-up.

    .. pii: free text a coach writes about a staff member's practice (the step to practise).
    .. pii_types: other
    .. pii_retirement: local_api
    """

    OUTCOME_CHOICES = [(outcome, outcome) for outcome in coaching_loop.OUTCOMES]

    plan = models.ForeignKey(CoachingPlan, on_delete=models.CASCADE, related_name="focus")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    step = models.TextField()
    # The coach's confirmation (or correction) of the computed follow-up, and the session it read.
    confirmed_outcome = models.CharField(max_length=10, choices=OUTCOME_CHOICES, blank=True)
    followed_up_by = models.ForeignKey(Observation, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        app_label = "miiwrap_fidelity"
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "indicator"], name="mwf_plan_focus_once")]

    def __str__(self):
        return f"focus {self.indicator_id} of plan {self.plan_id}"
