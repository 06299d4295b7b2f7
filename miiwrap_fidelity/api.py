"""
The only door into miiwrap-fidelity's records: XBlocks, views, filters and tasks call these.

Every write checks the actor's role on the server, validates its input (``ValidationError`` with
field messages), runs in one transaction, and leaves an audit event. Permission failures raise
``django.core.exceptions.PermissionDenied``.
"""
from dataclasses import dataclass
from datetime import date

from crum import get_current_request
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from . import audit, competency, evaluation, events, gate_query, monitoring, privacy, reflections, roster, rubric
from .models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    DriftAlert,
    Indicator,
    IndicatorRating,
    LearnerStatus,
    Observation,
    Reflection,
    ReflectionComment,
    SignOff,
)
from .platform import get_platform
from .validation import clean_text, collect
from .signals import competency_changed

MAX_NOTE_CHARS = 4000
OBSERVATION_SETTINGS = Observation.SETTING_CHOICES
MAX_REASON_CHARS = 2000


# --- input helpers -------------------------------------------------------------------------------

def parse_course_key(value):
    """A ``CourseKey`` from a key or its string; ``ValidationError`` when it is not one."""
    if isinstance(value, CourseKey):
        return value
    try:
        return CourseKey.from_string(str(value))
    except InvalidKeyError as exc:
        raise ValidationError({"course_key": [_("Not a valid course id.")]}) from exc


def get_user(user_or_id, field="user"):
    """A user from a user, an id or a username; ``ValidationError`` naming ``field`` if unknown."""
    model = get_user_model()
    if isinstance(user_or_id, model):
        return user_or_id
    lookup = {"pk": user_or_id} if isinstance(user_or_id, int) or str(user_or_id).isdigit() else {
        "username": str(user_or_id)
    }
    try:
        return model.objects.get(**lookup)
    except (model.DoesNotExist, ValueError) as exc:
        raise ValidationError({field: [_("No such user.")]}) from exc


def _clean_date(value, field):
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from exc
    if parsed > timezone.now().date():
        raise ValidationError({field: [_("The practice date cannot be in the future.")]})
    return parsed


# --- roles ---------------------------------------------------------------------------------------

