"""A course's competency policy and its coach assignments (one by one or from a CSV file)."""
import csv
import io
from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core import exceptions as django_exceptions
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, coach_flags, evaluation
from ..records import reevaluation_progress as reevaluation
from ..records.models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    InstrumentVersion,
    LearnerStatus,
    Observation,
    Reflection,
    SignOff,
)
from ..rules import data, policy_rules
from ..rules.errors import ValidationError
from ..rules.validation import as_id
from . import to_data as values
from .inputs import NAME_LOOKUP_LIMIT, CourseRef, User, UserRef, get_user, parse_course_key, user_ids_named
from .memo import forget, per_request
from .paged import PagedRows
from .roles import is_course_staff, learners_of_course, require, require_course_staff, require_learner_of_course
from .signals import course_reevaluation_requested
from .to_data import POLICY_FIELDS


def policy_row(course_key: CourseRef) -> CompetencyPolicy | None:
    """
    The course's enabled ``CompetencyPolicy`` row, or None (internal to the api), read once per
    request: a page asks for it in every part it draws. Never changed by its readers.

    Args:
        course_key: the course.

    Returns:
        The enabled policy row (its instrument version loaded), or None.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    return per_request(("policy", str(course_key)), lambda: _read_policy(course_key))


def _read_policy(course_key: CourseKey) -> CompetencyPolicy | None:
    policy = CompetencyPolicy.objects.filter(course_key=course_key, enabled=True).select_related(
        "instrument_version").first()
    if policy is not None:  # its version's settings and summaries come with it (the observation form reads them)
        values.remember_version_rules(policy.instrument_version)
    return policy


def get_policy(course_key: CourseRef) -> data.PolicyData | None:
    """
    The course's enabled competency policy.

    Args:
        course_key: the course.

    Returns:
        The policy; None when the course has no enabled one (stock Open edX behaviour).

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    return values.policy_data(policy_row(course_key))


def require_policy(course_key: CourseRef) -> CompetencyPolicy:
    """
    The course's enabled ``CompetencyPolicy`` row (internal to the api), for the writes that need one.

    Args:
        course_key: the course.

    Returns:
        The policy row (``policy_row``).

    Raises:
        ValidationError: the course has no enabled policy, or ``course_key`` is not a course key
            (on ``course_key``).
    """
    policy = policy_row(course_key)
    if policy is None:
        raise ValidationError({"course_key": [_("This course has no competency policy.")]})
    return policy


def _limits(field: str) -> tuple[int, int]:
    """
    ``(min, max)`` of a policy field, read from the model's validators (one place for both forms);
    the min is 0 without a ``MinValueValidator``. Each field of ``POLICY_LIMITS`` has a
    ``MaxValueValidator`` (hence the cast: the type checker cannot tell).
    """
    bounds = {type(v).__name__: v.limit_value for v in CompetencyPolicy._meta.get_field(field).validators}
    return bounds.get("MinValueValidator", 0), cast(int, bounds.get("MaxValueValidator"))




#: The number fields of a policy and of its requirement sets (``policy_rules.SET_LIMITS``) and their
#: ``(min, max)``; ``POLICY_MODES``: the grade modes.
POLICY_LIMITS = {**{name: _limits(name) for name in (
    "validity_months", "drift_window_observations", "drift_window_days", "drift_min_observations",
    "calibration_threshold", "deadline_days")}, **policy_rules.SET_LIMITS}
POLICY_MODES = CompetencyPolicy.MODE_CHOICES
#: The explanation shown beside each policy field (the model's help texts).
POLICY_HELP = {name: CompetencyPolicy._meta.get_field(name).help_text for name in POLICY_FIELDS}
#: What a new policy starts from (the model's defaults; its first set is ``new_policy_sets``).
POLICY_DEFAULTS = {name: CompetencyPolicy._meta.get_field(name).get_default()
                   for name in POLICY_FIELDS if name != "requirement_sets"}


