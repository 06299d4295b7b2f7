"""Observations of practice: drafts, submission, blind co-rating, and who may read them."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, evaluation
from ..records.models import CompetencyPolicy, IndicatorRating, Observation
from ..rules import competency, data, practice_settings, privacy, rubric
from ..rules.errors import NotFound, PermissionDenied, ValidationError
from ..rules.validation import MAX_OPEN_DRAFTS, Conflict, as_id, clean_id, clean_text, collect
from ..seams import tracking_events as events
from . import self_assessments, submission_keys
from . import to_data as values
from .courses import require_policy
from .inputs import MAX_NOTE_CHARS, CourseRef, User, UserRef, clean_date, get_user, parse_course_key
from .roles import can_view_learner, is_course_staff, require, require_coach, require_learner_of_course
from .rubrics import version_indicators
from .signals import course_reevaluation_requested
from .status import announce_change

OBSERVATION_SETTINGS = Observation.SETTING_CHOICES
DRAFT, SUBMITTED = Observation.DRAFT, Observation.SUBMITTED


def observation_settings(version_id: int | str | None = None) -> list[tuple[str, Any]]:
    """
    The settings an observation form offers for an instrument version: those the version declares
    (a team-meeting rubric: family team meetings), else every setting (issue 26). Requirement sets
    do not narrow it: an observation in a setting none of them counts is still recorded.

    Args:
        version_id: the instrument version the form rates on (an id or its digits); None: every setting.

    Returns:
        ``[(setting, name)]``, the names in the active language when rendered.
    """
    version_id = as_id(version_id) if version_id not in (None, "") else None
    return practice_settings.choices_for(values.version_settings(version_id) if version_id else None)


#: What learners see of their own observations, in lists and by id alike: submitted ones, without
#: co-ratings (those serve rater agreement).
LEARNER_VISIBLE = Q(status=Observation.SUBMITTED, co_observation_of__isnull=True)


@dataclass(frozen=True)
class ObservationResult:
    observation: data.ObservationData
    warnings: list[str]


def policy_version(policy: CompetencyPolicy, requested: Any) -> int:
    """
    The instrument version a new observation uses: ``requested`` when one of the policy's
    requirement sets names it (a course may observe with several instruments), else the policy's first.

    Args:
        policy: the course's policy row.
        requested: the instrument version asked for (an id), or None or "" for the policy's first.

    Returns:
        The instrument version's id.

    Raises:
        ValidationError: ``requested`` is not a version the policy uses (on ``instrument_version``).
    """
    if requested in (None, ""):
        return policy.instrument_version_id
    allowed = {raw["instrument_version"] for raw in policy.requirement_sets or ()} | {policy.instrument_version_id}
    version_id = as_id(requested)
    if version_id not in allowed:
        raise ValidationError({"instrument_version": [_("Choose an instrument version this course's policy uses.")]})
    return cast(int, version_id)  # one of ``allowed``: an id


def save_observation(actor: User, learner: UserRef, course_key: CourseRef, data: Any,
                     observation_id: int | str | None = None, submit: bool = False,
                     idempotency_key: str | None = None) -> ObservationResult:
    """
    Create or update a draft observation, optionally submitting it.

    Submission requires every indicator rated and makes the observation final; text that looks
    client-identifying refuses it (naming the field) unless ``privacy_confirmed`` is True.

    Args:
        actor: the observer (a coach of the learner).
        learner: the learner, or their id.
        course_key: the course.
        data: ``practice_date`` (YYYY-MM-DD), ``setting``, ``overall_note``, ``ratings`` (see
            ``rubric``), optionally the ``instrument_version`` of a new observation (one the
            policy's requirement sets name; the policy's first by default), ``co_observation_of``
            and ``is_reference`` for a co-rating, ``privacy_confirmed``, and for an edit the
            ``revision`` the editor started from.
        observation_id: the draft to continue; None for a new observation.
        submit: submit it (final).
        idempotency_key: a repeat with the same key (``submission_keys``) answers with the first
            one's observation.

    Returns:
        The observation, with the kinds of identifier its texts look to hold (``warnings``).

    Raises:
        PermissionDenied: ``actor`` may not coach this learner, or is not the draft's observer.
        Conflict: the draft was saved again since the revision the editor started from.
        ValidationError: field errors (``data`` not an object, date, setting, note, ratings,
            unconfirmed identifiers, co-rating), no such draft, a submitted observation, too many
            open drafts, the key is malformed or was used for other content, no such learner, the
            course has no competency policy, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require_coach(actor, learner, course_key)
    submitted = submission_keys.fingerprint(learner.pk, str(course_key), data, observation_id, submit)
    return submission_keys.once(
        actor, idempotency_key, "observation", submitted,
        lambda: _write_observation(actor, learner, course_key, data, observation_id, submit),
        lambda observation_id: _result_of(Observation.objects.select_related("observer").get(pk=observation_id)))


