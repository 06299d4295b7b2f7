"""Fidelity monitoring for coaches and leads: drift alerts, rater agreement, the leader view, exports."""
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, exports, leader_figures
from ..records import drift_and_agreement as monitoring
from ..records.models import CoachAssignment, CompetencyPolicy, DriftAlert, Indicator, LearnerStatus
from ..rules import coaching_loop, data, privacy
from ..rules.errors import NotFound, ValidationError
from ..rules.validation import as_id, clean_text
from ..wording import alert_sentences
from . import self_assessments
from . import to_data as values
from .coaching_plans import current_plan, save_plan
from .courses import policy_row, require_policy
from .inputs import MAX_REASON_CHARS, CourseRef, User, UserRef, get_user, parse_course_key
from .names import full_names
from .plan_sessions import latest_session
from .programs import PROGRAM_EXPORT, program_export_lines
from .roles import can_view_learner, is_course_staff, require, require_coach, require_course_staff
from .rubrics import version_indicators

log = logging.getLogger(__name__)


def _drift_alerts(viewer: User, course_key: CourseRef, learner: UserRef | None = None,
                  include_resolved: bool = False) -> QuerySet:
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
        require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
        if viewer.pk == learner.pk:  # alerts raised since a session the learner has yet to rate would tell its ratings
            alerts = alerts.exclude(self_assessments.awaiting_before("created_at", timezone.now()))
        return alerts.filter(learner=learner)
    if is_course_staff(viewer, course_key):
        return alerts
    require(getattr(viewer, "is_authenticated", False), _("Sign in first."))
    return alerts.filter(learner_id__in=CoachAssignment.objects.filter(
        course_key=course_key, coach_id=viewer.pk).values("learner_id"))


def drift_alert_rows(viewer: User, course_key: CourseRef, learner: UserRef | None = None,
                     limit: int = 500) -> list[dict[str, Any]]:
    """
    The open drift alerts ``viewer`` may see: a learner's own, a coach's learners', or the whole
    course's for staff. Three or four queries, whatever the number of alerts.

    Args:
        viewer: who asks (a learner, a coach, course staff).
        course_key: the course.
        learner: only this learner's alerts (the learner, or their id).
        limit: at most this many alerts.

    Returns:
        Each ``{"alert": data.DriftAlertData, "message"}`` with its developmental message, newest
        first.

    Raises:
        PermissionDenied: ``viewer`` may not see ``learner``'s records, or is not signed in.
        ValidationError: no such learner, or not a course key.
    """
    alerts = list(_drift_alerts(viewer, course_key, learner=learner)[:limit])
    policy = policy_row(course_key)
    # indicator names in the reader's language, as the rubric words them
    labels = {indicator.key: values.indicator_data(indicator).label for indicator in version_indicators(
        policy.instrument_version_id)} if policy and alerts else {}
    return [{"alert": values.alert_data(alert),
             "message": alert_sentences.alert_message(alert.kind, alert.details, labels.get(alert.indicator_key,
                                                                                  alert.indicator_key))}
            for alert in alerts]


def acknowledge_alert(actor: User, alert_id: int | str, plan_note: str,
                      privacy_confirmed: bool = False) -> data.DriftAlertData:
    """
    A coach (or staff) acknowledges an alert with a coaching plan note. One concept of a plan (issue
    31): the note becomes a focus of the learner's coaching plan after their latest session, on the
    alert's indicator (or the session's first suggested one), when that session's instrument has it
    and the plan has room; the learner then reads it under *My focus*.

    Args:
        actor: a coach of the alert's learner, or course staff.
        alert_id: the alert.
        plan_note: the coaching plan (the learner reads it).
        privacy_confirmed: the author confirms that text which looks client-identifying is not.

    Returns:
        The acknowledged alert.

    Raises:
        PermissionDenied: ``actor`` may not coach the alert's learner.
        ValidationError: no such alert, no plan note or one too long, or text that looks
            client-identifying and is not confirmed.
    """
    alert = DriftAlert.objects.select_related("learner").filter(pk=alert_id).first() if as_id(alert_id) else None
    if alert is None:
        raise ValidationError({"alert": [_("No such alert.")]})
    require_coach(actor, alert.learner_id, alert.course_key)
    note = clean_text(plan_note, "plan_note", MAX_REASON_CHARS, required=True)
    privacy.require_confirmed({"plan_note": note}, privacy_confirmed)
    with transaction.atomic():
        alert.acknowledged_at, alert.acknowledged_by, alert.plan_note = timezone.now(), actor, note
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "plan_note"])
        audit.record("drift_alert.acknowledged", alert, actor=actor, subject_user_id=alert.learner_id,
                     course_key=alert.course_key)
        _plan_from_alert(actor, alert, note)
    return values.alert_data(alert)


