"""
Loading learners' records into ``competency`` values and keeping ``LearnerStatus`` current.

One loader serves one learner (after each write) and whole courses (re-evaluation in batches of
``BATCH`` learners, a fixed handful of queries per batch, each of a fixed shape: id lists are
padded by ``raw_values.padded_ids``). Re-evaluation compares before it writes: only the status
rows whose result changed are written, in one statement per batch. Internal to ``api``.
"""
import dataclasses
import json
import logging
from collections import defaultdict
from datetime import datetime
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

from ..rules import competency, search_keys
from ..seams.platform import get_platform
from . import coach_flags, outbox
from . import drift_and_agreement as monitoring
from .database_values import json_text, json_value, padded_ids, quote
from .models import (
    Certification,
    CompetencyPolicy,
    Indicator,
    InstrumentVersion,
    LearnerStartDate,
    LearnerStatus,
    Observation,
    SignOff,
)
from .row_locks import locked_or_created
from .write_retry import is_lock_conflict

BATCH = 500

LOG = logging.getLogger(__name__)


def rules_for(policy):
    return competency.Rules(
        requirement_sets=tuple(competency.RequirementSet.from_dict(raw) for raw in policy.requirement_sets),
        require_lead_signoff=policy.require_lead_signoff,
        validity_months=policy.validity_months,
    )


def certification_record(certification):
    if certification is None:
        return None
    return competency.CertificationRecord(
        certification.pk, certification.issued_at, certification.expires_at, certification.revoked_at
    )


def latest_certification(learner_id, course_key):
    return Certification.objects.filter(learner_id=learner_id, course_key=course_key).order_by(
        "-issued_at", "-id"
    ).first()


def _observations(course_keys, learner_ids, with_scores):
    """
    The learners' submitted observations in the courses as records; their summary scores only when
    the rules read them (``with_scores``: decoding a JSON column per observation is not free).
    """
    rows = Observation.objects.filter(
        learner_id__in=padded_ids(learner_ids), course_key__in=course_keys, status=Observation.SUBMITTED,
        co_observation_of__isnull=True,
    ).values_list("learner_id", "id", "observer_id", "instrument_version_id", "practice_date", "met_count",
                  "applicable_count", json_text("critical_missed"), "setting",
                  *((json_text("summary_scores"),) if with_scores else ()))
    grouped = defaultdict(list)
    for learner_id, pk, observer, version, day, met, applicable, missed, setting, *scores in rows:
        grouped[learner_id].append(competency.ObservationRecord(
            pk, observer, version, day, met or 0, applicable or 0, tuple(json_value(missed, ())),
            tuple(sorted(json_value(scores[0], {}).items())) if scores else (), setting))
    return grouped


def _prerequisites(prerequisite_course, learner_ids):
    """``{learner_id: competency.Prerequisite}``: each learner's latest certification in the earlier stage."""
    latest = _latest_certifications(prerequisite_course, learner_ids)
    name = _course_name(prerequisite_course)
    return {learner_id: competency.Prerequisite(prerequisite_course, certification_record(latest.get(learner_id)),
                                                name)
            for learner_id in learner_ids}


def _course_name(course_id):
    """
    A course's display name from the platform ("" when it has none but its id, or cannot say). Only
    words a reason: a platform that fails here (the LMS may rebuild a course overview) must not stop
    an evaluation, so the call runs in its own savepoint and any error leaves the id.
    """
    try:
        with transaction.atomic():
            name = get_platform().course_name(CourseKey.from_string(course_id))
    except Exception:  # pylint: disable=broad-except  (cosmetic: never worth a failed evaluation)
        LOG.warning("The platform could not name course %s; its id is shown.", course_id, exc_info=True)
        return ""
    return "" if name == course_id else name


def program_courses(policy):
    """The courses whose observations count for ``policy``'s course: itself and its program's (one query)."""
    if not policy.program:
        return [policy.course_key]
    others = type(policy).objects.filter(program=policy.program, enabled=True).exclude(
        course_key=policy.course_key).values_list("course_key", flat=True)
    return [policy.course_key, *sorted(others, key=str)]