def _result_of(observation: Observation) -> ObservationResult:
    """The answer to a submission that this observation already answers (a repeat)."""
    ratings = list(observation.ratings.select_related("indicator"))
    suspected = privacy.fields_with_identifiers(privacy.feedback_texts(observation.overall_note,
                                                                       {r.indicator.key: r for r in ratings}))
    return ObservationResult(values.observation_data(observation, ratings),
                             sorted({kind for kinds in suspected.values() for kind in kinds}))


def _write_observation(actor: User, learner: User, course_key: CourseKey, data: Any,
                       observation_id: int | str | None, submit: bool) -> tuple[ObservationResult, int]:
    """``save_observation``'s write: ``(ObservationResult, observation id)``."""
    policy = require_policy(course_key)
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("Expected an object.")]})
    if observation_id is None:
        require_learner_of_course(learner, course_key)  # a new record only of a learner of the course
    errors: dict = {}
    # A missing date is refused as a malformed one is (``clean_date`` checks any value).
    practice_date = collect(errors, clean_date, data.get("practice_date"), "practice_date")
    setting = data.get("setting")
    if not isinstance(setting, str) or setting not in dict(Observation.SETTING_CHOICES):
        errors["setting"] = [_("Choose the setting of the observed practice.")]
    note = collect(errors, clean_text, data.get("overall_note"), "overall_note", MAX_NOTE_CHARS)
    with transaction.atomic():
        # Lock order (ADR 0006): the learner's status row first, the audit head last.
        evaluation.lock_status(learner.pk, course_key)
        observation = collect(errors, _editable_observation, actor, observation_id, learner, course_key,
                              data.get("revision"))
        if observation is None:
            raise ValidationError(errors)
        primary = None
        if not observation.pk:
            if Observation.objects.filter(observer=actor, learner=learner, course_key=course_key,
                                          status=Observation.DRAFT).count() >= MAX_OPEN_DRAFTS:
                raise ValidationError({"observation": [_(
                    "You have %(max)s draft observations of this learner; submit or continue one of them.")
                    % {"max": MAX_OPEN_DRAFTS}]})
            primary = collect(errors, _co_rating_target, actor, learner, course_key, data)
            if primary is not None:
                # A co-rating rates the same practice session: its date and setting are the session's.
                observation.co_observation_of, observation.is_reference = primary, data.get("is_reference") is True
                practice_date, setting = primary.practice_date, primary.setting
                errors.pop("practice_date", None)
                errors.pop("setting", None)
        else:
            _keeps_its_session(errors, observation, data)
        if observation.pk:
            version_id = observation.instrument_version_id
        elif primary is not None:  # a co-rating rates the session on the session's instrument
            version_id = collect(errors, _session_version, primary, data.get("instrument_version"))
        else:
            version_id = collect(errors, policy_version, policy, data.get("instrument_version"))
        if version_id is not None and primary is None and "setting" not in errors:
            collect(errors, _setting_of_version, cast(str, setting), version_id)
        # Without a version (refused above), no indicators: the ratings' errors are still collected.
        ratings = collect(errors, rubric.clean_ratings, version_indicators(version_id),
                          data.get("ratings"), require_all=submit)
        suspected = privacy.fields_with_identifiers(privacy.feedback_texts(note, ratings or {}))
        if submit:
            # Learners read a submitted observation: text that looks client-identifying is edited out
            # first, or the observer confirms it is not (the same check for page, block and REST).
            for field, messages in privacy.unconfirmed_errors(suspected, data.get("privacy_confirmed")).items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        # No field was refused: every ``collect`` above returned its value (None only for a refusal).
        version_id, ratings = cast(int, version_id), cast(dict[str, rubric.CleanRating], ratings)
        practice_date, setting, note = cast(date, practice_date), cast(str, setting), cast(str, note)
        if submit and not observation.pk and observation.co_observation_of_id is None:
            repeated = _repeated_submission(actor, learner, course_key, version_id, practice_date, setting, note,
                                            ratings)
            if repeated is not None:  # sent again (a retry, a double click): the first record answers
                return _result_of(repeated), repeated.pk
        observation.observer = actor if not observation.pk else observation.observer
        observation.instrument_version_id = version_id
        observation.practice_date, observation.setting, observation.overall_note = practice_date, setting, note
        observation.revision = (observation.revision or 0) + 1 if observation.pk else 1
        if submit:
            met, applicable, critical_missed = rubric.score(ratings)
            observation.met_count, observation.applicable_count = met, applicable
            observation.critical_missed = critical_missed
            # Stored with the score snapshot: the rules read them, never recompute them.
            observation.summary_scores = rubric.summary_scores(values.version_summaries(version_id), ratings)
            observation.status = Observation.SUBMITTED
            observation.submitted_at = timezone.now()
        _save_observation(observation)
        observation.ratings.all().delete()
        written = IndicatorRating.objects.bulk_create(
            IndicatorRating(observation=observation, indicator=r.indicator, level=r.level,
                            strength=r.strength, next_step=r.next_step)
            for r in ratings.values()
        )
        if submit:
            self_assessments.request_for(observation, policy)
        audit.record("observation.submitted" if submit else "observation.saved", observation, actor=actor,
                     subject_user_id=learner.pk, course_key=course_key)
        if submit and suspected:
            audit.record("observation.identifier_check_confirmed", observation, actor=actor,
                         subject_user_id=learner.pk, course_key=course_key)
        if submit and observation.is_reference and policy.require_calibration:
            transaction.on_commit(lambda: course_reevaluation_requested.send(
                sender=Observation, course_id=str(course_key)), robust=True)
        if submit:
            decision, _certification, new_alerts, before = evaluation.refresh_from(policy, learner.pk, course_key)
            # The state it had: a certification that expired meanwhile has its expiry event here too.
            announce_change(learner.pk, course_key, decision.state, "observation_submitted",
                            previous_state=before.state, payload={"certification_id": before.certification_id})
            events.observation_submitted(observation)
            for alert in new_alerts:
                events.drift_alert(alert)
    warnings = sorted({kind for kinds in suspected.values() for kind in kinds})
    return ObservationResult(values.observation_data(observation, written), warnings), observation.pk