def _per_request(key, compute):
    """
    Role answers are looked up once per request: a page or handler asks the same question for
    every record it shows. Outside a request (tasks, commands, tests) nothing is remembered.
    """
    request = get_current_request()
    if request is None:
        return compute()
    memo = request.__dict__.setdefault("_miiwrap_roles", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def is_course_staff(user, course_key):
    if not getattr(user, "is_authenticated", False):
        return False
    course_key = parse_course_key(course_key)
    return _per_request(("staff", user.pk, str(course_key)),
                        lambda: bool(get_platform().is_course_staff(user, course_key)))


def is_coach_of(user, learner, course_key):
    if not getattr(user, "is_authenticated", False):
        return False
    course_key, learner_id = parse_course_key(course_key), getattr(learner, "pk", learner)
    return _per_request(("coach", user.pk, str(course_key), learner_id), lambda: CoachAssignment.objects.filter(
        course_key=course_key, coach_id=user.pk, learner_id=learner_id).exists())


def can_view_learner(user, learner, course_key):
    """The learner, their coaches and course staff see a learner's fidelity records."""
    if not getattr(user, "is_authenticated", False):
        return False
    learner_id = getattr(learner, "pk", learner)
    return user.pk == learner_id or is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def can_coach(user, learner, course_key):
    """Assigned coaches and course staff may observe and sign off, never for themselves."""
    learner_id = getattr(learner, "pk", learner)
    if not getattr(user, "is_authenticated", False) or user.pk == learner_id:
        return False
    return is_coach_of(user, learner_id, course_key) or is_course_staff(user, course_key)


def _require(allowed, message):
    if not allowed:
        raise PermissionDenied(message)


def require_coach(user, learner, course_key):
    """``PermissionDenied`` unless ``user`` may observe and sign off ``learner`` in the course."""
    _require(can_coach(user, learner, course_key), _("You are not a coach of this learner in this course."))


def coachable_rows(user, course_key, limit=1000):
    """The learners ``user`` coaches in the course (every learner for staff), as display rows."""
    try:
        return learner_rows(learner_statuses(user, course_key)[:limit])
    except PermissionDenied:
        return []


# --- policy and assignments ----------------------------------------------------------------------

def get_policy(course_key):
    """The course's enabled competency policy, or None (stock Open edX behaviour)."""
    return CompetencyPolicy.objects.filter(course_key=parse_course_key(course_key), enabled=True).select_related(
        "instrument_version"
    ).first()


def _require_policy(course_key):
    policy = get_policy(course_key)
    if policy is None:
        raise ValidationError({"course_key": [_("This course has no competency policy.")]})
    return policy


POLICY_FIELDS = (
    "enabled", "instrument_version", "min_observations", "min_percent", "window_days", "critical_required",
    "min_distinct_observers", "require_lead_signoff", "validity_months", "mode", "drift_window_observations",
    "drift_window_days", "drift_min_observations", "require_calibration", "calibration_threshold",
)


def save_policy(actor, course_key, **fields):
    """Create or update a course's policy (course staff only); validates every field."""
    course_key = parse_course_key(course_key)
    _require(is_course_staff(actor, course_key), _("Only course staff can change the competency policy."))
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown policy setting.")] for name in sorted(unknown)})
    with transaction.atomic():
        policy = CompetencyPolicy.objects.filter(course_key=course_key).first() or CompetencyPolicy(
            course_key=course_key
        )
        for name, value in fields.items():
            setattr(policy, name if name != "instrument_version" else "instrument_version_id",
                    getattr(value, "pk", value))
        policy.full_clean()
        policy.save()
        audit.record("policy.saved", policy, actor=actor, course_key=course_key)
        from . import tasks  # pylint: disable=import-outside-toplevel

        transaction.on_commit(lambda: tasks.reevaluate_course.delay(str(course_key)), robust=True)
    return policy


def assign_coach(actor, course_key, coach, learner):
    """Assign ``coach`` to ``learner`` (course staff only); assigning twice changes nothing."""
    course_key = parse_course_key(course_key)
    _require(is_course_staff(actor, course_key), _("Only course staff can assign coaches."))
    coach, learner = get_user(coach, "coach"), get_user(learner, "learner")
    if coach.pk == learner.pk:
        raise ValidationError({"coach": [_("A learner cannot coach themselves.")]})
    with transaction.atomic():
        assignment, created = CoachAssignment.objects.get_or_create(
            course_key=course_key, coach=coach, learner=learner
        )
        if created:
            audit.record("coach.assigned", assignment, actor=actor, subject_user_id=learner.pk,
                         course_key=course_key)
            _ensure_status(learner, course_key)
    return assignment


def _ensure_status(learner, course_key):
    """Give a newly assigned learner a status row, so that every list is one table."""
    policy = get_policy(course_key)
    if policy is not None:
        evaluation.refresh(policy, learner.pk, course_key)
    else:
        LearnerStatus.objects.get_or_create(learner=learner, course_key=course_key,
                                            defaults={"evaluated_at": timezone.now()})


def unassign_coach(actor, assignment_id):
    """Remove a coach assignment (course staff only)."""
    assignment = CoachAssignment.objects.filter(pk=assignment_id).first() if str(assignment_id).isdigit() else None
    if assignment is None:
        raise ValidationError({"assignment": [_("No such coach assignment.")]})
    _require(is_course_staff(actor, assignment.course_key), _("Only course staff can assign coaches."))
    with transaction.atomic():
        audit.record("coach.unassigned", assignment, actor=actor, subject_user_id=assignment.learner_id,
                     course_key=assignment.course_key)
        assignment.delete()


def coach_assignments(viewer, course_key):
    """The course's assignments (staff) or the viewer's own (a coach)."""
    course_key = parse_course_key(course_key)
    assignments = CoachAssignment.objects.filter(course_key=course_key).select_related("coach", "learner")
    if is_course_staff(viewer, course_key):
        return assignments.order_by("learner__username", "coach__username")
    _require(getattr(viewer, "is_authenticated", False), _("Sign in first."))
    return assignments.filter(coach_id=viewer.pk).order_by("learner__username")


MAX_CSV_ROWS = 5000
MAX_CSV_BYTES = 1024 * 1024


def read_csv_upload(upload):
    """The text of an uploaded CSV file (UTF-8, at most 1 MB); ``ValidationError`` keyed ``file``."""
    if upload is None:
        raise ValidationError({"file": [_("Attach a CSV file.")]})
    if upload.size > MAX_CSV_BYTES:
        raise ValidationError({"file": [_("The file is larger than 1 MB.")]})
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": [_("Save the file as UTF-8 text.")]}) from exc


def assign_coaches_from_csv(actor, course_key, text):
    """
    Assign coaches from CSV text with a ``coach,learner`` header (usernames or ids).

    All or nothing: when any row is wrong nothing is assigned, and the report says which rows and
    why. Returns ``(report, assigned_count)``; each report row is ``{"row", "coach", "learner",
    "status", "errors"}`` with status "assigned", "unchanged" or "error".
    """
    course_key = parse_course_key(course_key)
    _require(is_course_staff(actor, course_key), _("Only course staff can assign coaches."))
    rows = _csv_rows(text)
    report, users = [], {user.username: user for user in get_user_model().objects.filter(
        username__in={value for row in rows for value in (row[1], row[2])})}
    for line, coach_name, learner_name in rows:
        errors = []
        coach, learner = users.get(coach_name), users.get(learner_name)
        if coach is None:
            errors.append(_("Unknown coach username."))
        if learner is None:
            errors.append(_("Unknown learner username."))
        if coach is not None and coach == learner:
            errors.append(_("A learner cannot coach themselves."))
        report.append({"row": line, "coach": coach_name, "learner": learner_name,
                       "status": "error" if errors else "pending", "errors": errors})
    if any(item["status"] == "error" for item in report):
        return report, 0
    assigned = 0
    with transaction.atomic():
        existing = set(CoachAssignment.objects.filter(course_key=course_key).values_list("coach__username",
                                                                                         "learner__username"))
        for item in report:
            if (item["coach"], item["learner"]) in existing:
                item["status"] = "unchanged"
                continue
            assign_coach(actor, course_key, users[item["coach"]], users[item["learner"]])
            existing.add((item["coach"], item["learner"]))
            item["status"] = "assigned"
            assigned += 1
    return report, assigned


def _csv_rows(text):
    import csv  # pylint: disable=import-outside-toplevel
    import io  # pylint: disable=import-outside-toplevel

    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"file": [_("The file is empty.")]})
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        body = list(reader)
    except csv.Error as exc:
        raise ValidationError({"file": [_("This is not a CSV file.")]}) from exc
    if header[:2] != ["coach", "learner"]:
        raise ValidationError({"file": [_("The first line must be the header: coach,learner")]})
    if len(body) > MAX_CSV_ROWS:
        raise ValidationError({"file": [_("At most %(max)s rows per file.") % {"max": MAX_CSV_ROWS}]})
    rows = [(number, (cells + ["", ""])[0].strip(), (cells + ["", ""])[1].strip())
            for number, cells in enumerate(body, start=2) if any(cell.strip() for cell in cells)]
    if not rows:
        raise ValidationError({"file": [_("The file has no rows after the header.")]})
    return rows