def evidence_courses_condition(course_key):
    """
    ``program_courses`` as a condition on an observation query (no statement of its own): the
    course, and the courses of its enabled policy's program for a learner of this course (one with
    a status row here) only, so its staff never read another course's records of anyone else.
    """
    own_program = CompetencyPolicy.objects.filter(course_key=course_key, enabled=True).exclude(program="").values(
        "program")
    siblings = CompetencyPolicy.objects.filter(enabled=True, program__in=own_program).values("course_key")
    learner_here = LearnerStatus.objects.filter(learner_id=models.OuterRef("learner_id"), course_key=course_key)
    return Q(course_key=course_key) | (Q(course_key__in=siblings) & Q(models.Exists(learner_here)))


def _signoffs(course_key, learner_ids):
    grouped = defaultdict(list)
    for learner_id, *row in SignOff.objects.filter(
            learner_id__in=padded_ids(learner_ids), course_key=course_key).values_list(
            "learner_id", "id", "action", "level", "actor_id", "created_at", "evidence_digest"):
        grouped[learner_id].append(competency.SignOffRecord(*row))
    return grouped


def _latest_certifications(course_key, learner_ids):
    latest = {}
    for certification in Certification.objects.filter(
            learner_id__in=padded_ids(learner_ids), course_key=course_key).order_by("learner_id", "-issued_at", "-id"):
        latest.setdefault(certification.learner_id, certification)
    return latest


def _time_zone(name):
    """The learner's chosen time zone, or UTC when they chose none (or one this system does not know)."""
    try:
        return ZoneInfo(name) if name else dt_timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return dt_timezone.utc


def _deadlines(course_key, learner_ids, days):
    """
    ``{learner_id: competency.Deadline}``: from the hire date staff uploaded, else the enrollment date
    (as a day in the learner's time zone); learners with neither have no deadline. Three queries.
    """
    platform, padded = get_platform(), padded_ids(learner_ids)  # statements of a fixed shape (ADR 0010)
    zones = {learner_id: _time_zone(name) for learner_id, name in platform.time_zones(padded).items()}
    starts = {learner_id: enrolled.astimezone(zones.get(learner_id, dt_timezone.utc)).date()
              for learner_id, enrolled in platform.enrollment_dates(course_key, padded).items()}
    starts.update(LearnerStartDate.objects.filter(course_key=course_key, learner_id__in=padded)
                  .values_list("learner_id", "start_date"))
    return {learner_id: competency.Deadline(start, days, zones.get(learner_id, dt_timezone.utc))
            for learner_id, start in starts.items()}