def _plan_from_alert(actor: User, alert: DriftAlert, note: str) -> None:
    """The alert's plan note as a focus of the plan after the learner's latest session (ADR 0027)."""
    session, suggested = latest_session(actor, alert.learner_id, alert.course_key)
    if session is None:
        return  # nothing observed yet: the note stays on the alert
    rubric = {indicator.key for indicator in version_indicators(session.instrument_version_id)}
    # The alert's indicator when the latest session's instrument has it; the session's first suggestion
    # only for an alert on no indicator (a score below the band); never another instrument's.
    key = alert.indicator_key if alert.indicator_key else next(iter(suggested), "")
    if key not in rubric:
        return
    plan = current_plan(actor, alert.learner_id, alert.course_key)
    focus = [{"indicator": f.indicator_key, "step": f.step} for f in plan.focus] if (
        plan is not None and plan.observation_id == session.id) else []
    if key in {item["indicator"] for item in focus} or len(focus) >= coaching_loop.MAX_FOCUS or not all(
            item["step"] for item in focus):  # a step blanked at a retirement: the plan is left as it is
        return
    try:
        with transaction.atomic():  # the plan never stops the acknowledgement
            save_plan(actor, session.id, focus + [{"indicator": key, "step": note}], privacy_confirmed=True)
    except ValidationError:
        log.warning("drift alert %s: its note was not added to the plan after session %s", alert.pk, session.id)


def reliability_report(viewer: User, course_key: CourseRef) -> dict[str, Any]:
    """
    Rater agreement per pair and coach, leniency and calibration (course staff only).

    Args:
        viewer: who asks.
        course_key: the course.

    Returns:
        ``drift_and_agreement.reliability_report``: ``pairs``, ``coaches``, ``calibration`` and
        ``indicators``.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = require_course_staff(viewer, course_key, _("Only course staff can see rater agreement."))
    return monitoring.reliability_report(course_key)


def _leader_course(viewer: User, course_key: CourseRef) -> tuple[CourseKey, CompetencyPolicy]:
    """The course key and its policy row, for course staff (certification leads) only."""
    course_key = require_course_staff(viewer, course_key, _("Only course staff can see the leader view."))
    return course_key, require_policy(course_key)


def leader_view(viewer: User, course_key: CourseRef) -> dict[str, Any]:
    """
    The course's aggregates with small cells suppressed (course staff and certification leads),
    computed now (and kept for the page), worded in the reader's language.

    Args:
        viewer: who asks.
        course_key: the course.

    Returns:
        The figures (``_worded``), the cadence a list of rows.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: the course has no competency policy, or not a course key.
    """
    course_key, policy = _leader_course(viewer, course_key)
    figures = _worded(leader_figures.compute(course_key, policy)["figures"], policy, course_key)
    return {**figures, "cadence": list(figures["cadence"])}


def kept_leader_view(viewer: User, course_key: CourseRef, queue: Callable[[str], object]) -> dict[str, Any]:
    """
    The leader view as last computed (``leader_figures``), for the page. Figures older than
    ``leader_figures.FRESH_FOR``, or none: the first reader to claim the computation hands the
    course id to ``queue``.

    Args:
        viewer: who asks.
        course_key: the course.
        queue: takes the course id to compute the figures in the background (the task's
            ``delay``: where tasks run eagerly, the figures are read again after it).

    Returns:
        ``figures`` (worded as ``leader_view``'s, the cadence a ``CadenceRows``; None until a
        computation has kept some), ``computed_at``, ``refreshing`` (a computation is under way),
        ``failed`` (this reader's could not be queued; logged) and ``fresh_minutes``.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: the course has no competency policy, or not a course key.
    """
    course_key, policy = _leader_course(viewer, course_key)
    version_id = policy.instrument_version_id
    entry, changed = leader_figures.kept(course_key, version_id), leader_figures.changed_at(course_key)
    refreshing, failed = not leader_figures.is_fresh(entry, timezone.now(), changed), False
    if refreshing and leader_figures.claim_refresh(course_key, version_id):
        failed = not _queue(queue, course_key, version_id)
        entry = leader_figures.kept(course_key, version_id)
        refreshing = not failed and not leader_figures.is_fresh(entry, timezone.now(), changed)
    return {"figures": _worded(entry["figures"], policy, course_key) if entry else None,
            "computed_at": entry["computed_at"] if entry else None, "refreshing": refreshing, "failed": failed,
            "fresh_minutes": int(leader_figures.FRESH_FOR.total_seconds() // 60)}


def leader_figures_changed(course_key: CourseRef) -> None:
    """
    A learner's status in the course changed (a consequence, ADR 0019, delivered after the
    change committed): the leader view's kept figures are computed again at the next read.

    Args:
        course_key: the course.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    leader_figures.mark_changed(parse_course_key(course_key))


def request_leader_refresh(viewer: User, course_key: CourseRef, queue: Callable[[str], object]) -> str:
    """
    Compute the leader view's figures again now (course staff).

    Args:
        viewer: who asks.
        course_key: the course.
        queue: takes the course id to compute the figures in the background.

    Returns:
        ``"queued"``, ``"running"`` (a computation is under way already) or ``"failed"`` (it could
        not be queued).

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        ValidationError: the course has no competency policy, or not a course key.
    """
    course_key, policy = _leader_course(viewer, course_key)
    if not leader_figures.claim_refresh(course_key, policy.instrument_version_id):
        return "running"
    return "queued" if _queue(queue, course_key, policy.instrument_version_id) else "failed"