def course_coaches(course_key):
    """The users who coach someone in the course, by username (for the staff's coach filter)."""
    return list(get_user_model().objects.filter(
        pk__in=CoachAssignment.objects.filter(course_key=parse_course_key(course_key)).values("coach_id")
    ).order_by("username"))


def coached_learner_ids(coach, course_key):
    return list(
        CoachAssignment.objects.filter(course_key=parse_course_key(course_key), coach_id=coach.pk)
        .values_list("learner_id", flat=True)
    )


# --- observations --------------------------------------------------------------------------------

@dataclass
class ObservationResult:
    observation: Observation
    warnings: list


def _indicators(version_id):
    return list(Indicator.objects.filter(version_id=version_id).order_by("position", "id"))


def save_observation(actor, learner, course_key, data, observation_id=None, submit=False):
    """
    Create or update a draft observation, optionally submitting it.

    ``data``: ``practice_date`` (YYYY-MM-DD), ``setting``, ``overall_note``, ``ratings`` (see
    ``rubric``), and for an edit the ``revision`` the editor started from. Submission requires
    every indicator rated and makes the observation final.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require_coach(actor, learner, course_key)
    policy = _require_policy(course_key)
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("Expected an object.")]})
    errors = {}
    practice_date = collect(errors, _clean_date, data.get("practice_date"), "practice_date")
    setting = data.get("setting")
    if setting not in dict(Observation.SETTING_CHOICES):
        errors["setting"] = [_("Choose the setting of the observed practice.")]
    note = collect(errors, clean_text, data.get("overall_note"), "overall_note", MAX_NOTE_CHARS)
    with transaction.atomic():
        observation = collect(errors, _editable_observation, observation_id, learner, course_key,
                              data.get("revision"), errors)
        if observation is None:
            raise ValidationError(errors)
        if not observation.pk:
            primary = collect(errors, _co_rating_target, actor, learner, course_key, data)
            if primary is not None:
                # A co-rating rates the same practice session: its date and setting are the session's.
                observation.co_observation_of, observation.is_reference = primary, data.get("is_reference") is True
                practice_date, setting = primary.practice_date, primary.setting
                errors.pop("practice_date", None)
                errors.pop("setting", None)
        version_id = observation.instrument_version_id if observation.pk else policy.instrument_version_id
        ratings = collect(errors, rubric.clean_ratings, _indicators(version_id), data.get("ratings"),
                          require_all=submit)
        if errors:
            raise ValidationError(errors)
        observation.observer = actor if not observation.pk else observation.observer
        observation.instrument_version_id = version_id
        observation.practice_date, observation.setting, observation.overall_note = practice_date, setting, note
        observation.revision = (observation.revision or 0) + 1 if observation.pk else 1
        if submit:
            met, applicable, critical_missed = rubric.score(ratings)
            observation.met_count, observation.applicable_count = met, applicable
            observation.critical_missed = critical_missed
            observation.status = Observation.SUBMITTED
            observation.submitted_at = timezone.now()
        observation.save()
        observation.ratings.all().delete()
        IndicatorRating.objects.bulk_create(
            IndicatorRating(observation=observation, indicator=r.indicator, level=r.level,
                            strength=r.strength, next_step=r.next_step)
            for r in ratings.values()
        )
        audit.record("observation.submitted" if submit else "observation.saved", observation, actor=actor,
                     subject_user_id=learner.pk, course_key=course_key)
        if submit and observation.is_reference and policy.require_calibration:
            from . import tasks  # pylint: disable=import-outside-toplevel

            transaction.on_commit(lambda: tasks.reevaluate_course.delay(str(course_key)), robust=True)
        if submit:
            decision, _certification, new_alerts = evaluation.refresh(policy, learner.pk, course_key)
            _announce(learner.pk, course_key, decision.state, "observation_submitted")
            events.observation_submitted(observation)
            for alert in new_alerts:
                events.drift_alert(alert)
    texts = [note] + [t for r in ratings.values() for t in (r.strength, r.next_step)]
    warnings = sorted({kind for text in texts for kind in privacy.identifier_warnings(text)})
    return ObservationResult(observation, warnings)


def _co_rating_target(actor, learner, course_key, data):
    """The session (primary observation) a new co-rating rates, or None for an ordinary observation."""
    target = data.get("co_observation_of")
    if target in (None, ""):
        if data.get("is_reference"):
            raise ValidationError({"is_reference": [_("A reference rating rates an observed session.")]})
        return None
    primary = Observation.objects.filter(pk=target, learner=learner, course_key=course_key,
                                         co_observation_of__isnull=True).first() if str(target).isdigit() else None
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


def _editable_observation(observation_id, learner, course_key, revision, errors):
    if observation_id in (None, ""):
        return Observation(learner=learner, course_key=course_key)
    if isinstance(observation_id, bool) or not str(observation_id).isdigit():
        raise ValidationError({"observation": [_("No such observation for this learner.")]})
    observation = Observation.objects.select_for_update().filter(
        pk=observation_id, learner=learner, course_key=course_key
    ).first()
    if observation is None:
        raise ValidationError({"observation": [_("No such observation for this learner.")]})
    if observation.status == Observation.SUBMITTED:
        raise ValidationError({"observation": [_("This observation was submitted and can no longer change.")]})
    if revision is not None and str(revision) != str(observation.revision):
        errors["revision"] = [_("Someone else changed this draft since you opened it; reload it first.")]
    return observation


def get_observation(viewer, course_key, observation_id):
    """One observation of the course, if ``viewer`` may see it (drafts: its coaches and staff only)."""
    course_key = parse_course_key(course_key)
    observation = Observation.objects.filter(pk=observation_id, course_key=course_key).exclude(
        Q(status=Observation.DRAFT) & ~Q(observer_id=viewer.pk)).select_related(
        "observer", "co_observation_of").prefetch_related("ratings__indicator", "co_ratings").first() \
        if str(observation_id).isdigit() else None
    if observation is None:
        raise Http404(_("No such observation."))
    _require(can_view_learner(viewer, observation.learner_id, course_key), _("You cannot see this learner's records."))
    if observation.status == Observation.DRAFT and viewer.pk == observation.learner_id:
        raise Http404(_("No such observation."))
    if _hidden_from(viewer, observation):
        raise PermissionDenied(_("Co-ratings stay hidden until both observers have submitted."))
    return observation


def observations_for(viewer, learner, course_key, include_drafts=False):
    """A learner's observations with ratings, for the learner, their coaches and staff."""
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    queryset = Observation.objects.filter(learner=learner, course_key=course_key)
    if not include_drafts or viewer.pk == learner.pk:
        queryset = queryset.filter(status=Observation.SUBMITTED)
    else:  # a draft is its observer's work in progress
        queryset = queryset.filter(Q(status=Observation.SUBMITTED) | Q(observer_id=viewer.pk))
    if viewer.pk == learner.pk:
        queryset = queryset.filter(co_observation_of__isnull=True)  # co-ratings serve rater agreement
    observations = list(queryset.select_related("observer", "co_observation_of").prefetch_related(
        "ratings__indicator", "co_ratings"))
    return [o for o in observations if not _hidden_from(viewer, o)]