class CourseContext:
    """What every learner's evaluation in a course shares: rules, calibration, indicator labels."""

    def __init__(self, policy, course_key):
        self.policy, self.course_key, self.rules = policy, course_key, rules_for(policy)
        self.evidence_courses = program_courses(policy)
        self.reads_scores = any(condition.measure == competency.SUMMARY
                                for requirement in self.rules.sets for condition in requirement.conditions)
        self.calibrated = (monitoring.calibrated_observers(course_key, policy.calibration_threshold)
                           if policy.require_calibration else None)
        self._labels = None

    def labels(self):
        """
        ``(indicator labels, summary score labels)`` by key, of the policy's rubric versions: each
        ``(label, {language: translated label})``, the instrument's translations (issue 26).
        """
        if self._labels is None:
            versions = sorted({requirement.instrument_version_id for requirement in self.rules.sets})
            indicators = {key: (label, _label_translations(translations))
                          for key, label, translations in Indicator.objects.filter(version_id__in=versions).values_list(
                              "key", "label", "translations")}
            summaries = {summary["key"]: (summary.get("label") or summary["key"],
                                          _label_translations(summary.get("translations")))
                         for declared in InstrumentVersion.objects.filter(pk__in=versions).values_list(
                             "summaries", flat=True) for summary in declared or ()} if self.reads_scores else {}
            self._labels = (indicators, summaries)
        return self._labels

    def with_labels(self, decision):
        """
        Add labels to reasons that name indicator keys or summary scores by key (people read labels),
        with the instrument's translations of them (the sentence is worded in the reader's language).
        """
        if not any("indicators" in reason.params or "conditions" in reason.params for reason in decision.reasons):
            return decision
        indicators, summaries = self.labels()

        def labelled(reason):
            params = dict(reason.params)
            if "indicators" in params:
                named = [indicators.get(key, (key, {})) for key in params["indicators"]]
                params["labels"] = [label for label, _translated in named]
                languages = sorted({language for _label, translated in named for language in translated})
                if languages:
                    params["label_translations"] = {
                        language: [translated.get(language) or label for label, translated in named]
                        for language in languages}
            if "conditions" in params:  # a condition's key names a summary score
                params["conditions"] = [_labelled_condition(c, summaries) if c.get("key") else c
                                        for c in params["conditions"]]
            if "latest_short" in params:  # the conditions the latest session failed, named the same way
                latest = params["latest_short"]
                params["latest_short"] = {**latest, "failed": [_labelled_condition(c, summaries) if c.get("key")
                                                               else c for c in latest["failed"]]}
            return competency.Reason(reason.code, params)

        return dataclasses.replace(decision, reasons=tuple(labelled(r) for r in decision.reasons))


def _label_translations(translations):
    """``{language: label}`` of an instrument item's ``translations`` (those that translate its label)."""
    return {language: texts["label"] for language, texts in (translations or {}).items()
            if isinstance(texts, dict) and texts.get("label")}


def _labelled_condition(condition, summaries):
    """A condition naming a summary score, with the score's label and its translations."""
    label, translated = summaries.get(condition["key"], (condition["key"], {}))
    return {**condition, "label": label, **({"label_translations": translated} if translated else {})}


@dataclasses.dataclass(frozen=True)
class Records:
    """What one learner's decision is made from, loaded once."""

    observations: tuple
    signoffs: tuple
    certification: Certification | None  # the latest, as a model row (the status row points at it)
    deadline: competency.Deadline | None = None  # when the policy sets one and the start is known
    prerequisite: competency.Prerequisite | None = None  # when the course is a later stage

    def with_signoff(self, signoff, certification=None):
        """These records plus a sign-off just written (and the certification it issued or revoked)."""
        record = competency.SignOffRecord(signoff.pk, signoff.action, signoff.level, signoff.actor_id,
                                          signoff.created_at, signoff.evidence_digest)
        return Records(self.observations, self.signoffs + (record,),
                       certification if certification is not None else self.certification, self.deadline,
                       self.prerequisite)


def load_records(context, learner_ids):
    """
    ``{learner_id: Records}`` for the learners, in three queries (three more with a deadline, one
    more with a prerequisite).
    """
    observations = _observations(context.evidence_courses, learner_ids, context.reads_scores)
    signoffs = _signoffs(context.course_key, learner_ids)
    certifications = _latest_certifications(context.course_key, learner_ids)
    deadlines = (_deadlines(context.course_key, learner_ids, context.policy.deadline_days)
                 if context.policy.deadline_days else {})
    prerequisites = (_prerequisites(context.policy.prerequisite_course, learner_ids)
                     if context.policy.prerequisite_course else {})
    return {learner_id: Records(tuple(observations[learner_id]), tuple(signoffs[learner_id]),
                                certifications.get(learner_id), deadlines.get(learner_id),
                                prerequisites.get(learner_id))
            for learner_id in learner_ids}


def decide_records(context, records, now):
    """The decision ``competency`` makes from ``records`` at ``now`` (reasons carry indicator labels)."""
    decision = competency.decide(context.rules, records.observations, records.signoffs,
                                 certification_record(records.certification), now, context.calibrated,
                                 records.deadline, records.prerequisite)
    return context.with_labels(decision)


