"""Learners' reflections on their practice and their coaches' comments."""
from collections.abc import Mapping
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..records import audit
from ..records.models import Indicator, Reflection, ReflectionComment
from ..rules import competency, data, privacy
from ..rules import reflection_rules as reflections
from ..rules.errors import NotFound, PermissionDenied, ValidationError
from ..rules.validation import MAX_COMMENTS_PER_REFLECTION, as_id, clean_text, collect
from . import submission_keys
from . import to_data as values
from .courses import policy_row
from .inputs import MAX_REASON_CHARS, CourseRef, User, UserRef, get_user, parse_course_key
from .observations import policy_version
from .roles import can_view_learner, require, require_coach
from .rubrics import version_indicators
from .signals import reflection_commented


def _policy_version_id(course_key: CourseRef, instrument_version: int | str | None = None) -> int | None:
    policy = policy_row(course_key)
    if policy is None:
        return None
    try:
        return policy_version(policy, instrument_version)
    except ValidationError:  # not the policy's: the form shows its first (saving it is refused)
        return policy.instrument_version_id


def _policy_indicator_rows(course_key: CourseRef, instrument_version: int | str | None = None) -> list[Indicator]:
    version_id = _policy_version_id(course_key, instrument_version)
    return [] if version_id is None else version_indicators(version_id)


def policy_indicators(course_key: CourseRef, instrument_version: int | str | None = None) -> list[data.IndicatorData]:
    """
    The indicators of the course policy's rubric, or of the policy's ``instrument_version`` when it
    names several.

    Args:
        course_key: the course.
        instrument_version: one of the policy's instrument versions (its id), or None for its first
            (a version the policy does not use also gives its first).

    Returns:
        The indicators in rubric order; empty without a policy.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    return [values.indicator_data(indicator) for indicator in _policy_indicator_rows(course_key, instrument_version)]


def policy_summaries(course_key: CourseRef, instrument_version: int | str | None = None) -> list[dict[str, Any]]:
    """
    The summary score definitions of the rubric ``policy_indicators`` gives, worded in the active
    language: the observation form computes them live as the coach codes (the server's
    ``rating_scales.summary_value`` stays the one that is stored; a test holds the two to agreement).

    Args:
        course_key: the course.
        instrument_version: as for ``policy_indicators``.

    Returns:
        The definitions (``key``, ``label``, ``op``, its inputs, ``levels``, ``better``); empty
        without a policy or when the rubric defines none.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    version_id = _policy_version_id(course_key, instrument_version)
    if version_id is None:
        return []
    policy = policy_row(course_key)
    # The policy's first version is loaded with the policy (no query); another is read once per request.
    summaries = (policy.instrument_version.summaries or [] if policy is not None and version_id == policy.instrument_version_id
                 else values.version_summaries(version_id))
    fields = ("key", "label", "op", "of", "numerator", "denominator", "better")
    return [{**{field: summary[field] for field in fields if field in summary},
             "levels": [{"key": level["key"], "label": level["label"], "threshold": level["threshold"]}
                        for level in summary.get("levels", ())]}
            for summary in values.summary_definitions(summaries)]


def clean_reflection_prompts(course_key: CourseRef | None, prompts: Any) -> list[dict[str, Any]]:
    """
    Validate an author's prompts against the course's rubric (used by the XBlock's Studio view).

    Args:
        course_key: the course, or None outside a course (then, as without a policy, the prompts
            may name any indicator key).
        prompts: the prompts as the author sent them (``[{"id", "text", "indicators": [keys]}]``).

    Returns:
        The prompts, cleaned (``reflection_rules.clean_prompts``).

    Raises:
        ValidationError: invalid prompts (keyed ``prompts`` or ``prompts[i].field``), or
            ``course_key`` is not a course key.
    """
    indicators = _policy_indicator_rows(course_key) if course_key else []
    return reflections.clean_prompts(prompts, [i.key for i in indicators] if indicators else None)


