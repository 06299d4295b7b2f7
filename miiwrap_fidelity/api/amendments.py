"""
Corrections of submitted observations: an amendment record keeps the original and holds the
corrected text with its reason; the observation is never edited in place.
"""
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, evaluation
from ..records.models import Observation, ObservationAmendment
from ..rules import competency, privacy, rubric
from ..rules.data import ObservationData
from ..rules.errors import NotFound, PermissionDenied, ValidationError
from ..rules.validation import clean_text, collect
from . import submission_keys
from .inputs import MAX_NOTE_CHARS, MAX_REASON_CHARS, CourseRef, User, parse_course_key
from .observations import get_observation
from .roles import is_course_staff


def amend_observation(actor: User, course_key: CourseRef, observation_id: int | str, data: Any,
                      idempotency_key: str | None = None) -> ObservationData:
    """
    Correct a submitted observation's free text: its observer or course staff, with a reason.

    Takes the learner's status row first like every write; levels and scores are evidence and do
    not change, so the decision stands. A repeat (the same ``idempotency_key``; without one, the
    same author's same correction within ``competency.REPEATED_SUBMISSION_WINDOW``) records nothing
    new.

    Args:
        actor: who corrects (the observer, or course staff).
        course_key: the course.
        observation_id: the observation's id (an int or its digits).
        data: an object with ``reason`` (required), ``overall_note`` and ``feedback``
            (``{indicator key: {strength, next_step}}``; what it leaves out stays as it reads now),
            ``privacy_confirmed`` (see ``save_observation``: the corrected text is checked the same way).
        idempotency_key: the client's key for this submission, or None.

    Returns:
        The observation as ``actor`` now reads it.

    Raises:
        NotFound: no such observation, or not one ``actor`` may see.
        PermissionDenied: ``actor`` may not see it, or is neither its observer nor course staff.
        ValidationError: a draft, ``data`` not an object, a missing reason, text too long or that
            looks client-identifying (unless confirmed), nothing changed, a malformed or reused
            ``idempotency_key``, or ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    current = get_observation(actor, course_key, observation_id)  # NotFound / PermissionDenied as for reading
    submitted = submission_keys.fingerprint(str(course_key), observation_id, data)
    return submission_keys.once(actor, idempotency_key, "amendment", submitted,
                                lambda: _amend(actor, course_key, current, data),
                                lambda _amendment_id: get_observation(actor, course_key, current.pk))


def _amend(actor: User, course_key: CourseKey, current: ObservationData, data: Any) -> tuple[ObservationData, int]:
    """``amend_observation``'s write: ``(ObservationData, amendment id)``."""
    if current.status != Observation.SUBMITTED:
        raise ValidationError({"observation": [_("A draft is corrected by editing it; only submitted "
                                                 "observations are amended.")]})
    if current.observer_id != actor.pk and not is_course_staff(actor, course_key):
        raise PermissionDenied(_("Only the observer or course staff can correct an observation."))
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("Expected an object.")]})
    errors: dict = {}
    reason = collect(errors, clean_text, data.get("reason"), "reason", MAX_REASON_CHARS, required=True)
    note = current.overall_note if data.get("overall_note") is None else collect(
        errors, clean_text, data.get("overall_note"), "overall_note", MAX_NOTE_CHARS)
    feedback = _corrected_feedback(errors, current, data.get("feedback"))
    if errors:
        raise ValidationError(errors)
    unchanged = note == current.overall_note and all(
        feedback[r.indicator_key] == {"strength": r.strength, "next_step": r.next_step} for r in current.ratings)
    suspected = privacy.fields_with_identifiers(privacy.feedback_texts(note, feedback))
    refused = privacy.unconfirmed_errors(suspected, data.get("privacy_confirmed"))
    if refused:
        raise ValidationError(refused)
    with transaction.atomic():
        # Lock order (ADR 0006): the learner's status row first, then the observation, the audit head last.
        evaluation.lock_status(current.learner_id, course_key)
        observation = Observation.objects.select_for_update().filter(pk=current.pk).first()
        if observation is None:
            raise NotFound(_("No such observation."))
        latest = observation.amendments.order_by("-id").first()  # read under the lock: copies sent at once
        if (latest is not None and latest.author_id == actor.pk and (latest.reason, latest.overall_note,
                                                                      latest.feedback) == (reason, note, feedback)
                and latest.created_at >= competency.repeated_submission_since(timezone.now())):
            return get_observation(actor, course_key, current.pk), latest.pk  # sent again: the first answers
        if unchanged:
            raise ValidationError({"observation": [_("Nothing was changed: edit the text you want to correct.")]})
        amendment = ObservationAmendment.objects.create(observation=observation, author=actor, reason=reason,
                                                        overall_note=note, feedback=feedback)
        audit.record("observation.amended", amendment, actor=actor, subject_user_id=observation.learner_id,
                     course_key=course_key)
        if suspected:
            audit.record("observation.identifier_check_confirmed", amendment, actor=actor,
                         subject_user_id=observation.learner_id, course_key=course_key)
    return get_observation(actor, course_key, current.pk), amendment.pk


def _corrected_feedback(errors: dict[str, list[str]], current: ObservationData,
                        raw: Any) -> dict[str, dict[str, str]]:
    """The full corrected feedback ``{key: {strength, next_step}}``: ``raw`` over what it reads now."""
    feedback = {r.indicator_key: {"strength": r.strength, "next_step": r.next_step} for r in current.ratings}
    if raw is None:
        return feedback
    if not isinstance(raw, dict):
        errors["feedback"] = [_("Feedback must be an object keyed by indicator.")]
        return feedback
    for key, entry in raw.items():
        if key not in feedback:
            errors[f"ratings.{key}"] = [_("Unknown indicator for this rubric.")]
            continue
        if not isinstance(entry, dict):
            errors[f"ratings.{key}"] = [_("Must be an object with strength and next_step.")]
            continue
        for part in ("strength", "next_step"):
            if part in entry:
                value = collect(errors, clean_text, entry[part], f"ratings.{key}.{part}", rubric.MAX_FEEDBACK_CHARS)
                feedback[key][part] = value or ""
    return feedback