def policy_for_editing(actor: User, course_key: CourseRef) -> data.PolicyData | None:
    """
    The course's policy, enabled or not, for its staff.

    Args:
        actor: who asks.
        course_key: the course.

    Returns:
        The policy; None when there is none.

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can change the competency policy."))
    return values.policy_data(CompetencyPolicy.objects.filter(course_key=course_key).first())


def save_policy(actor: User, course_key: CourseRef, **fields: Any) -> data.PolicyData:
    """
    Create or update a course's policy (course staff only); validates every field.

    A policy's evidence rules are its ``requirement_sets`` only (ADR 0013, 0025): a new policy needs
    them; an existing one keeps its sets unless new ones are given. Once committed, the course's
    learners are evaluated again (and, when its program changed, those of the program's courses).

    Args:
        actor: who saves (course staff).
        course_key: the course.
        **fields: the settings to change (names from ``POLICY_FIELDS``).

    Returns:
        The saved policy.

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: an unknown setting or an invalid value (by field), a program ``actor`` may
            not join, or ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can change the competency policy."))
    try:
        with transaction.atomic():
            policy, changed, previous_program = policy_with_changes(actor, course_key, fields)
            policy.save()
            audit.record("policy.saved", policy, actor=actor, course_key=course_key)
            transaction.on_commit(lambda: _start_reevaluation(course_key), robust=True)
            if "program" in changed:  # the program's other courses now share (or no longer share) this evidence
                for sibling in CompetencyPolicy.objects.filter(program__in={policy.program, previous_program} - {""},
                                                               enabled=True).exclude(course_key=course_key):
                    transaction.on_commit(lambda key=sibling.course_key: _start_reevaluation(key), robust=True)
    finally:  # the request's kept policy is read again, whether this committed or not
        forget(("policy", str(course_key)))
    return values.policy_data(policy)


def policy_with_changes(actor: User, course_key: CourseKey,
                        fields: dict[str, Any]) -> tuple[CompetencyPolicy, set[str], str]:
    """
    The course's policy row (a new one when it has none) with ``fields`` applied and every one
    checked, not saved: what ``save_policy`` saves and ``preview_policy`` evaluates. Internal to the
    api: the caller checked that ``actor`` is course staff.

    Args:
        actor: who changes it (a program may be joined only with rights in its courses).
        course_key: the course.
        fields: the settings to change (names from ``POLICY_FIELDS``).

    Returns:
        ``(policy, the names of the fields that changed, the program it had)``.

    Raises:
        ValidationError: as ``save_policy``.
    """
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown policy setting.")] for name in sorted(unknown)})
    fields = dict(fields)
    sets = fields.pop("requirement_sets", None)
    policy = CompetencyPolicy.objects.filter(course_key=course_key).first() or CompetencyPolicy(course_key=course_key)
    changed, previous_program, previous_prerequisite = set(), policy.program, policy.prerequisite_course
    for name, value in fields.items():
        if policy.pk is None or getattr(policy, name) != value:
            changed.add(name)
        setattr(policy, name, value)
    if "prerequisite_course" in fields:
        policy.prerequisite_course = _clean_prerequisite(policy.prerequisite_course, course_key)
        if policy.prerequisite_course and policy.prerequisite_course != previous_prerequisite:
            _require_right_to_stage(actor, policy.prerequisite_course)
    if "program" in changed:
        _require_right_to_program(actor, policy.program, course_key)
    errors: dict[str, list[str]] = {}
    if sets is not None:
        try:
            policy.requirement_sets = _clean_sets(sets)
            changed.add("requirement_sets")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif policy.pk is None:
        errors["requirement_sets"] = [_("Give the policy's requirement sets.")]
    if not errors:  # the first set's version is the course's main instrument (ADR 0026): copied, never an input
        policy.instrument_version_id = policy.requirement_sets[0]["instrument_version"]
    try:
        policy.full_clean(exclude=["instrument_version"] if errors else None)
    except django_exceptions.ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:  # every field's problem at once
        raise ValidationError(errors)
    return policy, changed, previous_program


def _require_right_to_program(actor: User, program: str, course_key: CourseKey) -> None:
    """
    A course joins a program only when ``actor`` is staff in every course already in it (ADR 0018):
    the program's courses read each other's observations, so naming a program is a claim on their
    evidence. Leaving (a blank program) takes nothing from anyone's records. The courses are not
    named in the refusal: an outsider learns nothing of the program.
    """
    program = program.strip() if isinstance(program, str) else program
    if not program:
        return
    members = CompetencyPolicy.objects.filter(program=program).exclude(course_key=course_key).values_list(
        "course_key", flat=True)
    if not all(is_course_staff(actor, member) for member in members):
        raise ValidationError({"program": [_(
            "You can join this program only if you are course staff in every course of the program. "
            "Ask platform staff, or staff of those courses, to add this course.")]})


def _require_right_to_stage(actor: User, prerequisite: str) -> None:
    """
    A course may name an earlier stage only when ``actor`` is staff there too: its decisions read the
    learners' certifications there, which a preview of the change would tell (ADR 0018, issue 25's
    review). The same words whether or not the course exists.
    """
    if not is_course_staff(actor, prerequisite):
        raise ValidationError({"prerequisite_course": [_(
            "You can choose an earlier course only if you are course staff there too.")]})


#: The longest chain of stages (prerequisite of a prerequisite ...) a policy may start.
MAX_STAGES = 10


def _clean_prerequisite(value: CourseRef | None, course_key: CourseKey) -> str:
    """The prerequisite course as a normalised course id ("" for none); not the course itself."""
    value = (value or "").strip() if isinstance(value, str) else value
    if not value:
        return ""
    try:
        prerequisite = parse_course_key(value)
    except ValidationError as exc:
        raise ValidationError({"prerequisite_course": exc.message_dict["course_key"]}) from exc
    if prerequisite == course_key:
        raise ValidationError({"prerequisite_course": [_("A course cannot be its own prerequisite.")]})
    if not CompetencyPolicy.objects.filter(course_key=prerequisite).exists():  # a typo demoted every learner
        raise ValidationError({"prerequisite_course": [_(
            "No course with a competency policy has the id %(course)s. A prerequisite is the earlier stage's "
            "course, with a policy of its own: check the id.") % {"course": str(prerequisite)}]})
    stages, step = [str(course_key)], str(prerequisite)
    while step and step not in stages and len(stages) <= MAX_STAGES:  # no circle of stages
        stages.append(step)
        step = CompetencyPolicy.objects.filter(course_key=parse_course_key(step)).values_list(
            "prerequisite_course", flat=True).first()
    if step == str(course_key) or len(stages) > MAX_STAGES:
        raise ValidationError({"prerequisite_course": [_(
            "A course cannot come after itself: its prerequisites lead back to it (or go deeper than %(max)s "
            "stages).") % {"max": MAX_STAGES}]})
    return str(prerequisite)


def _clean_sets(raw: Any) -> list[dict[str, Any]]:
    """``raw`` requirement sets checked against the instrument versions that exist (one query)."""
    named = [item.get("instrument_version") for item in raw if isinstance(item, dict)] if isinstance(
        raw, list) else []
    # Only whole numbers the database can hold are looked up (a list or a bool is refused by the rules).
    # (``- {None}`` leaves ids only, which the type checker cannot tell: hence the cast.)
    version_ids = cast(set[int], {as_id(v) for v in named if isinstance(v, int) and not isinstance(v, bool)} - {None})
    summary_keys, settings = _declared(version_ids)
    return policy_rules.clean_requirement_sets(raw, summary_keys, settings)


def _declared(version_ids: Iterable[int]) -> tuple[dict[int, frozenset[str]], dict[int, list[str]]]:
    """``({version_id: the summary score keys its file declares}, {version_id: its declared settings})``
    (one query; ADR 0012)."""
    rows = list(InstrumentVersion.objects.filter(pk__in=sorted(version_ids)).values_list("pk", "summaries", "settings"))
    return ({pk: frozenset(summary["key"] for summary in summaries or ()) for pk, summaries, _settings in rows},
            {pk: list(settings or ()) for pk, _summaries, settings in rows})


def _start_reevaluation(course_key: CourseKey) -> None:
    reevaluation.requested(course_key)  # shown as "waiting" until a worker picks the task up
    course_reevaluation_requested.send(sender=CompetencyPolicy, course_id=str(course_key))


#: A name's lookup: ``(the course's people with this full name, by username; True when more people
#: on the platform have it than a lookup reads)``.
NameMatches = tuple[list[User], bool]
#: How many people sharing a name a refusal lists by username.
MAX_NAMED_CANDIDATES = 10


def people_named_in_course(names: Iterable[str], course_key: CourseKey,
                           coaches: bool = False) -> dict[str, NameMatches]:
    """
    The course's people whose full name is one of ``names`` (case ignored): its learners (enrolled
    or with records there), or with ``coaches`` its coaches and course staff. Internal to the api:
    callers check that the actor is course staff first (a name lookup tells who exists).

    One name query each, then two queries whatever the number of names (learners), or one plus a
    role check per person named who coaches no one there (coaches).

    Args:
        names: what was typed (each looked up as it is, spaces at either end ignored).
        course_key: the course.
        coaches: look among the course's coaches and staff instead of its learners.

    Returns:
        ``{name: NameMatches}`` for each name.
    """
    found = {name: user_ids_named(name, NAME_LOOKUP_LIMIT + 1) for name in set(names)}
    candidates = {user_id for ids in found.values() for user_id in ids[:NAME_LOOKUP_LIMIT]}
    if not candidates:
        return {name: ([], len(ids) > NAME_LOOKUP_LIMIT) for name, ids in found.items()}
    people = {user.pk: user for user in get_user_model().objects.filter(pk__in=candidates)}
    if coaches:
        of_course = set(CoachAssignment.objects.filter(course_key=course_key, coach_id__in=list(people)).values_list(
            "coach_id", flat=True).distinct())
        of_course |= {pk for pk, user in people.items() if pk not in of_course and is_course_staff(user, course_key)}
    else:
        of_course = learners_of_course(people.values(), course_key)
    return {name: (sorted((people[pk] for pk in ids[:NAME_LOOKUP_LIMIT] if pk in of_course and pk in people),
                          key=lambda user: user.username), len(ids) > NAME_LOOKUP_LIMIT)
            for name, ids in found.items()}


def name_refusal(name: str, matches: NameMatches) -> str | None:
    """
    Why ``name`` does not name one person of the course (``people_named_in_course``), or None.

    Args:
        name: what was typed.
        matches: its lookup.

    Returns:
        The refusal: several people have the name (listed by username), more than a lookup reads,
        or none (None when exactly one has it).
    """
    people, more = matches
    if more:
        return _("Too many people are called %(name)s to find one by name — type the username.") % {
            "name": name.strip()}
    if len(people) > 1:
        usernames = [user.username for user in people[:MAX_NAMED_CANDIDATES]]
        return _("Several people are called %(name)s: %(usernames)s — type the username.") % {
            "name": name.strip(),
            "usernames": ", ".join(usernames + (["…"] if len(people) > MAX_NAMED_CANDIDATES else []))}
    return None if people else _("No such user.")


def course_person(value: UserRef, course_key: CourseKey, field: str) -> User:
    """
    A person of the course from a user, an id, a username or, failing those, a full name
    (``people_named_in_course``: learners, or coaches and staff for the ``coach`` field). Internal to
    the api: callers check that the actor is course staff first.

    Args:
        value: a user, an id, a username or a full name.
        course_key: the course.
        field: the input field (``coach``: looked up among the course's coaches and staff).

    Returns:
        The user.

    Raises:
        ValidationError: no such user, or a name that is not one person's of the course (on ``field``).
    """
    try:
        return get_user(value, field)
    except ValidationError:
        if not isinstance(value, str):
            raise
    matches = people_named_in_course([value], course_key, coaches=field == "coach")[value]
    refusal = name_refusal(value, matches)
    if refusal:
        raise ValidationError({field: [refusal]})
    return matches[0][0]


def assign_coach(actor: User, course_key: CourseRef, coach: UserRef, learner: UserRef) -> data.CoachAssignmentData:
    """
    Assign ``coach`` to ``learner`` (course staff only); assigning twice changes nothing.

    People may be given by full name: text that is neither an id nor a username is looked up among
    the course's learners (``learner``), or its coaches and staff (``coach``), by exact full name,
    case ignored.

    Args:
        actor: who assigns (course staff).
        course_key: the course.
        coach: the coach, or their id, username or full name.
        learner: the learner, or their id, username or full name.

    Returns:
        The assignment (the existing one when it was already made).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: no such coach or learner, a full name several people of the course share,
            a learner coaching themselves, a learner not enrolled in the course, or ``course_key``
            is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can assign coaches."))
    coach, learner = course_person(coach, course_key, "coach"), course_person(learner, course_key, "learner")
    if coach.pk == learner.pk:
        raise ValidationError({"coach": [_("A learner cannot coach themselves.")]})
    require_learner_of_course(learner, course_key)
    with transaction.atomic():
        assignment, created = CoachAssignment.objects.get_or_create(
            course_key=course_key, coach=coach, learner=learner
        )
        if created:
            _ensure_status(learner, course_key)  # the status row before the audit head (ADR 0006)
            coach_flags.refresh(course_key, [learner.pk])
            audit.record("coach.assigned", assignment, actor=actor, subject_user_id=learner.pk,
                         course_key=course_key)
    return values.assignment_data(assignment)




def _ensure_status(learner: User, course_key: CourseKey) -> None:
    """Give a newly assigned learner a status row, so that every list is one table."""
    policy = policy_row(course_key)
    if policy is not None:  # with program evidence, a new learner may be ready at once: announced
        evaluation.refresh_and_announce(policy, learner.pk, course_key, cause="coach_assigned")
    else:
        LearnerStatus.objects.get_or_create(learner=learner, course_key=course_key,
                                            defaults={"evaluated_at": timezone.now()})


def note_enrollment(learner_id: int, course_key: CourseRef) -> None:
    """
    A learner enrolled: in a course with a policy, they get their status row (no coach needed).

    Args:
        learner_id: the enrolled user's id.
        course_key: the course.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    policy = policy_row(course_key)
    if policy is not None and get_user_model().objects.filter(pk=learner_id).exists():
        with transaction.atomic():  # a savepoint inside the platform's enrollment transaction
            evaluation.refresh_and_announce(policy, learner_id, course_key, cause="enrolled")
            LearnerStatus.objects.filter(learner_id=learner_id, course_key=course_key).update(enrolled=True)


#: What is recorded about a learner in a course (kept when they unenrol).
RECORDS = (CoachAssignment, Observation, Reflection, SignOff, Certification)


def note_unenrollment(learner_id: int, course_key: CourseRef) -> bool:
    """
    A learner left the course: if nothing was recorded about them there (no coach, observation,
    reflection, sign-off or certification), their status row goes too; otherwise the lists show
    that they left. Records are never removed.

    Args:
        learner_id: the unenrolled user's id.
        course_key: the course.

    Returns:
        True when their status row was removed.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    mine = {"learner_id": learner_id, "course_key": course_key}
    with transaction.atomic():  # a savepoint: a failure here must not break the platform's transaction
        if any(model.objects.filter(**mine).exists() for model in RECORDS):
            LearnerStatus.objects.filter(**mine).update(enrolled=False)  # listed as having left
            return False
        return LearnerStatus.objects.filter(**mine).delete()[0] > 0


def unassign_coach(actor: User, assignment_id: int | str) -> None:
    """
    Remove a coach assignment (course staff only).

    Args:
        actor: who removes it (staff of the assignment's course).
        assignment_id: the assignment's id (an int or its digits).

    Raises:
        PermissionDenied: ``actor`` is not staff of the assignment's course.
        ValidationError: no such assignment.
    """
    assignment = CoachAssignment.objects.filter(pk=assignment_id).first() if as_id(assignment_id) else None
    if assignment is None:
        raise ValidationError({"assignment": [_("No such coach assignment.")]})
    require_course_staff(actor, assignment.course_key, _("Only course staff can assign coaches."))
    course_key, learner_id = assignment.course_key, assignment.learner_id
    with transaction.atomic():
        coach_flags.lock_rows(course_key, [learner_id])  # the status row before the audit head (ADR 0006)
        audit.record("coach.unassigned", assignment, actor=actor, subject_user_id=learner_id, course_key=course_key)
        assignment.delete()
        coach_flags.refresh(course_key, [learner_id])


def coach_assignments(viewer: User, course_key: CourseRef) -> PagedRows:
    """
    The course's assignments (staff) or the viewer's own (a coach), by learner id then coach id (the
    order of the assignment indexes).

    Args:
        viewer: who asks.
        course_key: the course.

    Returns:
        ``data.CoachAssignmentData`` in a ``paged.PagedRows`` (page it: a course may hold 100,000).

    Raises:
        PermissionDenied: ``viewer`` is not signed in.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    assignments = CoachAssignment.objects.filter(course_key=course_key).select_related("coach", "learner")
    if is_course_staff(viewer, course_key):
        assignments = assignments.order_by("learner_id", "coach_id")
    else:
        require(getattr(viewer, "is_authenticated", False), _("Sign in first."))
        assignments = assignments.filter(coach_id=viewer.pk).order_by("learner_id")
    return PagedRows(assignments, values.assignment_data)


MAX_CSV_ROWS = 5000


MAX_CSV_BYTES = 1024 * 1024


def read_csv_upload(upload: UploadedFile | None) -> str:
    """
    The text of an uploaded CSV file (UTF-8, at most 1 MB).

    Args:
        upload: the uploaded file, or None when none was attached.

    Returns:
        Its text.

    Raises:
        ValidationError: no file, a file over 1 MB, or not UTF-8 (on ``file``).
    """
    if upload is None:
        raise ValidationError({"file": [_("Attach a CSV file.")]})
    if upload.size > MAX_CSV_BYTES:
        raise ValidationError({"file": [_("The file is larger than 1 MB.")]})
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": [_("Save the file as UTF-8 text.")]}) from exc


def assign_coaches_from_csv(actor: User, course_key: CourseRef, text: str) -> tuple[list[dict[str, Any]], int]:
    """
    Assign coaches from CSV text with a ``coach,learner`` header (usernames, or full names as
    ``assign_coach`` takes them).

    All or nothing: when any row is wrong nothing is assigned, and the report says which rows and
    why.

    Args:
        actor: who assigns (course staff).
        course_key: the course.
        text: the CSV text (``read_csv_upload``).

    Returns:
        ``(report, assigned_count)``; each report row is ``{"row", "coach", "learner", "status",
        "errors"}`` with status "assigned", "unchanged" or "error" (0 assigned when any row is wrong).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: the file is empty, not CSV, without the header, over ``MAX_CSV_ROWS`` rows
            or without rows (on ``file``), or ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can assign coaches."))
    rows = _csv_rows(text)
    users = {user.username: user for user in get_user_model().objects.filter(
        username__in={value for row in rows for value in (row[1], row[2])})}
    # Text that is no username is a full name, looked up among the course's people (one query a name).
    coaches_named = people_named_in_course({row[1] for row in rows if row[1] and row[1] not in users}, course_key,
                                           coaches=True)
    learners_named = people_named_in_course({row[2] for row in rows if row[2] and row[2] not in users}, course_key)
    of_course = learners_of_course(list(users.values()) + [
        people[0] for people, _more in learners_named.values() if len(people) == 1], course_key)
    report, chosen = [], []
    for line, coach_name, learner_name in rows:
        errors = []
        coach, refusal = _csv_person(coach_name, users, coaches_named, _("Unknown coach username."),
                                     _("No coach or staff member of this course is called %(name)s."))
        errors += [refusal] if refusal else []
        learner, refusal = _csv_person(learner_name, users, learners_named, _("Unknown learner username."),
                                       _("No learner of this course is called %(name)s."))
        errors += [refusal] if refusal else []
        if coach is not None and coach == learner:
            errors.append(_("A learner cannot coach themselves."))
        if learner is not None and learner.pk not in of_course:
            errors.append(_("This learner is not enrolled in this course."))
        report.append({"row": line, "coach": coach_name, "learner": learner_name,
                       "status": "error" if errors else "pending", "errors": errors})
        chosen.append((coach, learner))
    if any(item["status"] == "error" for item in report):
        return report, 0
    assigned = 0
    with transaction.atomic():
        existing = set(CoachAssignment.objects.filter(course_key=course_key).values_list("coach_id", "learner_id"))
        for item, (coach, learner) in zip(report, cast(list[tuple[User, User]], chosen)):  # no error: both found
            if (coach.pk, learner.pk) in existing:
                item["status"] = "unchanged"
                continue
            assign_coach(actor, course_key, coach, learner)
            existing.add((coach.pk, learner.pk))
            item["status"] = "assigned"
            assigned += 1
    return report, assigned


def _csv_person(text: str, users: dict[str, User], named: dict[str, NameMatches],
                unknown: str, unnamed: str) -> tuple[User | None, str | None]:
    """
    A CSV cell's person: by username, else by full name (``named``); or None and why not. A cell
    nobody has is answered as what it can be: ``unknown`` (a username), or ``unnamed`` for a cell
    with a space inside, which no username has: a full name (issue 26: "Dana Reyz" was answered
    "Unknown coach username.").
    """
    if text in users:
        return users[text], None
    matches = named.get(text, ([], False))
    refusal = name_refusal(text, matches)
    if refusal:
        if matches[0] or matches[1]:
            return None, refusal
        return None, (unnamed % {"name": text} if any(c.isspace() for c in text) else unknown)
    return matches[0][0], None


def _csv_rows(text: str, columns: tuple[str, ...] = ("coach", "learner")) -> list[tuple[int, str, str]]:

    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"file": [_("The file is empty.")]})
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        body = list(reader)
    except csv.Error as exc:
        raise ValidationError({"file": [_("This is not a CSV file.")]}) from exc
    if header[:2] != list(columns):
        raise ValidationError({"file": [_("The first line must be the header: %(header)s") % {
            "header": ",".join(columns)}]})
    if len(body) > MAX_CSV_ROWS:
        raise ValidationError({"file": [_("At most %(max)s rows per file.") % {"max": MAX_CSV_ROWS}]})
    rows = [(number, (cells + ["", ""])[0].strip(), (cells + ["", ""])[1].strip())
            for number, cells in enumerate(body, start=2) if any(cell.strip() for cell in cells)]
    if not rows:
        raise ValidationError({"file": [_("The file has no rows after the header.")]})
    return rows


#: How many coaches a coach search answers at most (the staff page's coach filter).
COACH_SEARCH_LIMIT = 10


def search_coaches(viewer: User, course_key: CourseRef, prefix: str,
                   limit: int = COACH_SEARCH_LIMIT) -> list[data.UserRef]:
    """
    Up to ``limit`` users who coach someone in the course and whose username or full name starts
    with ``prefix`` (any case), by username (course staff only). Bounded queries: a range of the
    username index and of the platform's name index (``NAME_LOOKUP_LIMIT`` people at most), each
    checked against the assignment index; never the list of every coach.

    Args:
        viewer: who asks (course staff).
        course_key: the course.
        prefix: the start of the username or of the full name (anything but text counts as blank).
        limit: the most coaches answered.

    Returns:
        The coaches found; empty for a blank ``prefix``.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: ``prefix`` over 150 characters (on ``coach_search``), or ``course_key`` is
            not a course key.
    """
    course_key = require_course_staff(viewer, course_key, _("Only course staff can see the course's coaches."))
    prefix = prefix.strip() if isinstance(prefix, str) else ""
    if len(prefix) > 150:
        raise ValidationError({"coach_search": [_("At most 150 characters.")]})
    if not prefix:
        return []
    coaching = CoachAssignment.objects.filter(course_key=course_key, coach_id=OuterRef("pk"))
    named = user_ids_named(prefix, prefix=True)
    return [data.UserRef(pk, username) for pk, username in get_user_model().objects.filter(
        Q(username__istartswith=prefix) | Q(pk__in=named), Exists(coaching)).order_by("username").values_list(
        "pk", "username")[:limit]]


def course_coach(viewer: User, course_key: CourseRef, coach_id: int | str | None) -> data.UserRef | None:
    """
    The coach ``coach_id`` of the course (course staff only).

    Args:
        viewer: who asks (course staff).
        course_key: the course.
        coach_id: the coach's user id (an int or its digits).

    Returns:
        The coach; None when ``coach_id`` is not an id (None included) or they coach no one there.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(viewer, course_key, _("Only course staff can see the course's coaches."))
    coach_id = as_id(coach_id)
    if coach_id is None:
        return None
    coaching = CoachAssignment.objects.filter(course_key=course_key, coach_id=OuterRef("pk"))
    found = get_user_model().objects.filter(Exists(coaching), pk=coach_id).values_list("pk", "username").first()
    return data.UserRef(*found) if found else None


def coached_learner_ids(coach: User, course_key: CourseRef) -> list[int]:
    """
    The learners ``coach`` coaches in the course.

    Args:
        coach: the coach.
        course_key: the course.

    Returns:
        The learners' ids (empty when they coach no one there).

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    return list(
        CoachAssignment.objects.filter(course_key=parse_course_key(course_key), coach_id=coach.pk)
        .values_list("learner_id", flat=True)
    )
