"""
A course's re-evaluation compares before it writes: only changed status rows are written (one
statement per batch), every query of a batch has the same text whatever the batch's size, drift
reads only the ratings its rules use, and the result is the one a full rewrite gives.
"""
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import connection

from miiwrap_fidelity import api
from miiwrap_fidelity.records import drift_and_agreement as monitoring
from miiwrap_fidelity.records import evaluation
from miiwrap_fidelity.records.database_values import padded_ids
from miiwrap_fidelity.records.models import Consequence, DriftAlert, LearnerStatus
from miiwrap_fidelity.rules import competency, drift

from conftest import assign_coach, make_user, one_set

pytestmark = pytest.mark.django_db
RESULT_FIELDS = [name for name in evaluation.STATUS_FIELDS if name != "evaluated_at"]
TABLE = LearnerStatus._meta.db_table


@pytest.fixture
def course(policy, lead, coach, coach2, course_key, observe):
    """Six learners with different histories: none, in progress, ready, certified, drifting."""
    people = [make_user(f"w{i}") for i in range(6)]
    for person in people:
        assign_coach(lead, course_key, coach, person)
        assign_coach(lead, course_key, coach2, person)
    observe(coach, people[1], days_ago=30)
    observe(coach, people[1], days_ago=20, miss=("eng-strengths",))
    for person in people[2:5]:
        for days in (60, 40, 20):
            observe(coach, person, days_ago=days)
    api.sign_off(coach, people[3], course_key)
    for days, miss in ((50, ("eng-strengths",)), (30, ("eng-strengths",)), (10, ("eng-strengths", "eng-voice-choice"))):
        observe(coach2, people[5], days_ago=days, miss=miss)
    return people


def rows(course_key):
    """The stored result of every status row, and the open drift alerts."""
    return (sorted(LearnerStatus.objects.filter(course_key=course_key).values_list("learner_id", *RESULT_FIELDS)),
            sorted(DriftAlert.objects.filter(course_key=course_key, resolved_at__isnull=True).values_list(
                "learner_id", "kind", "indicator_key", "details")))


class Statements:
    """Every statement as the database driver receives it (placeholders, not values), per batch."""

    def __init__(self):
        self.batches, self.current, self.params = [], [], []

    def __call__(self, execute, sql, params, many, context):
        if not sql.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):  # (numbered)
            self.current.append((sql, many, len(params) if many else None))
            self.params.append(params)
        return execute(sql, params, many, context)

    def progress(self, done, total):
        self.batches.append(self.current)
        self.current = []


def run(policy, course_key):
    statements = Statements()
    with connection.execute_wrapper(statements):
        evaluation.reevaluate_course(policy, course_key, statements.progress)
    return statements.batches[1:]  # the first report comes before the first batch


def shapes(batch):
    """The batch's statement texts, but for the labels of indicators and summary scores (read once
    per run, when first needed) and the consequences of the states that changed (one insert of as
    many rows as they have, ``consequence_inserts``)."""
    return [sql for sql, _many, _count in batch
            if not ('"label" AS' in sql or "`label` AS" in sql or '"summaries" AS' in sql or "`summaries` AS" in sql
                    or CONSEQUENCES in sql)]


CONSEQUENCES = "miiwrap_fidelity_consequence"


def consequence_inserts(batch):
    return [sql for sql, _many, _count in batch if sql.startswith("INSERT") and CONSEQUENCES in sql]


def status_updates(batch):
    """The statements that wrote status rows: ``(run with executemany, rows)``."""
    writes = (f'UPDATE "{TABLE}"', f"INSERT INTO `{TABLE}`")  # MySQL/MariaDB: INSERT ... ON DUPLICATE KEY UPDATE
    return [(many, count) for sql, many, count in batch if sql.startswith(writes)]