def decide_many(context, learner_ids, now):
    """``{learner_id: (decision, certification)}`` for the learners, in three queries."""
    return {learner_id: (decide_records(context, records, now), records.certification)
            for learner_id, records in load_records(context, learner_ids).items()}


def evaluate(policy, learner_id, course_key, now=None):
    """The full decision from the records (a few queries, independent of history length)."""
    return decide_many(CourseContext(policy, course_key), [learner_id], now or timezone.now())[learner_id]


def lock_status(learner_id, course_key):
    """The learner's status row, created if missing and locked for this transaction (ADR 0006: the first lock)."""
    return locked_or_created(LearnerStatus, defaults={"evaluated_at": timezone.now()}, learner_id=learner_id,
                             course_key=course_key)


STATUS_FIELDS = ["state", "qualifying_count", "required_count", "last_practice_date", "last_percent", "reasons",
                 "certification", "certified_until", "evaluated_at", "stale_after", "due_date", "overdue"]


def _fill_status(status, decision, certification, now):
    latest = decision.last_observation
    status.state = str(decision.state)
    status.qualifying_count = decision.counted
    status.required_count = decision.required_count
    status.last_practice_date = latest.practice_date if latest else None
    status.last_percent = latest.percent if latest else None
    status.reasons = [reason.as_dict() for reason in decision.reasons]
    status.certification = certification if decision.certified else None
    status.certified_until = status.certification.expires_at if status.certification else None
    status.evaluated_at = now
    status.stale_after = decision.stale_after
    status.due_date, status.overdue = decision.due_date, decision.overdue
    return status


def decide_again(policy, status, now):
    """``status`` brought up to ``now`` in memory, not saved (a read that finds it stale writes nothing)."""
    decision, certification = evaluate(policy, status.learner_id, status.course_key, now)
    return _fill_status(status, decision, certification, now)


def store_status(status, decision, certification, now=None):
    """Write ``decision`` into ``status`` (a locked row)."""
    _fill_status(status, decision, certification, now or timezone.now()).save()
    return status


def refresh(policy, learner_id, course_key, now=None):
    """
    Re-evaluate one learner, store the result and bring their drift alerts up to date.

    Returns ``(decision, certification, new_alerts)``.
    """
    return refresh_from(policy, learner_id, course_key, now)[:3]


@dataclasses.dataclass(frozen=True)
class StoredBefore:
    """What a status row held before a refresh: its state and certification."""
    state: str
    certification_id: int | None


def refresh_from(policy, learner_id, course_key, now=None):
    """``refresh``, also returning what the row held before (``StoredBefore``), under the same lock."""
    status = lock_status(learner_id, course_key)
    before = StoredBefore(status.state, status.certification_id)
    decision, certification = evaluate(policy, learner_id, course_key, now)
    store_status(status, decision, certification, now)
    new_alerts = monitoring.refresh_alerts(policy, [learner_id], course_key, {learner_id: decision.certified})
    return decision, certification, new_alerts, before


def refresh_and_announce(policy, learner_id, course_key, now=None, cause="time_passed"):
    """
    ``refresh`` that announces a change of state (inside the caller's transaction, ADR 0019): what
    time alone changes (an expiry, a window left), an enrollment or an assignment has its
    consequences too, once, whichever task or request stores it first (the status row's lock orders
    them). A new row in the first state is no change.
    """
    decision, certification, alerts, before = refresh_from(policy, learner_id, course_key, now)
    if str(decision.state) != before.state:
        outbox.record_changes([(learner_id, course_key, decision.state, before.state,
                                {"certification_id": before.certification_id})], cause)
    return decision, certification, alerts


