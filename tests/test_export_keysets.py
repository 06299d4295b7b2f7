"""
Exports by keyset (issue 17): every kind reads the same rows in any chunk size, in key order, and
the statement of a chunk is served by an index in its order: no sort of the rows that remain
(SQLite: no temporary B-tree for ORDER BY; MySQL/MariaDB: no filesort), on the database the tests
run on.
"""
import csv
import io
import json

import pytest
from django.db import connection

from miiwrap_fidelity import api
from miiwrap_fidelity.records import exports
from miiwrap_fidelity.records.models import IndicatorRating, Observation

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(ready_learner, coach, coach2, lead, course_key, observe, django_capture_on_commit_callbacks):
    observe(coach2, ready_learner, days_ago=3)
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    observe(coach, ready_learner, days_ago=2, submit=False)  # a draft: never exported
    return ready_learner


def lines(kind, course_key, viewer_id=None):
    return list(csv.reader(io.StringIO("".join(exports.rows(kind, course_key, viewer_id)).lstrip("\ufeff"))))[1:]


@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_every_chunk_size_reads_the_same_rows_in_key_order(records, course_key, monkeypatch, kind):
    whole = lines(kind, course_key)
    assert whole, kind
    for chunk in (1, 2, 7, 40):
        monkeypatch.setattr(exports, "CHUNK", chunk)
        assert lines(kind, course_key) == whole, (kind, chunk)
    if kind == "ratings":
        expected = list(IndicatorRating.objects.filter(
            observation__course_key=course_key, observation__status=Observation.SUBMITTED).order_by(
            "observation_id", "indicator_id").values_list("observation_id", "level"))
        assert [(int(row[0]), row[8]) for row in whole] == expected
    else:
        keys = [int(row[0]) for row in whole]  # learners: by learner id; the others by their own id
        assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_chunks_are_read_in_index_order_without_a_sort(records, course_key, coach, kind):
    for viewer in (None, coach.pk):
        for query in exports.chunk_queries(kind, course_key, viewer_id=viewer):
            plan = query.explain()
            if connection.vendor == "sqlite":
                assert "TEMP B-TREE" not in plan, (kind, plan)
            else:
                assert "filesort" not in plan.lower() and "temporary" not in plan.lower(), (kind, plan)
            if viewer is None:
                # One table per statement (usernames are read after, by id): with the users joined,
                # MariaDB planned a 1,000,000-observation course from the users table (seconds a chunk).
                assert " JOIN " not in str(query.query).upper(), (kind, str(query.query))


def _tables(plan):
    """Every table entry of a MariaDB/MySQL JSON plan, wherever it is nested."""
    if isinstance(plan, dict):
        if "table_name" in plan:
            yield plan
        for value in plan.values():
            yield from _tables(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _tables(value)


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB/MySQL plans (SQLite reads the range already)")
@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_a_chunk_starts_at_its_key_not_at_the_courses_first_row(records, course_key, coach, kind):
    # MariaDB read `course = X AND status = Y AND id > last ORDER BY id` as a `ref` on the index's
    # first columns: from the course's first entry, filtering `id > last`, so each chunk cost more
    # than the one before (0.68 s at row 950,000 of a 1,000,000-row course). A range read starts at
    # `last` in the index of the kind.
    for viewer in (None, coach.pk):
        query = exports.chunk_queries(kind, course_key, viewer_id=viewer)[0]
        table = query.model._meta.db_table
        plan = json.loads(query.explain(format="JSON"))
        plan = json.loads(plan) if isinstance(plan, str) else plan  # mysqlclient: a JSON text in a JSON text
        outer = [entry for entry in _tables(plan) if entry["table_name"] == table][0]
        assert (outer["access_type"], outer["key"]) == ("range", exports.INDEXES[kind]), (kind, viewer, outer)