def sessions_open_for_co_rating(viewer, learner, course_key):
    """Other observers' draft observations of the learner that ``viewer`` may co-rate (no ratings shown)."""
    course_key = parse_course_key(course_key)
    require_coach(viewer, learner, course_key)
    return list(Observation.objects.filter(
        learner=learner, course_key=course_key, status=Observation.DRAFT, co_observation_of__isnull=True,
    ).exclude(observer_id=viewer.pk).exclude(co_ratings__observer_id=viewer.pk).select_related("observer"))


def _hidden_from(viewer, observation):
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


# --- reflections ---------------------------------------------------------------------------------

def policy_indicators(course_key):
    """The indicators of the course policy's instrument (empty when the course has no policy)."""
    policy = get_policy(course_key)
    return _indicators(policy.instrument_version_id) if policy else []


def clean_reflection_prompts(course_key, prompts):
    """Validate an author's prompts against the course's rubric (used by the XBlock's Studio view)."""
    indicators = policy_indicators(course_key) if course_key else []
    return reflections.clean_prompts(prompts, [i.key for i in indicators] if indicators else None)


def get_reflection(viewer, learner, course_key, block_id):
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return Reflection.objects.filter(learner=learner, block_id=str(block_id)).prefetch_related(
        "comments__author"
    ).first()