def course_learner_ids(course_key):
    """
    Every learner enrolled in the course, or with a status row or an observation in it. Each source
    answers one row per learner (DISTINCT for the observations: MySQL's driver holds a whole result
    in memory, and a course's observations are ten times its learners), so memory follows the
    learners, not the evidence.
    """
    ids = set(LearnerStatus.objects.filter(course_key=course_key).order_by().values_list("learner_id", flat=True))
    ids.update(Observation.objects.filter(course_key=course_key).order_by().values_list("learner_id", flat=True)
               .distinct())
    ids.update(get_platform().enrolled_learner_ids(course_key))
    return sorted(ids)


#: ``(attribute, is JSON)`` of the stored result fields (every one but ``evaluated_at``).
_RESULT_FIELDS = tuple((LearnerStatus._meta.get_field(name).attname,
                        isinstance(LearnerStatus._meta.get_field(name), models.JSONField))
                       for name in STATUS_FIELDS if name != "evaluated_at")


def _result(status):
    """A status row's result: every stored field but ``evaluated_at`` (``_fill_status`` assigns new
    values, never changes one in place, so a result taken before it stays as it was)."""
    return tuple(getattr(status, attname) for attname, _is_json in _RESULT_FIELDS)


def _same_result(before, after):
    """
    Whether two results store the same: aware datetimes by instant (Python calls two zones' equal
    instants unequal when one falls on a clock change), JSON by value (MySQL's JSON type reorders
    keys: Python's equality ignores their order; a value Python finds unequal is compared as the
    JSON text it would store, e.g. a tuple against the list read back).
    """
    return all(_same(old, new, is_json) for old, new, (_attname, is_json) in zip(before, after, _RESULT_FIELDS))


def _same(old, new, is_json):
    if is_json:
        return old == new or (json.dumps(old, sort_keys=True, cls=DjangoJSONEncoder)
                              == json.dumps(new, sort_keys=True, cls=DjangoJSONEncoder))
    if isinstance(old, datetime) and isinstance(new, datetime) and old.tzinfo is not None and new.tzinfo is not None:
        return old.astimezone(dt_timezone.utc) == new.astimezone(dt_timezone.utc)
    return old == new


def _write_changed(statuses):
    """
    Write the result fields of existing status rows (already locked), in one statement text for any
    number of rows: on MySQL/MariaDB a multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` (its driver
    sends ``executemany`` of an INSERT as one statement; every row exists, so each one updates),
    elsewhere an ``UPDATE ... WHERE id`` run for every row (``executemany``; SQLite prepares it once).
    """
    if not statuses:
        return
    table = quote(LearnerStatus._meta.db_table)
    changed = [LearnerStatus._meta.get_field(name) for name in STATUS_FIELDS]
    if connection.vendor == "mysql":
        fields = LearnerStatus._meta.concrete_fields
        sql = (f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))}) " + connection.ops.on_conflict_suffix_sql(
                   fields, OnConflict.UPDATE, [field.column for field in changed], []))
    else:
        fields = [*changed, LearnerStatus._meta.pk]
        sql = (f"UPDATE {table} SET {', '.join(f'{quote(field.column)} = %s' for field in changed)} "
               f"WHERE {quote(LearnerStatus._meta.pk.column)} = %s")
    rows = [[field.get_db_prep_save(getattr(status, field.attname), connection) for field in fields]
            for status in statuses]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _usernames(user_ids):
    """``{id: username}`` of the users: the sort key of status rows about to be created."""
    if not user_ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=padded_ids(user_ids)).values_list("pk", "username"))


#: Tries of one re-evaluation batch that met a concurrent writer (a row created meanwhile, a lost lock).
BATCH_ATTEMPTS = 4


