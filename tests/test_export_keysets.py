"""
Exports by keyset (issue 17): every kind reads the same rows in any chunk size, in key order, and
the statement of a chunk is served by an index in its order: no sort of the rows that remain
(SQLite: no temporary B-tree for ORDER BY; MySQL/MariaDB: no filesort), on the database the tests
run on.
"""
import csv
import io

import pytest
from django.db import connection

from miiwrap_fidelity import api, exports
from miiwrap_fidelity.models import IndicatorRating, Observation

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