def _queue(queue: Callable[[str], object], course_key: CourseKey, version_id: int) -> bool:
    """Hand a claimed computation to ``queue``; a broker that is down (or an eager task that failed) frees the claim."""
    try:
        queue(str(course_key))
        return True
    except Exception:  # pylint: disable=broad-except
        log.exception("The leader figures of %s could not be computed in the background", course_key)
        leader_figures.release_claim(course_key, version_id)
        return False


def refresh_leader_figures(course_key: CourseRef) -> bool:
    """
    The background task's computation of a course's leader figures (claimed).

    Args:
        course_key: the course.

    Returns:
        True when computed; False when the course has no enabled policy.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    policy = policy_row(course_key)
    if policy is None:
        return False
    leader_figures.refresh(course_key, policy)
    return True


def _worded(figures: dict[str, Any], policy: CompetencyPolicy, course_key: CourseKey) -> dict[str, Any]:
    """Kept figures with what a reader sees: state labels, indicators and domains in the reader's
    language, coaches by username (``CadenceRows``: rows and names read per slice). One query."""
    states = dict(LearnerStatus.STATE_CHOICES)
    sources = list(Indicator.objects.filter(version_id=policy.instrument_version_id))
    indicators = {source.pk: values.indicator_data(source) for source in sources}
    domains = {source.domain: indicators[source.pk].domain for source in sources}  # kept by their own text
    rates = figures["indicators"]
    return {
        **figures,
        "pipeline": [{**row, "label": states.get(row["state"], row["state"])} for row in figures["pipeline"]],
        "indicators": {
            "indicators": [{**row, "indicator": indicators[row["indicator_id"]]} for row in rates["indicators"]
                           if row["indicator_id"] in indicators],
            "domains": [{**row, "domain": domains.get(row["domain"], row["domain"])} for row in rates["domains"]],
        },
        "cadence": CadenceRows(figures["cadence"], course_key, policy.instrument_version_id),
    }


class CadenceRows:
    """
    The coaching cadence rows (kept in coach username order), for a paginator: a course of 100,000
    learners has 1,000 coaches, so the page words one slice at a time (usernames and full names
    read for the slice only).
    """

    def __init__(self, rows: Sequence[dict[str, Any]] | dict[str, Any], course_key: CourseKey,
                 version_id: int) -> None:
        """
        Args:
            rows: the cadence rows of a computation (each with its ``coach_id``), or the kept
                figures' descriptor of them (``leader_figures.cadence_rows`` reads a slice).
            course_key: the course.
            version_id: the figures' instrument version.
        """
        self.rows, self.course_key, self.version_id = rows, course_key, version_id

    def count(self) -> int:
        """
        Returns:
            How many coaches have a row.
        """
        return self.rows["count"] if isinstance(self.rows, dict) else len(self.rows)

    def __len__(self) -> int:
        return self.count()

    def _slice(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(self.rows, dict):
            return list(self.rows[index])
        start, stop, step = index.indices(self.count())
        rows = leader_figures.cadence_rows(self.course_key, self.version_id, self.rows, start, stop)
        return rows[::step]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            rows = self._slice(index)
        else:
            position = index + self.count() if index < 0 else index
            rows = self._slice(slice(position, position + 1))
            if not rows:
                raise IndexError(index)
        ids = [row["coach_id"] for row in rows]
        usernames = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}
        names = full_names(ids)
        worded = [{**row, "username": usernames.get(row["coach_id"], ""), "full_name": names.get(row["coach_id"], "")}
                  for row in rows]
        return worded if isinstance(index, slice) else worded[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:  # every row (scripts, tests): one slice
        return iter(self[:])


def export_lines(viewer: User, course_key: CourseRef, kind: str) -> Iterator[str]:
    """
    A streamed CSV export (course staff only); the export is audited.

    Args:
        viewer: who asks.
        course_key: the course.
        kind: a key of ``exports.EXPORTS``, or ``PROGRAM_EXPORT`` (``programs.program_export_lines``).

    Returns:
        The CSV lines, read a chunk of rows at a time, as ``viewer`` may see them.

    Raises:
        PermissionDenied: ``viewer`` is not course staff.
        NotFound: an unknown kind.
        ValidationError: ``course_key`` is not a course key.
    """

    if kind == PROGRAM_EXPORT:  # its columns are the program's courses the exporter has rights in (ADR 0025)
        return program_export_lines(viewer, course_key)
    course_key = require_course_staff(viewer, course_key, _("Only course staff can export records."))
    if kind not in exports.EXPORTS:
        raise NotFound(_("No such export."))
    with transaction.atomic():
        audit.record("export." + kind, None, actor=viewer, course_key=course_key)
    return exports.rows(kind, course_key, viewer_id=viewer.pk)
