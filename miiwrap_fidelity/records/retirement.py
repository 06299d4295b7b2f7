"""User retirement: remove a retired user's free text and links; keep anonymous aggregates."""
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from . import audit, coach_flags, leader_figures
from .coaching_plans import CoachingPlan, PlanFocus
from .models import (
    CoachAssignment,
    CompetencyPolicy,
    Consequence,
    DriftAlert,
    IndicatorRating,
    LearnerStartDate,
    LearnerStatus,
    MessagePreference,
    Observation,
    ObservationAmendment,
    OverdueNotice,
    Reflection,
    ReflectionComment,
    SelfAssessment,
    SignOff,
    SubmissionKey,
)
from .program_completion import ProgramCompletion


def scrub_user(user_id):
    """Blank the free text written about or by ``user_id`` and drop their coaching links."""
    with transaction.atomic():
        # Lock order (ADR 0006): the retiree's status rows first (their records change), the audit head last.
        list(LearnerStatus.objects.select_for_update().filter(learner_id=user_id).values_list("pk", flat=True))
        observations = Observation.objects.filter(learner_id=user_id)
        observations.update(overall_note="")
        IndicatorRating.objects.filter(observation__learner_id=user_id).update(strength="", next_step="")
        Observation.objects.filter(observer_id=user_id).update(overall_note="")
        IndicatorRating.objects.filter(observation__observer_id=user_id).update(strength="", next_step="")
        ObservationAmendment.objects.filter(
            Q(observation__learner_id=user_id) | Q(observation__observer_id=user_id) | Q(author_id=user_id)
        ).update(reason="", overall_note="", feedback={})
        # Sign-offs are append-only evidence: their free-text reason is the only personal part.
        SignOff.objects.filter(learner_id=user_id).update(reason="")
        SignOff.objects.filter(actor_id=user_id).update(reason="")
        Reflection.objects.filter(learner_id=user_id).update(answers={}, self_ratings={}, prompts=[])
        SelfAssessment.objects.filter(learner_id=user_id).update(ratings={}, note="")
        ReflectionComment.objects.filter(Q(author_id=user_id) | Q(reflection__learner_id=user_id)).update(text="")
        DriftAlert.objects.filter(Q(learner_id=user_id) | Q(acknowledged_by_id=user_id)).update(plan_note="")
        CoachingPlan.objects.filter(learner_id=user_id).update(learner_note="")  # the focus stays, without words
        PlanFocus.objects.filter(Q(plan__learner_id=user_id) | Q(plan__author_id=user_id)).update(step="")
        coaching = sorted(set(CoachAssignment.objects.filter(coach_id=user_id).values_list("course_key", "learner_id")))
        coached = {course_key for course_key, _learner_id in coaching}
        CoachAssignment.objects.filter(coach_id=user_id).delete()
        CoachAssignment.objects.filter(learner_id=user_id).delete()
        LearnerStatus.objects.filter(learner_id=user_id).update(reasons=[], learner_username="", has_coach=False,
                                                                username_key="", name_key="")
        for course_key in sorted(coached):  # their learners may have had no other coach
            coach_flags.refresh(course_key, [learner_id for key, learner_id in coaching if key == course_key])
        MessagePreference.objects.filter(user_id=user_id).delete()
        LearnerStartDate.objects.filter(learner_id=user_id).delete()  # a hire date
        OverdueNotice.objects.filter(learner_id=user_id).delete()
        Consequence.objects.filter(learner_id=user_id).delete()  # nothing is sent about them after retirement
        ProgramCompletion.objects.filter(learner_id=user_id).delete()
        SubmissionKey.objects.filter(user_id=user_id).delete()
        audit.record("user.retired", get_user_model()(pk=user_id), subject_user_id=user_id)  # the last lock
    # The leader view's kept cadence has a row per coach (by id): dropped, computed again without them.
    leader_figures.forget(CompetencyPolicy.objects.filter(course_key__in=sorted(coached)).values_list(
        "course_key", "instrument_version_id"))


def purge_free_text(before, apply=False):
    """
    Blank observation notes and feedback of practice before ``before`` (a date); returns the counts.
    Scores, levels and sign-offs stay, so every aggregate is unchanged.
    """
    observations = Observation.objects.filter(practice_date__lt=before).exclude(overall_note="")
    ratings = IndicatorRating.objects.filter(observation__practice_date__lt=before).exclude(strength="", next_step="")
    counts = observations.count(), ratings.count()
    if apply:
        with transaction.atomic():
            observations.update(overall_note="")
            ratings.update(strength="", next_step="")
            ObservationAmendment.objects.filter(observation__practice_date__lt=before).update(
                overall_note="", feedback={}, reason="")
            audit.record("records.free_text_purged", None)
    return counts
