"""
Where learners stand: the competency decision, the certificate gate, stored status rows and the
learner list, and their re-evaluation.
"""
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import evaluation, gate_query, outbox, roster
from ..records import reevaluation_progress as reevaluation
from ..records.models import CompetencyPolicy, LearnerStatus
from ..records.roster import COUNT_LIMIT, EXPIRING_FILTERS, LAST_PAGE, SORT_COLUMNS, STATE_FILTERS  # noqa: F401  (the list's filters and labels, for pages)  # noqa: F401  (lists count up to COUNT_LIMIT; the last page's cursor)
from ..rules import competency, data
from ..rules.errors import PermissionDenied, ValidationError
from ..rules.programs import may_change_completion
from ..wording import reason_sentences
from . import self_assessments
from . import to_data as values
from .courses import policy_row, require_policy
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, is_course_staff, require, require_course_staff


@dataclass(frozen=True)
class GateResult:
    """The certificate gate's answer for one learner: allowed, or refused with its ``competency.Reason`` values."""

    allowed: bool
    reasons: tuple

    @property
    def message(self) -> str:
        """
        The reasons as sentences for the learner, in the active language.

        Returns:
            The sentences, joined by spaces ("" when there are no reasons).
        """
        return " ".join(reason_sentences.sentences(self.reasons))


def gate_decision(user: User, course_key: CourseRef, now: datetime | None = None) -> GateResult:
    """
    May the platform create this learner's certificate? One query, whatever the history.

    Reads the course policy and the learner's status row (kept current by every write) in a single
    statement (``gate_query``); ``competency.gate_verdict`` applies the passing of time (expiry).
    Only a learner with no status row yet costs a second query (the policy's rules, to say what is
    missing).

    Args:
        user: the learner.
        course_key: the course.
        now: the moment (default: the clock).

    Returns:
        Allowed (no enabled policy: stock Open edX behaviour; or an active certification), or
        refused with the reasons.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    now = now or timezone.now()
    course_key = parse_course_key(course_key)
    row = gate_query.fetch(user.pk, course_key)
    if row is None:
        return GateResult(True, ())
    if row.has_status:
        verdict = competency.gate_verdict(row.reasons, row.certification, now)
    else:
        policy = policy_row(course_key)
        if policy is None:  # disabled between the two statements: stock Open edX behaviour
            return GateResult(True, ())
        verdict = competency.gate_verdict_without_status(evaluation.rules_for(policy), now)
    return GateResult(verdict.allowed, verdict.reasons)


def certification_status(viewer: User, learner: UserRef, course_key: CourseRef,
                         now: datetime | None = None) -> data.CertificationData | None:
    """
    The learner's most recent certification, whether active, expired or revoked.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.
        now: the moment its state is told at (default: the clock).

    Returns:
        The certification, or None when none was ever issued.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records (the learner, their coaches, staff may).
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return _latest_certification(learner.pk, course_key, now)


def _latest_certification(learner_id: int, course_key: CourseKey,
                          now: datetime | None = None) -> data.CertificationData | None:
    return values.certification_data(evaluation.latest_certification(learner_id, course_key), now or timezone.now())


def certificate_still_valid(learner: UserRef, course_key: CourseRef, now: datetime | None = None) -> bool:
    """
    Whether the platform may render the learner's certificate (the platform asks; no viewer).

    Args:
        learner: the learner, or their id.
        course_key: the course.
        now: the moment (default: the clock).

    Returns:
        False once their certification was revoked or has expired, True otherwise (none recorded
        included).

    Raises:
        ValidationError: no such user, or not a course key.
    """
    certification = _latest_certification(get_user(learner).pk, parse_course_key(course_key), now)
    return certification is None or certification.active


class NotEnrolled(ValidationError):
    """The learner has no status row in the course: rows exist only for enrolled learners."""