def _repeated_submission(actor: User, learner: User, course_key: CourseKey, version_id: int, practice_date: date,
                         setting: str, note: str, ratings: dict[str, rubric.CleanRating]) -> Observation | None:
    """
    The observation this submission repeats, or None: the same observer's submitted observation of
    the same session (learner, course, instrument, date, setting) with the same note and ratings,
    within ``competency.REPEATED_SUBMISSION_WINDOW``. The learner's status row is locked, so two
    copies sent at once are taken one after the other and the second finds the first.
    """
    candidates = Observation.objects.filter(
        observer=actor, learner=learner, course_key=course_key, instrument_version_id=version_id,
        practice_date=practice_date, setting=setting, overall_note=note, status=Observation.SUBMITTED,
        co_observation_of__isnull=True, submitted_at__gte=competency.repeated_submission_since(timezone.now()),
    ).select_related("observer").order_by("-id")[:3]
    wanted = {rating.indicator.pk: (rating.level, rating.strength, rating.next_step) for rating in ratings.values()}
    for candidate in candidates:
        if {rating.indicator_id: (rating.level, rating.strength, rating.next_step)
                for rating in candidate.ratings.all()} == wanted:
            return candidate
    return None


def _save_observation(observation: Observation) -> None:
    """Save; a second co-rating of a session by the same rater (a database constraint) is a field error."""
    if observation.pk or observation.co_observation_of_id is None:
        observation.save()
        return
    try:
        with transaction.atomic():
            observation.save()
    except IntegrityError as exc:
        raise ValidationError({"co_observation_of": [_("You have already rated this session.")]}) from exc


def _session_version(primary: Observation, requested: Any) -> int:
    """A co-rating's instrument version: the session's; another one named is refused."""
    if requested not in (None, "") and as_id(requested) != primary.instrument_version_id:
        raise ValidationError({"instrument_version": [_(
            "A co-rating rates the session on the session's own instrument.")]})
    return primary.instrument_version_id