def test_a_run_that_changes_nothing_writes_nothing_and_batches_share_their_statements(
        course, policy, course_key, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 4)  # batches of 4 and 2 learners
    run(policy, course_key)
    before = rows(course_key)
    first, second = run(policy, course_key)
    assert rows(course_key) == before
    assert status_updates(first) == status_updates(second) == []
    assert not [sql for sql, _many, _count in first + second if sql.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert shapes(first) == shapes(second), "the same statements, word for word, for 4 learners and for 2"
    assert len(shapes(first)) == 7, \
        "per batch: status rows, 3 of records, 3 of drift (indicators, the latest ratings, open alerts)"


def test_only_changed_rows_are_written_in_one_statement_per_batch(course, policy, course_key, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 4)
    run(policy, course_key)
    expected = rows(course_key)
    touched = [course[0], course[2], course[5]]  # two in the first batch, one in the second
    LearnerStatus.objects.filter(learner__in=touched).update(state="revoked", qualifying_count=99, reasons=[])
    unchanged_at = dict(LearnerStatus.objects.exclude(learner__in=touched).values_list("learner_id", "evaluated_at"))
    first, second = run(policy, course_key)
    assert rows(course_key) == expected
    assert status_updates(first) == [(True, 2)] and status_updates(second) == [(True, 1)]
    assert shapes(first) == shapes(second)
    # Each learner whose state changed has its consequences, recorded in its batch (issue 23).
    assert len(consequence_inserts(first)) == len(consequence_inserts(second)) == 1
    announced = Consequence.objects.filter(kind=competency.ANNOUNCE, payload__cause="reevaluated")
    assert sorted(announced.values_list("learner_id", flat=True)) == sorted(user.pk for user in touched)
    assert dict(LearnerStatus.objects.exclude(learner__in=touched).values_list(
        "learner_id", "evaluated_at")) == unchanged_at, "rows that did not change are not written"


def test_after_a_policy_change_the_result_is_the_full_rewrites(course, policy, lead, course_key, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 4)
    assert LearnerStatus.objects.get(learner=course[1]).state == "in_progress"
    api.save_policy(lead, course_key, requirement_sets=one_set(policy.instrument_version_id, min_observations=2,
                                                               min_percent=90), drift_window_observations=2)
    policy.refresh_from_db()
    missing = course[4]
    LearnerStatus.objects.filter(learner=missing).delete()  # a learner without a row gets one
    assert evaluation.reevaluate_course(policy, course_key) == len(course)
    incremental = rows(course_key)
    for person in course:  # the reference: each learner's row rewritten whole, as every write does
        evaluation.refresh(policy, person.pk, course_key)
    assert rows(course_key) == incremental
    states = {learner_id: state for learner_id, state, *_rest in incremental[0]}
    assert states[course[1].pk] == "ready" and states[course[3].pk] == "certified", "the runs did decide"


def test_drift_reads_the_ratings_of_each_learners_latest_two_observations_only(course, policy, course_key):
    ids = [person.pk for person in course]
    statements = Statements()
    with connection.execute_wrapper(statements):
        trimmed, _ = monitoring.rated_observations(ids, course_key, policy.instrument_version_id,
                                                   outcomes_of_latest=drift.OUTCOMES_USED)
    full, indicators = monitoring.rated_observations(ids, course_key, policy.instrument_version_id)
    ratings = [sql for sql, _many, _count in statements.current if "indicatorrating" in sql]
    assert len(ratings) == 1 and ratings[0].count("%s") == len(padded_ids(range(2 * 5))), \
        "ids of the latest two observations of five observed learners, padded"
    latest_two = {obs.id for observations in full.values() for obs in observations[-2:]}
    statements = Statements()
    with connection.execute_wrapper(statements):
        monitoring.refresh_alerts(policy, ids, course_key, {})
    read = [params for (sql, _many, _count), params in zip(statements.current, statements.params)
            if "indicatorrating" in sql]
    assert [{pk for pk in params if pk > 0} for params in read] == [latest_two], "the course's drift refresh too"
    assert sum(1 for observations in trimmed.values() for obs in observations if obs.outcomes) == 2 + 2 * 3 + 2
    critical, rules = {i.key for i in indicators.values() if i.critical}, monitoring.drift_rules(policy)
    for person in course:
        for certified in (True, False):
            assert drift.detect(trimmed[person.pk], rules, date.today(), certified, critical) == \
                drift.detect(full[person.pk], rules, date.today(), certified, critical)


def test_detect_uses_no_outcome_older_than_the_latest_two():
    """Pure check of what ``OUTCOMES_USED`` promises, on histories of mixed outcomes."""
    start, rules = date(2026, 1, 1), drift.DriftRules()
    levels = (drift.MET, drift.NOT_MET, drift.NOT_APPLICABLE)
    for length in range(0, 7):
        history = [drift.RatedObservation(n, start + timedelta(days=10 * n), 50.0 + 9 * n,
                                          {"a": levels[n % 3], "b": levels[(n * 2) % 3], "c": drift.NOT_MET})
                   for n in range(length)]
        trimmed = [drift.RatedObservation(o.id, o.practice_date, o.percent, {}) for o in history[:-drift.OUTCOMES_USED]]
        trimmed += history[-drift.OUTCOMES_USED:] if history else []
        for certified in (True, False):
            assert drift.detect(trimmed, rules, start + timedelta(days=70), certified, {"c"}) == \
                drift.detect(history, rules, start + timedelta(days=70), certified, {"c"})


@pytest.mark.parametrize("count, size", [(0, 1), (1, 1), (2, 8), (8, 8), (9, 64), (500, 512), (513, 1024)])
def test_id_lists_are_padded_to_a_few_lengths_with_ids_no_row_has(count, size):
    ids = list(range(1, count + 1))
    padded = padded_ids(ids)
    assert len(padded) == size and padded[:count] == ids and len(set(padded)) == size
    assert all(pad < 0 for pad in padded[count:])


def test_a_result_compares_datetimes_by_instant_even_across_a_clock_change():
    """
    Reviewer's finding: a learner's overdue moment is midnight in their zone; where clocks jump at
    midnight (Santiago, 2024-09-08) Python calls it unequal to the same instant in UTC, so the row
    would have been rewritten on every run.
    """
    from zoneinfo import ZoneInfo  # pylint: disable=import-outside-toplevel

    local = datetime(2024, 9, 8, tzinfo=ZoneInfo("America/Santiago"))
    stored = local.astimezone(dt_timezone.utc)  # as the database gives it back
    computed, loaded = (LearnerStatus(state="in_progress", reasons=[], stale_after=moment, evaluated_at=stored)
                        for moment in (local, stored))
    assert evaluation._same_result(evaluation._result(computed),  # pylint: disable=protected-access
                                   evaluation._result(loaded))  # pylint: disable=protected-access


def test_learner_ids_are_read_one_row_per_learner_whatever_the_evidence(course, course_key, coach, observe):
    """
    Issue 30: the re-evaluation's list of learners read every observation's learner id (1M rows at
    100k learners, all held by MySQL's driver). Each statement now answers one row per learner.
    """
    for days in range(1, 12):
        observe(coach, course[2], days_ago=days)
    sent = []

    def capture(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        ids = evaluation.course_learner_ids(course_key)
    assert ids == sorted(person.pk for person in course)
    assert sent, "the ids come from the database"
    for sql, params in sent:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            answered = cursor.fetchall()
        assert len(answered) <= len(course), (sql, len(answered))