def learner_status(viewer: User, learner: UserRef, course_key: CourseRef) -> data.LearnerStatusData:
    """
    The learner's status, decided again in memory when time alone may have changed it. Reads never
    write: enrollment and re-evaluation create rows; ``tasks.refresh_stale_statuses`` stores what
    time changed.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The status; for the learner themselves, without what would tell the ratings of a session
        they have yet to self-assess (``self_assessments.status_seen_by_learner``).

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        NotEnrolled: the learner has no status row in the course.
        ValidationError: no such learner, not a course key, or the course has no competency policy.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    policy = require_policy(course_key)
    status = LearnerStatus.objects.select_related("certification").filter(
        learner=learner, course_key=course_key
    ).first()
    if status is None:
        raise NotEnrolled({"learner": [_("Not enrolled in this course.") if viewer.pk == learner.pk
                                       else _("This learner is not enrolled in this course.")]})
    now = timezone.now()
    if status.stale_after is not None and status.stale_after <= now:
        evaluation.decide_again(policy, status, now)  # in memory only
    value = values.status_data(status, learner, now)
    return self_assessments.status_seen_by_learner(value, now) if viewer.pk == learner.pk else value


def has_coach(status: data.LearnerStatusData) -> bool:
    """
    Whether someone coaches the learner in the course, from the status row already read (its kept
    ``has_coach`` flag, ``records.coach_flags``): no query.

    Args:
        status: the learner's status (``learner_status``).

    Returns:
        False only when the row tells that nobody coaches the learner; True when it tells one does,
        or when the status does not tell (made elsewhere than from a status row).
    """
    return status.has_coach is not False


def status_reason_sentences(status: data.LearnerStatusData, reviewer: bool = False) -> list[str]:
    """
    The status's reasons as sentences in the active language; a learner nobody coaches reads that
    no coach is assigned yet rather than that their coach has not signed off (issue 26).

    Args:
        status: the learner's status (``learner_status``).
        reviewer: worded about the learner, for their coaches and course staff; else addressed to them.

    Returns:
        One sentence per reason, in the reasons' order.
    """
    return reason_sentences.sentences(status.reasons, reviewer=reviewer, coached=has_coach(status))


#: The learner list's sort keys (each also descending, with a "-").
SORT_KEYS = tuple(SORT_COLUMNS)


def learner_statuses(viewer: User, course_key: CourseRef, coach: int | str | None = None, state: str | None = None,
                     search: str | None = None, ordering: str | None = None, header: bool = False,
                     count_limit: int | None = None) -> roster.Roster:
    """
    The learner list ``viewer`` may see: every learner for course staff, their own learners for a
    coach.

    Args:
        viewer: who asks (course staff, or a coach).
        course_key: the course.
        coach: only the learners of this coach (an id; ``roster.NO_COACH``: of none); a coach
            may name only themselves.
        state: a key of ``STATE_FILTERS``.
        search: the beginning of a username or a full name (case and accents ignored).
        ordering: a sort key (``roster.ORDERINGS``).
        header: the summary also holds what the list's page shows above it (expiring
            certifications for staff, whether a policy is enabled).
        count_limit: count up to this many (default: every row).

    Returns:
        A ``roster.Roster``: read pages with its ``page(size, cursor)``; its ``summary`` has the
        count.

    Raises:
        PermissionDenied: ``viewer`` is neither course staff nor a coach in the course, or a coach
            named another coach.
        ValidationError: an unknown filter or sort key, a coach that is not an id, a search longer
            than 150 characters, or not a course key.
    """
    course_key = parse_course_key(course_key)
    staff = is_course_staff(viewer, course_key)
    if not staff:
        require(getattr(viewer, "is_authenticated", False), _("You are not a coach or staff member in this course."))
        if coach not in (None, "") and str(coach) != str(viewer.pk):
            raise PermissionDenied(_("Coaches see only their own learners."))
        coach = viewer.pk
    listing = roster.Roster(course_key, coach_id=coach, state=state, search=search, ordering=ordering,
                            with_expiring=staff and header, check_coach=not staff, count_limit=count_limit)
    # A coach's right to the list is read with its count: one statement instead of two.
    require(staff or listing.summary["coaches_here"], _("You are not a coach or staff member in this course."))
    return listing


def learner_rows(statuses: Iterable[dict[str, Any] | data.LearnerStatusData],
                 reviewer: bool = True) -> list[dict[str, Any]]:
    """
    Display rows (state, next requirement...), without queries.

    Args:
        statuses: roster rows (``learner_statuses`` slices or pages) or ``data.LearnerStatusData``.
        reviewer: word the next requirement for coaches and staff; False: for the learner themselves.

    Returns:
        One row per status (``roster.row``), with its ``essential_note``.
    """
    now = timezone.now()
    rows = []
    for status in statuses:
        values_ = status if isinstance(status, dict) else roster.values_of(status)
        rows.append({**roster.row(values_, now, reviewer), "essential_note": _essential_note(values_["reasons"], reviewer)})
    return rows


def _essential_note(reasons_text: str | list[dict[str, Any]], reviewer: bool) -> str:
    """The sentence about an essential indicator missed in the latest observation, or "" (rows name it)."""
    if "critical_not_met_latest" not in reasons_text:  # most rows: no parsing
        return ""
    reasons = json.loads(reasons_text) if isinstance(reasons_text, str) else reasons_text
    missed = [reason for reason in reasons or [] if reason.get("code") == "critical_not_met_latest"]
    return reason_sentences.sentences(missed[:1], reviewer=reviewer)[0] if missed else ""


def coachable_rows(user: User, course_key: CourseRef, limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
    """
    The learners ``user`` coaches in the course (every learner for staff), as display rows.

    Args:
        user: the coach or staff member.
        course_key: the course.
        limit: at most this many rows.

    Returns:
        ``(rows, total)``: the display rows of the first ``limit`` learners, and how many there
        are; ``([], 0)`` for anyone else.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    try:
        listing = learner_statuses(user, course_key)
    except PermissionDenied:
        return [], 0
    return learner_rows(listing[:limit]), listing.count()