def _setting_of_version(setting: str, version_id: int) -> str:
    """
    The setting, when the instrument version is used in it: a version that declares its settings
    (a team-meeting rubric: family team meetings) refuses the others (issue 26); one that declares
    none takes every setting. Whether the course's requirement sets count the setting is another
    matter: an observation in a setting none of them asks for is recorded, and does not count.
    """
    refused = practice_settings.refusal(setting, values.version_settings(version_id))
    if refused:
        raise ValidationError({"setting": [refused]})
    return setting


def _keeps_its_session(errors: dict, observation: Observation, data: dict[str, Any]) -> None:
    """An edit may repeat what a draft is (its session, reference or not, instrument), never change it."""
    if "co_observation_of" in data:
        named = data["co_observation_of"]
        if (None if named in (None, "") else as_id(named) or -1) != observation.co_observation_of_id:
            errors["co_observation_of"] = [_("A draft's session cannot change: start a new observation.")]
    if "is_reference" in data and (data["is_reference"] is True) != observation.is_reference:
        errors["is_reference"] = [_("A draft's kind of rating cannot change: start a new observation.")]
    requested = data.get("instrument_version")
    if requested not in (None, "") and as_id(requested) != observation.instrument_version_id:
        errors["instrument_version"] = [_("A draft's instrument cannot change: start a new observation.")]


def _co_rating_target(actor: User, learner: User, course_key: CourseKey, data: dict[str, Any]) -> Observation | None:
    """The session (primary observation) a new co-rating rates, or None for an ordinary observation."""
    target = data.get("co_observation_of")
    if target in (None, ""):
        if data.get("is_reference"):
            raise ValidationError({"is_reference": [_("A reference rating rates an observed session.")]})
        return None
    primary = Observation.objects.filter(pk=target, learner=learner, course_key=course_key,
                                         co_observation_of__isnull=True).first() if as_id(target) else None
    if primary is None:
        raise ValidationError({"co_observation_of": [_("No such observed session of this learner.")]})
    if primary.observer_id == actor.pk:
        raise ValidationError({"co_observation_of": [_("A co-rating comes from another observer.")]})
    if primary.co_ratings.filter(observer=actor).exists():
        raise ValidationError({"co_observation_of": [_("You have already rated this session.")]})
    if data.get("is_reference") is not True and primary.status != Observation.DRAFT:
        raise ValidationError({"co_observation_of": [_(
            "Co-ratings are made for the same session while the first rating is still a draft, so that "
            "neither observer sees the other's ratings.")]})
    if data.get("is_reference") is True and not is_course_staff(actor, course_key):
        raise ValidationError({"is_reference": [_("Only course staff give reference ratings.")]})
    return primary


def _editable_observation(actor: User, observation_id: int | str | None, learner: User, course_key: CourseKey,
                          revision: Any) -> Observation:
    """
    A new observation, or the draft ``actor`` continues: one owner rule on every path (page, block,
    REST). Only the draft's observer edits or submits it, from the revision they read.
    """
    if observation_id in (None, ""):
        return Observation(learner=learner, course_key=course_key)
    observation_id = clean_id(observation_id, "observation", _("No such observation for this learner."))
    observation = Observation.objects.select_for_update().filter(
        pk=observation_id, learner=learner, course_key=course_key
    ).first()
    if observation is None:
        raise ValidationError({"observation": [_("No such observation for this learner.")]})
    if observation.observer_id != actor.pk:
        # Who observed what, distinct observers and blind co-rating all rest on this.
        raise PermissionDenied(_("Only the observer who started this draft can change or submit it."))
    if observation.status == Observation.SUBMITTED:
        raise ValidationError({"observation": [_("This observation was submitted and can no longer change.")]})
    if revision in (None, ""):
        raise ValidationError({"revision": [_("Give the revision of the draft you are editing.")]})
    if as_id(revision) != observation.revision:
        raise Conflict(_("This draft was saved again since you opened it (in another window?); reload it "
                         "first."), observation.revision)
    return observation