def save_reflection(learner, course_key, block_id, exercise, answers, self_ratings=None, submit=False):
    """
    Save the learner's draft answers, or submit them (final; completion is then published).

    ``exercise``: the block's ``title``, ``prompts``, ``min_length`` and ``self_rating`` settings.
    """
    course_key = parse_course_key(course_key)
    if not getattr(learner, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to write a reflection."))
    prompts = exercise["prompts"]
    errors = {}
    clean_answers = collect(errors, reflections.clean_answers, prompts, answers, exercise.get("min_length", 0),
                            require_all=submit)
    clean_ratings = {}
    if exercise.get("self_rating"):
        by_key = {indicator.key: indicator for indicator in policy_indicators(course_key)}
        clean_ratings = collect(errors, reflections.clean_self_ratings, prompts, self_ratings, by_key)
    if errors:
        raise ValidationError(errors)
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
    return reflection


def reflections_for(viewer, learner, course_key):
    """A learner's submitted reflections with comments, for the learner, their coaches and staff."""
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return list(Reflection.objects.filter(learner=learner, course_key=course_key, status=Reflection.SUBMITTED)
                .prefetch_related("comments__author").order_by("-submitted_at"))


def get_reflection_by_id(viewer, course_key, reflection_id):
    course_key = parse_course_key(course_key)
    reflection = Reflection.objects.filter(pk=reflection_id, course_key=course_key).prefetch_related(
        "comments__author").first() if str(reflection_id).isdigit() else None
    if reflection is None or (reflection.status != Reflection.SUBMITTED and viewer.pk != reflection.learner_id):
        raise Http404(_("No such reflection."))
    _require(can_view_learner(viewer, reflection.learner_id, course_key), _("You cannot see this learner's records."))
    return reflection


def comment_on_reflection(actor, reflection_id, text):
    """A coach (or staff) comments on a submitted reflection of a learner they coach."""
    reflection = Reflection.objects.filter(pk=reflection_id).first() if str(reflection_id).isdigit() else None
    if reflection is None:
        raise ValidationError({"reflection": [_("No such reflection.")]})
    require_coach(actor, reflection.learner_id, reflection.course_key)
    if reflection.status != Reflection.SUBMITTED:
        raise ValidationError({"reflection": [_("Comments are for submitted reflections.")]})
    text = clean_text(text, "text", MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        comment = ReflectionComment.objects.create(reflection=reflection, author=actor, text=text)
        audit.record("reflection.commented", comment, actor=actor, subject_user_id=reflection.learner_id,
                     course_key=reflection.course_key)
    return comment


# --- decision and gate ---------------------------------------------------------------------------

def competency_decision(user, course_key, now=None):
    """The learner's full decision from their records, or None when the course has no policy."""
    policy = get_policy(course_key)
    if policy is None:
        return None
    decision, _certification = evaluation.evaluate(policy, get_user(user).pk, policy.course_key, now)
    return decision


@dataclass(frozen=True)
class GateResult:
    allowed: bool
    reasons: tuple

    @property
    def message(self):
        return " ".join(reason.message for reason in self.reasons)


def gate_decision(user, course_key, now=None):
    """
    May the platform create this learner's certificate? One query, whatever the history.

    Reads the course policy and the learner's status row (kept current by every write) in a single
    statement (``gate_query``); the passing of time (expiry) is applied here. Only a learner with
    no status row yet costs a second query (the policy's rules, to say what is missing).
    """
    now = now or timezone.now()
    course_key = parse_course_key(course_key)
    found = gate_query.fetch(user.pk, course_key)
    if found is None:
        return GateResult(True, ())
    (status,) = found
    if status is None:
        rules = evaluation.rules_for(get_policy(course_key))
        return GateResult(False, competency.decide(rules, [], [], None, now).reasons)
    reasons, certification_id, expires_at, revoked_at = status
    if certification_id is not None and revoked_at is None and (expires_at is None or now < expires_at):
        return GateResult(True, ())
    reasons = tuple(competency.Reason.from_dict(item) for item in reasons)
    if certification_id is not None and expires_at is not None:
        reasons = (competency.Reason("certification_expired", {"date": expires_at.date().isoformat()}),
                   ) + tuple(r for r in reasons if r.code != "certification_expired")
    return GateResult(False, reasons)


def certification_status(user, course_key, now=None):
    """The learner's most recent certification and whether it is active now (None if none)."""
    now = now or timezone.now()
    certification = evaluation.latest_certification(get_user(user).pk, parse_course_key(course_key))
    if certification is None:
        return None
    return {
        "id": certification.pk,
        "issued_at": certification.issued_at,
        "expires_at": certification.expires_at,
        "revoked_at": certification.revoked_at,
        "active": certification.is_active(now),
    }


def learner_status(viewer, learner, course_key):
    """The stored status row of a learner (refreshed when time may have changed it)."""
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    policy = _require_policy(course_key)
    status = LearnerStatus.objects.select_related("certification").filter(
        learner=learner, course_key=course_key
    ).first()
    now = timezone.now()
    if status is None or (status.stale_after is not None and status.stale_after <= now):
        with transaction.atomic():
            evaluation.refresh(policy, learner.pk, course_key, now)
        status = LearnerStatus.objects.select_related("certification").get(learner=learner, course_key=course_key)
    status.learner = learner
    return status


def learner_statuses(viewer, course_key, coach=None, state=None, search=None, ordering=None, header=False):
    """
    The learner list ``viewer`` may see, as a ``roster.Roster`` (paginate it; its ``summary`` has the
    count): every learner for course staff, their own learners for a coach, ``PermissionDenied`` for
    anyone else. Filters and sort keys: see ``roster``. ``header``: the summary also holds what the
    list's page shows above it (expiring certifications for staff, whether a policy is enabled).
    """
    course_key = parse_course_key(course_key)
    staff = is_course_staff(viewer, course_key)
    if not staff:
        _require(getattr(viewer, "is_authenticated", False), _("You are not a coach or staff member in this course."))
        if coach not in (None, "") and str(coach) != str(viewer.pk):
            raise PermissionDenied(_("Coaches see only their own learners."))
        coach = viewer.pk
    listing = roster.Roster(course_key, coach_id=coach, state=state, search=search, ordering=ordering,
                            with_expiring=staff and header, check_coach=not staff)
    # A coach's right to the list is read with its count: one statement instead of two.
    _require(staff or listing.summary["coaches_here"], _("You are not a coach or staff member in this course."))
    return listing


def learner_rows(statuses, reviewer=True):
    """
    Display rows (state, next requirement...) for roster rows or ``LearnerStatus`` instances, without
    queries; ``reviewer=False`` words the next requirement for the learner themselves.
    """
    now = timezone.now()
    return [roster.row(status if isinstance(status, dict) else roster.values_of(status), now, reviewer)
            for status in statuses]


# --- monitoring ----------------------------------------------------------------------------------

def drift_alerts(viewer, course_key, learner=None, include_resolved=False):
    """
    Drift alerts: a learner's own, a coach's learners', or the whole course's for staff.
    Two or three queries, whatever the number of alerts.
    """
    course_key = parse_course_key(course_key)
    alerts = DriftAlert.objects.filter(course_key=course_key).select_related("learner", "acknowledged_by")
    if not include_resolved:
        alerts = alerts.filter(resolved_at__isnull=True)
    if learner is not None:
        learner = get_user(learner, "learner")
        _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
        return alerts.filter(learner=learner)
    if is_course_staff(viewer, course_key):
        return alerts
    _require(getattr(viewer, "is_authenticated", False), _("Sign in first."))
    return alerts.filter(learner_id__in=CoachAssignment.objects.filter(
        course_key=course_key, coach_id=viewer.pk).values("learner_id"))


def alert_rows(alerts, course_key):
    """Alerts with their developmental message (one query for the indicator labels)."""
    policy = get_policy(course_key)
    labels = dict(Indicator.objects.filter(version_id=policy.instrument_version_id).values_list("key", "label")) \
        if policy else {}
    from . import drift  # pylint: disable=import-outside-toplevel

    return [{"alert": alert, "message": drift.alert_message(alert.kind, alert.details,
                                                            labels.get(alert.indicator_key, alert.indicator_key))}
            for alert in alerts]


def acknowledge_alert(actor, alert_id, plan_note):
    """A coach (or staff) acknowledges an alert with a coaching plan note."""
    alert = DriftAlert.objects.filter(pk=alert_id).first() if str(alert_id).isdigit() else None
    if alert is None:
        raise ValidationError({"alert": [_("No such alert.")]})
    require_coach(actor, alert.learner_id, alert.course_key)
    note = clean_text(plan_note, "plan_note", MAX_REASON_CHARS, required=True)
    with transaction.atomic():
        alert.acknowledged_at, alert.acknowledged_by, alert.plan_note = timezone.now(), actor, note
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "plan_note"])
        audit.record("drift_alert.acknowledged", alert, actor=actor, subject_user_id=alert.learner_id,
                     course_key=alert.course_key)
    return alert