def refresh_stale_statuses(limit: int = 5000, now: datetime | None = None) -> int:
    """
    Store the status of learners whose decision time alone has changed (an observation left the
    window, a certification expired): reads decide such rows again in memory but never write.

    Args:
        limit: at most this many rows in one run.
        now: the moment (default: the clock).

    Returns:
        How many were stored.
    """
    now = now or timezone.now()
    stale = LearnerStatus.objects.filter(stale_after__lte=now).values_list("learner_id", "course_key")[:limit]
    policies, count = {}, 0
    for learner_id, course_key in stale:
        if course_key not in policies:
            policies[course_key] = policy_row(course_key)
        if policies[course_key] is None:
            continue
        with transaction.atomic():
            refresh_and_announce(policies[course_key], learner_id, course_key, now)
        count += 1
    return count


def reevaluate_course(course_key: CourseRef, progress: Callable[[int, int], object] | None = None,
                      resume: bool = False) -> int:
    """
    Recompute every learner's status in a course (what the Celery task and the command run),
    recording how far it has come for staff (``reevaluation_progress``).

    Args:
        course_key: the course.
        progress: called with ``(done, total)`` learners as the run goes.
        resume: continue a run that stopped (its heartbeat went silent) from where it got to.

    Returns:
        How many learners this run evaluated.

    Raises:
        ValidationError: the course has no competency policy, or not a course key.
    """
    policy = require_policy(course_key)
    start = reevaluation.resume_point(policy.course_key) if resume else 0
    with reevaluation.tracked(policy.course_key, resumed_from=start) as record:
        def report(done: int, total: int) -> None:
            record(done, total)
            if progress is not None:
                progress(done, total)

        return evaluation.reevaluate_course(policy, policy.course_key, report, start=start)


def courses_with_policy() -> list[str]:
    """
    The courses to re-evaluate after an upgrade (``reevaluate_competency --all``).

    Returns:
        The keys of every course with an enabled policy, sorted.
    """
    return [str(key) for key in CompetencyPolicy.objects.filter(enabled=True).order_by("course_key").values_list(
        "course_key", flat=True)]


def reevaluation_progress(viewer: User, course_key: CourseRef) -> dict[str, Any] | None:
    """
    The course's latest re-evaluation, for course staff.

    Args:
        viewer: who asks.
        course_key: the course.

    Returns:
        ``reevaluation.summary``: its state, progress and message; None if the course was never
        re-evaluated.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(viewer, course_key,
                                      _("Only course staff can see the course's re-evaluation."))
    return reevaluation.summary(course_key)


def reevaluate(learner: UserRef, course_key: CourseRef) -> competency.Decision:
    """
    Recompute one learner's stored status (after a policy change, or when it went stale).

    Args:
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The new decision (stored; a change of state is announced).

    Raises:
        ValidationError: no such user, the course has no competency policy, or not a course key.
    """
    policy = require_policy(course_key)
    with transaction.atomic():
        decision, _certification, _alerts = evaluation.refresh_and_announce(
            policy, get_user(learner).pk, policy.course_key, cause="reevaluated")
    return decision


def announce_change(learner_id: int, course_key: CourseRef, state: str, cause: str, previous_state: str | None = None,
                    payload: dict[str, Any] | None = None) -> None:
    """
    Record the consequences of a learner's status change in the current transaction (the outbox,
    ADR 0019); they are delivered once it commits, or by the periodic pass when the broker is down.

    Args:
        learner_id: the learner.
        course_key: the course.
        state: the new state (``competency.State``).
        cause: what changed it (``"approved"``, ``"revoked"``, ``"observation_submitted"``...).
        previous_state: the state before, when known.
        payload: what the consequences need besides (e.g. ``certification_id``).
    """
    # The course's program from the policy the request read (ADR 0025): the outbox need not look it up.
    policy = policy_row(course_key) if may_change_completion(state, previous_state) else None
    outbox.record_changes([(learner_id, course_key, state, previous_state, payload)], cause,
                          programs={str(course_key): policy.program} if policy is not None else None)


def expire_certifications(now: datetime | None = None) -> int:
    """
    Re-evaluate the learners whose certification reached its expiry since their status was stored
    (they become "expired"); a ``certification.expired`` event is sent once for each.

    Args:
        now: the moment (default: the clock).

    Returns:
        How many learners were re-evaluated.
    """
    now = now or timezone.now()
    lapsed = LearnerStatus.objects.filter(state=str(competency.State.CERTIFIED), certification__expires_at__lte=now)
    count = 0
    for status in lapsed.select_related("certification", "certification__policy__instrument_version"):
        certification = status.certification
        with transaction.atomic():  # the change records its expiry event (``refresh_and_announce``)
            refresh_and_announce(certification.policy, status.learner_id, status.course_key, now)
        count += 1
    return count


refresh_and_announce = evaluation.refresh_and_announce