def get_reflection(viewer: User, learner: UserRef, course_key: CourseRef, block_id: str) -> data.ReflectionData | None:
    """
    The learner's reflection in one exercise: their draft too for the learner, only a submitted one
    for their coaches and staff (a draft is unchecked for client-identifying text, and unsent).

    Args:
        viewer: who asks.
        learner: the learner, or their id.
        course_key: the course.
        block_id: the exercise's usage id.

    Returns:
        The reflection with its comments; None when there is none this viewer may read.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    reflections = Reflection.objects.filter(learner=learner, block_id=str(block_id))
    if viewer.pk != learner.pk:
        reflections = reflections.filter(status=Reflection.SUBMITTED)
    reflection = reflections.prefetch_related("comments__author").first()
    return values.reflection_data(reflection) if reflection is not None else None


def save_reflection(learner: User, course_key: CourseRef, block_id: str, exercise: Mapping[str, Any], answers: Any,
                    self_ratings: Any = None, submit: bool = False,
                    privacy_confirmed: bool = False) -> data.ReflectionData:
    """
    Save the learner's draft answers, or submit them (final; completion is then published).

    Submitted answers are read by the coach: text that looks client-identifying refuses the submit
    (naming the answer) unless ``privacy_confirmed`` is True.

    Args:
        learner: the signed-in learner.
        course_key: the course.
        block_id: the exercise's usage id.
        exercise: the block's ``title``, ``prompts``, ``min_length`` and ``self_rating`` settings.
        answers: ``{prompt id: text}`` as sent.
        self_ratings: ``{indicator key: level key}`` as sent, or None.
        submit: submit (final) rather than save a draft.
        privacy_confirmed: the learner confirmed their answers do not identify a client.

    Returns:
        The reflection as saved.

    Raises:
        PermissionDenied: ``learner`` is not signed in.
        ValidationError: invalid answers or self-ratings (by field), an unconfirmed client
            identifier in a submit, a reflection already submitted, or ``course_key`` is not a
            course key.
    """
    course_key = parse_course_key(course_key)
    if not getattr(learner, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to write a reflection."))
    prompts = exercise["prompts"]
    errors: dict = {}
    clean_answers = collect(errors, reflections.clean_answers, prompts, answers, exercise.get("min_length", 0),
                            require_all=submit)
    clean_ratings: dict[str, str] | None = {}
    if exercise.get("self_rating"):
        by_key = {indicator.key: indicator for indicator in _policy_indicator_rows(course_key)}
        clean_ratings = collect(errors, reflections.clean_self_ratings, prompts, self_ratings, by_key)
    if errors:
        raise ValidationError(errors)
    if submit:  # (``collect`` answers None only with a refusal, raised above: hence the cast)
        privacy.require_confirmed({f"answers.{key}": text
                                   for key, text in cast(dict[str, str], clean_answers).items()}, privacy_confirmed)
    with transaction.atomic():
        reflection, _created = Reflection.objects.select_for_update().get_or_create(
            learner=learner, block_id=str(block_id), defaults={"course_key": course_key}
        )
        if reflection.status == Reflection.SUBMITTED:
            raise ValidationError({"reflection": [_("This reflection was already submitted.")]})
        reflection.course_key, reflection.title, reflection.prompts = course_key, exercise.get("title", ""), prompts
        reflection.answers, reflection.self_ratings = clean_answers, clean_ratings or {}
        if submit:
            reflection.status, reflection.submitted_at = Reflection.SUBMITTED, timezone.now()
        reflection.save()
        audit.record("reflection.submitted" if submit else "reflection.saved", reflection, actor=learner,
                     subject_user_id=learner.pk, course_key=course_key)
    return values.reflection_data(reflection)


def reflections_for(viewer: User, learner: UserRef, course_key: CourseRef) -> list[data.ReflectionData]:
    """
    A learner's submitted reflections with comments, for the learner, their coaches and staff.

    Args:
        viewer: who asks.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The reflections, newest submitted first, their self-ratings worded with the rubric's labels.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    rows = list(Reflection.objects.filter(learner=learner, course_key=course_key, status=Reflection.SUBMITTED)
                .prefetch_related("comments__author").order_by("-submitted_at"))
    indicators = {i.key: i for i in _policy_indicator_rows(course_key)} if any(r.self_ratings for r in rows) else {}
    return [values.reflection_data(reflection, indicators) for reflection in rows]