def reliability_report(viewer, course_key):
    """Rater agreement per pair and coach, leniency and calibration (course staff only)."""
    course_key = parse_course_key(course_key)
    _require(is_course_staff(viewer, course_key), _("Only course staff can see rater agreement."))
    return monitoring.reliability_report(course_key)


def leader_view(viewer, course_key):
    """Course aggregates with small cells suppressed (course staff and certification leads)."""
    course_key = parse_course_key(course_key)
    _require(is_course_staff(viewer, course_key), _("Only course staff can see the leader view."))
    policy = _require_policy(course_key)
    from . import aggregates  # pylint: disable=import-outside-toplevel

    return aggregates.leader_view(course_key, policy)


def export_lines(viewer, course_key, kind):
    """A streamed CSV export (course staff only); ``Http404`` for an unknown kind."""
    from . import exports  # pylint: disable=import-outside-toplevel

    course_key = parse_course_key(course_key)
    _require(is_course_staff(viewer, course_key), _("Only course staff can export records."))
    if kind not in exports.EXPORTS:
        raise Http404(_("No such export."))
    with transaction.atomic():
        audit.record("export." + kind, None, actor=viewer, course_key=course_key)
    return exports.rows(kind, course_key)


# --- sign-off ------------------------------------------------------------------------------------

