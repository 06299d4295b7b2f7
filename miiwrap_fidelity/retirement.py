"""User retirement: remove a retired user's free text and links; keep anonymous aggregates."""
from django.db import transaction

from .models import CoachAssignment, IndicatorRating, LearnerStatus, Observation, SignOff


def retire_user(sender, user=None, **kwargs):  # pylint: disable=unused-argument
    """Receiver for the platform's retirement signals (``user`` is the retiring user)."""
    if user is not None:
        scrub_user(user.pk)


def scrub_user(user_id):
    """Blank the free text written about or by ``user_id`` and drop their coaching links."""
    with transaction.atomic():
        observations = Observation.objects.filter(learner_id=user_id)
        observations.update(overall_note="")
        IndicatorRating.objects.filter(observation__learner_id=user_id).update(strength="", next_step="")
        Observation.objects.filter(observer_id=user_id).update(overall_note="")
        IndicatorRating.objects.filter(observation__observer_id=user_id).update(strength="", next_step="")
        # Sign-offs are append-only evidence: their free-text reason is the only personal part.
        SignOff.objects.filter(learner_id=user_id).update(reason="")
        SignOff.objects.filter(actor_id=user_id).update(reason="")
        CoachAssignment.objects.filter(coach_id=user_id).delete()
        CoachAssignment.objects.filter(learner_id=user_id).delete()
        LearnerStatus.objects.filter(learner_id=user_id).update(reasons=[])