def _reevaluate_batch(context, policy, course_key, batch, now):
    """Decide ``batch`` (learner ids) again and write what changed; rows missing are created."""
    # The course key is the batch's: not parsed again from every row (a CourseKey per row).
    statuses = {s.learner_id: s for s in LearnerStatus.objects.select_for_update().filter(
        course_key=course_key, learner_id__in=padded_ids(batch)).defer("course_key")}
    for status in statuses.values():
        status.course_key = course_key  # loaded: a deferred field set before it is read is never fetched
    records = load_records(context, batch)
    decisions = {learner_id: (decide_records(context, records[learner_id], now),
                              records[learner_id].certification) for learner_id in batch}
    changed, announced = [], []
    for status in statuses.values():
        # The certification the row held: an expiry's event names it (the new result may hold none).
        before, state_before, certification_before = _result(status), status.state, status.certification_id
        _fill_status(status, *decisions[status.learner_id], now)
        if not _same_result(before, _result(status)):
            changed.append(status)
        if status.state != state_before:
            announced.append((status.learner_id, course_key, status.state, state_before,
                              {"certification_id": certification_before}))
    _write_changed(changed)
    missing = [learner_id for learner_id in batch if learner_id not in statuses]
    usernames = _usernames(missing)
    names = get_platform().full_names(padded_ids(missing)) if missing else {}
    # A writer may create one of these rows after the read above (a first observation, an
    # enrollment): its row, decided under its own lock from the same records, stands.
    created = [_fill_status(LearnerStatus(course_key=course_key, learner_id=learner_id,
                                          learner_username=usernames.get(learner_id, ""),
                                          username_key=search_keys.fold(usernames.get(learner_id)),
                                          name_key=search_keys.fold(names.get(learner_id))),
                            *decisions[learner_id], now) for learner_id in missing]
    LearnerStatus.objects.bulk_create(created, batch_size=BATCH, ignore_conflicts=True)
    # A row made here in a later state is a change (program evidence: ready at once). A row a writer
    # made first was skipped above, and announced by that writer: only the rows made here (stamped
    # with this batch's time) are announced.
    later = {status.learner_id: status for status in created if status.state != competency.State.NOT_STARTED}
    if later:
        made_here = LearnerStatus.objects.filter(course_key=course_key, learner_id__in=list(later),
                                                 evaluated_at=now).values_list("learner_id", flat=True)
        announced.extend((learner_id, course_key, later[learner_id].state, competency.State.NOT_STARTED, {})
                         for learner_id in made_here)
    # A course's re-evaluation may change thousands of states: their consequences are delivered by
    # the periodic pass, not inside the batch's commit (the re-evaluation keeps its pace).
    outbox.record_changes(announced, "reevaluated", now=now, deliver_after_commit=False)
    monitoring.refresh_alerts(policy, batch, course_key,
                              {learner_id: decisions[learner_id][0].certified for learner_id in batch},
                              loaded={learner_id: records[learner_id].observations for learner_id in batch})


def reevaluate_course(policy, course_key, progress=None, start=0):
    """
    Re-evaluate every learner of the course (from the ``start``-th, in id order, to resume a run
    that stopped), ``BATCH`` learners per transaction; returns the count.
    Only rows whose result changed are written (with ``evaluated_at``); missing rows are created.
    Idempotent: running it twice writes nothing the second time.
    """
    context, learner_ids = CourseContext(policy, course_key), course_learner_ids(course_key)
    first = min(start, len(learner_ids))
    if progress is not None:
        progress(first, len(learner_ids))
    for start in range(first, len(learner_ids), BATCH):  # pylint: disable=redefined-argument-from-local
        batch = learner_ids[start:start + BATCH]
        for attempt in range(1, BATCH_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    _reevaluate_batch(context, policy, course_key, batch, timezone.now())
                break
            except (IntegrityError, OperationalError) as exc:
                # The batch lost a lock to a writer (or met a constraint): it runs again, locking
                # whatever rows exist by then.
                if attempt == BATCH_ATTEMPTS or not (isinstance(exc, IntegrityError) or is_lock_conflict(exc)):
                    raise
        if progress is not None:
            progress(min(start + BATCH, len(learner_ids)), len(learner_ids))
    coach_flags.repair(course_key)  # a row made after a racing assignment, or kept from before the flag
    return len(learner_ids) - first