def get_observation(viewer: User, course_key: CourseRef, observation_id: int | str) -> data.ObservationData:
    """
    One observation of the course, if ``viewer`` may see it: a draft only by its observer; by the
    learner, what ``LEARNER_VISIBLE`` allows; blind co-ratings as ``_hidden_from`` says.

    Args:
        viewer: who asks.
        course_key: the course.
        observation_id: the observation.

    Returns:
        The observation as ``viewer`` sees it (``as_seen_by``).

    Raises:
        NotFound: no such observation in the course, or not one ``viewer`` may see.
        PermissionDenied: ``viewer`` may not see this learner's records, or it is a co-rating still
            hidden from them.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    observation = Observation.objects.filter(pk=observation_id, course_key=course_key).exclude(
        Q(status=Observation.DRAFT) & ~Q(observer_id=viewer.pk)).exclude(
        Q(learner_id=viewer.pk) & ~LEARNER_VISIBLE).select_related(
        "observer", "co_observation_of", "self_assessment").prefetch_related(
        "ratings__indicator", "co_ratings", "amendments__author").first() \
        if as_id(observation_id) else None
    if observation is None:
        raise NotFound(_("No such observation."))
    require(can_view_learner(viewer, observation.learner_id, course_key), _("You cannot see this learner's records."))
    if _hidden_from(viewer, observation):
        raise PermissionDenied(_("Co-ratings stay hidden until both observers have submitted."))
    return as_seen_by(viewer, observation, timezone.now())


def visible_observations(viewer: User, learner: User, course_key: CourseKey,
                         include_drafts: bool = False) -> QuerySet:
    """
    The learner's observations ``viewer`` may see, before blind co-rating (``_hidden_from``): the
    learner their submitted primary ones; coaches and staff the submitted ones, and with
    ``include_drafts`` their own drafts (a draft is its observer's work in progress).

    Args:
        viewer: who asks (their right to the learner's records checked by the caller).
        learner: the learner.
        course_key: the course (the observations of its program's other courses count too).
        include_drafts: also ``viewer``'s own drafts in the course.

    Returns:
        The observations (a queryset, unordered).
    """
    # The program's other courses too: the decision rests on their observations (ADR 0018), so
    # whoever may see it here sees that evidence, each observation with the course it was recorded in.
    queryset = Observation.objects.filter(evaluation.evidence_courses_condition(course_key), learner=learner)
    if viewer.pk == learner.pk:
        return queryset.filter(LEARNER_VISIBLE)
    if not include_drafts:
        return queryset.filter(status=Observation.SUBMITTED)
    return queryset.filter(Q(status=Observation.SUBMITTED) | Q(observer_id=viewer.pk, course_key=course_key))


def as_seen_by(viewer: User, observation: Observation, now: datetime) -> data.ObservationData:
    """
    The observation's value with its latest correction (the original text only for coaches and
    staff); the learner's own, blinded while their self-assessment is awaited (ADR 0014).

    Args:
        viewer: who reads it.
        observation: the observation (its ratings, amendments and self-assessment loaded).
        now: the moment.

    Returns:
        The observation's value as ``viewer`` sees it.
    """
    if observation.learner_id == viewer.pk and self_assessments.hides_coach_ratings(observation, now):
        return values.blinded_observation_data(observation)
    return values.observation_data(observation, amendments=list(observation.amendments.all()),
                                   show_original=viewer.pk != observation.learner_id)


def sessions_open_for_co_rating(viewer: User, learner: UserRef, course_key: CourseRef) -> list[data.ObservationData]:
    """
    Other observers' draft observations of the learner that ``viewer`` may co-rate.

    Args:
        viewer: the coach who would co-rate.
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The sessions, without ratings.

    Raises:
        PermissionDenied: ``viewer`` may not coach this learner.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    require_coach(viewer, learner, course_key)
    return [values.observation_data(session, ratings=()) for session in Observation.objects.filter(
        learner=learner, course_key=course_key, status=Observation.DRAFT, co_observation_of__isnull=True,
    ).exclude(observer_id=viewer.pk).exclude(co_ratings__observer_id=viewer.pk).select_related(
        "observer", "co_observation_of")]


def _hidden_from(viewer: User, observation: Observation) -> bool:
    """
    Co-raters rate blind: each side of a co-rated session is hidden from the other side's observer
    until both are submitted.
    """
    if observation.observer_id == viewer.pk:
        return False
    if observation.co_observation_of_id is not None:
        primary = observation.co_observation_of
        return primary.observer_id == viewer.pk and not (
            primary.status == observation.status == Observation.SUBMITTED)
    return any(co.observer_id == viewer.pk and not (co.status == observation.status == Observation.SUBMITTED)
               for co in observation.co_ratings.all())
