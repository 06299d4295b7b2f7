"""
Concurrency on a real database server (the py312-mariadb tox env): simultaneous approvals make one
certification and one certificate request; simultaneous edits of a draft are detected.
SQLite serialises every write, so these run where the database is MariaDB.
"""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from conftest import ratings_for
from miiwrap_fidelity import api
from miiwrap_fidelity.models import Certification, Observation, SignOff
from sandbox.models import CertificateRequest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs a database server (py312-mariadb env)"),
]


def run_at_once(count, work):
    """Run ``work(index)`` in ``count`` threads released together; returns (results, errors)."""
    barrier, results, errors = threading.Barrier(count), [None] * count, []

    def runner(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_twenty_simultaneous_approvals_make_one_certification(ready_learner, coach, course_key):
    results, errors = run_at_once(20, lambda i: api.sign_off(coach, ready_learner, course_key).pk)
    assert errors == []
    assert len(set(results)) == 1, "every caller gets the same approval"
    assert SignOff.objects.count() == 1
    assert Certification.objects.filter(revoked_at__isnull=True).count() == 1
    assert CertificateRequest.objects.filter(user=ready_learner, outcome="generated").count() == 1


def test_simultaneous_draft_edits_are_detected(assigned, coach, coach2, course_key, indicators):
    draft = api.save_observation(coach, assigned, course_key, {
        "practice_date": "2026-03-01", "setting": "home_visit", "ratings": ratings_for(indicators)}).observation

    def edit(index):
        return api.save_observation(coach, assigned, course_key, {
            "practice_date": "2026-03-01", "setting": "home_visit", "revision": draft.revision,
            "overall_note": f"edit {index}", "ratings": ratings_for(indicators)}, observation_id=draft.pk)

    results, errors = run_at_once(6, edit)
    assert len([r for r in results if r is not None]) == 1, "one edit wins"
    assert len(errors) == 5 and all(isinstance(e, ValidationError) and "revision" in e.message_dict for e in errors)
    saved = Observation.objects.get(pk=draft.pk)
    assert saved.revision == draft.revision + 1 and saved.overall_note.startswith("edit ")