def _evidence(policy, decision):
    return {
        "policy": policy.pk,
        "instrument_version": policy.instrument_version_id,
        "observations": [{"id": obs.id, "percent": obs.percent} for obs in decision.qualifying],
    }


def sign_off(actor, learner, course_key, level=SignOff.COACH, reason=""):
    """
    Approve a learner's competency at ``level`` ("coach", or "lead" for the second level).

    Refused unless the evidence meets the policy. Approving again on the same evidence changes
    nothing. When every required level has approved, a certification is issued and, after the
    transaction commits, the platform certificate is requested once.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    reason = clean_text(reason, "reason", MAX_REASON_CHARS)
    if level not in (SignOff.COACH, SignOff.LEAD):
        raise ValidationError({"level": [_("Choose coach or lead.")]})
    if level == SignOff.LEAD:
        _require(is_course_staff(actor, course_key) and actor.pk != learner.pk,
                 _("Only a certification lead (course staff) can confirm competency."))
    else:
        require_coach(actor, learner, course_key)
    policy = _require_policy(course_key)
    with transaction.atomic():
        status = evaluation.lock_status(learner.pk, course_key)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        renewing = decision.certified and competency.recertification_open(decision.certification, timezone.now())
        if decision.certified and not renewing:
            return _latest_approval(learner, course_key)
        if not decision.evidence_met:
            reasons = decision.evidence_reasons if renewing else decision.reasons
            raise ValidationError({"evidence": [reason.reviewer_message for reason in reasons]})
        if level == SignOff.LEAD and policy.require_lead_signoff is False:
            raise ValidationError({"level": [_("This course's policy has no lead sign-off level.")]})
        approvals = competency.current_approvals(
            evaluation.load_signoffs(learner.pk, course_key), since=certification.issued_at if certification else None
        )
        if level == SignOff.LEAD and SignOff.COACH not in approvals:
            raise ValidationError({"level": [_("The coach approves first; the lead then confirms.")]})
        if level == SignOff.LEAD and approvals[SignOff.COACH].actor_id == actor.pk:
            raise ValidationError({"level": [_("The lead confirmation must come from someone other than the "
                                               "approving coach.")]})
        evidence = _evidence(policy, decision)
        digest = SignOff.digest(evidence)
        existing = approvals.get(level)
        if existing is not None and SignOff.objects.filter(pk=existing.id, evidence_digest=digest).exists():
            return SignOff.objects.get(pk=existing.id)
        signoff = SignOff.objects.create(course_key=course_key, learner=learner, actor=actor, action=SignOff.APPROVE,
                                         level=level, reason=reason, evidence=evidence, evidence_digest=digest)
        audit.record("competency.approved", signoff, actor=actor, subject_user_id=learner.pk, course_key=course_key)
        events.competency_approved(signoff)
        if set(evaluation.rules_for(policy).required_levels) <= set(approvals) | {level}:
            _issue_certification(policy, learner, course_key, digest, actor)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        evaluation.store_status(status, decision, certification)
        _announce(learner.pk, course_key, decision.state, "approved")
    return signoff


def _latest_approval(learner, course_key):
    return SignOff.objects.filter(learner=learner, course_key=course_key, action=SignOff.APPROVE).order_by(
        "-created_at", "-id"
    ).first()


def _issue_certification(policy, learner, course_key, digest, actor):
    now = timezone.now()
    certification = Certification.objects.create(
        course_key=course_key, learner=learner, policy=policy, issued_at=now,
        expires_at=competency.expiry_for(now, evaluation.rules_for(policy)), evidence_digest=digest,
    )
    audit.record("certification.issued", certification, actor=actor, subject_user_id=learner.pk,
                 course_key=course_key)
    events.certification_issued(certification)
    from . import tasks  # pylint: disable=import-outside-toplevel

    # robust: a broker outage must not fail the approval that already committed; the periodic
    # ``request_pending_certificates`` task picks up any certification left unrequested.
    countdown = getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN", 0) or 0
    transaction.on_commit(lambda: tasks.request_certificate.apply_async(args=[certification.pk], countdown=countdown),
                          robust=True)
    return certification


def revoke(actor, learner, course_key, reason):
    """Revoke a learner's competency (approvals and active certification), with a required reason."""
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require_coach(actor, learner, course_key)
    reason = clean_text(reason, "reason", MAX_REASON_CHARS, required=True)
    policy = _require_policy(course_key)
    with transaction.atomic():
        status = evaluation.lock_status(learner.pk, course_key)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        if not decision.certified and not decision.approved_levels:
            raise ValidationError({"learner": [_("There is no approval or active certification to revoke.")]})
        signoff = SignOff.objects.create(
            course_key=course_key, learner=learner, actor=actor, action=SignOff.REVOKE,
            level=SignOff.LEAD if is_course_staff(actor, course_key) else SignOff.COACH,
            reason=reason, evidence=_evidence(policy, decision), evidence_digest=SignOff.digest(_evidence(policy, decision)),
        )
        if decision.certified:
            certification.revoked_at, certification.revoked_by = signoff.created_at, signoff
            certification.save(update_fields=["revoked_at", "revoked_by"])
            audit.record("certification.revoked", certification, actor=actor, subject_user_id=learner.pk,
                         course_key=course_key)
        audit.record("competency.revoked", signoff, actor=actor, subject_user_id=learner.pk, course_key=course_key)
        events.competency_revoked(signoff)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        evaluation.store_status(status, decision, certification)
        _announce(learner.pk, course_key, decision.state, "revoked")
    return signoff


def signoffs_for(viewer, learner, course_key):
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    _require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return list(SignOff.objects.filter(learner=learner, course_key=course_key).order_by("created_at", "id"))


def reevaluate_course(course_key, progress=None):
    """Recompute every learner's status in a course (what the Celery task runs)."""
    policy = _require_policy(course_key)
    return evaluation.reevaluate_course(policy, policy.course_key, progress)


def reevaluate(learner, course_key):
    """Recompute one learner's stored status (after a policy change, or when it went stale)."""
    policy = _require_policy(course_key)
    with transaction.atomic():
        decision, _certification, _alerts = evaluation.refresh(policy, get_user(learner).pk, policy.course_key)
    return decision


def _announce(learner_id, course_key, state, cause):
    transaction.on_commit(
        lambda: competency_changed.send(sender=None, learner_id=learner_id, course_key=str(course_key),
                                        state=state, cause=cause)
    )