def get_reflection_by_id(viewer: User, course_key: CourseRef, reflection_id: int | str) -> data.ReflectionData:
    """
    One reflection of the course: a submitted one, or the viewer's own draft.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        course_key: the course.
        reflection_id: the reflection's id (an int or its digits).

    Returns:
        The reflection with its comments.

    Raises:
        NotFound: no such reflection in the course, or another learner's draft.
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    reflection = Reflection.objects.filter(pk=reflection_id, course_key=course_key).prefetch_related(
        "comments__author").first() if as_id(reflection_id) else None
    if reflection is None or (reflection.status != Reflection.SUBMITTED and viewer.pk != reflection.learner_id):
        raise NotFound(_("No such reflection."))
    require(can_view_learner(viewer, reflection.learner_id, course_key), _("You cannot see this learner's records."))
    return values.reflection_data(reflection)


def comment_on_reflection(actor: User, reflection_id: int | str, text: str, privacy_confirmed: bool = False,
                          idempotency_key: str | None = None) -> data.CommentData:
    """
    A coach (or staff) comments on a submitted reflection of a learner they coach; text that looks
    client-identifying is refused unless ``privacy_confirmed``. A repeat (the same
    ``idempotency_key``; without one, the same author's same text on the same reflection within
    ``competency.REPEATED_SUBMISSION_WINDOW``) returns the first comment.

    Args:
        actor: the coach or staff member commenting.
        reflection_id: the reflection's id (an int or its digits).
        text: the comment.
        privacy_confirmed: ``actor`` confirmed the text does not identify a client.
        idempotency_key: the client's key for this submission, or None.

    Returns:
        The comment (the first one, for a repeat).

    Raises:
        PermissionDenied: ``actor`` may not coach this learner in the reflection's course.
        ValidationError: no such reflection, one not submitted, empty or too long text, text that
            looks client-identifying (unless confirmed), a reflection with the most comments it can
            take, or a malformed or reused ``idempotency_key``.
    """
    reflection = Reflection.objects.filter(pk=reflection_id).first() if as_id(reflection_id) else None
    if reflection is None:
        raise ValidationError({"reflection": [_("No such reflection.")]})
    require_coach(actor, reflection.learner_id, reflection.course_key)  # a repeat answers only a coach of now
    submitted = submission_keys.fingerprint(reflection.pk, text)
    return submission_keys.once(actor, idempotency_key, "comment", submitted,
                                lambda: _comment(actor, reflection, text, privacy_confirmed),
                                lambda comment_id: _comment_data(ReflectionComment.objects.select_related(
                                    "author").get(pk=comment_id)))


def _comment_data(comment: ReflectionComment) -> data.CommentData:
    return data.CommentData(comment.pk, values.user_ref(comment.author), comment.text, comment.created_at)


def _comment(actor: User, reflection: Reflection, text: str, privacy_confirmed: bool) -> tuple[data.CommentData, int]:
    """``comment_on_reflection``'s write: ``(CommentData, comment id)``."""
    if reflection.status != Reflection.SUBMITTED:
        raise ValidationError({"reflection": [_("Comments are for submitted reflections.")]})
    text = clean_text(text, "text", MAX_REASON_CHARS, required=True)
    privacy.require_confirmed({"text": text}, privacy_confirmed)
    if reflection.comments.count() >= MAX_COMMENTS_PER_REFLECTION:
        raise ValidationError({"text": [_("This reflection has the most comments it can take (%(max)s).")
                                        % {"max": MAX_COMMENTS_PER_REFLECTION}]})
    with transaction.atomic():
        # Comments on one reflection are taken one at a time, so a copy sent at once finds the first.
        Reflection.objects.select_for_update().filter(pk=reflection.pk).first()
        repeated = reflection.comments.select_related("author").filter(
            author=actor, text=text, created_at__gte=competency.repeated_submission_since(timezone.now())).first()
        if repeated is not None:  # sent again (a retry, a double click): the first comment answers
            return _comment_data(repeated), repeated.pk
        comment = ReflectionComment.objects.create(reflection=reflection, author=actor, text=text)
        audit.record("reflection.commented", comment, actor=actor, subject_user_id=reflection.learner_id,
                     course_key=reflection.course_key)
        transaction.on_commit(lambda: reflection_commented.send(sender=None, comment_id=comment.pk), robust=True)
    return _comment_data(comment), comment.pk
