"""
"No coach yet" reads the status row's kept flag (issue 30: the filter probed every row's
assignments, 72-103x from 1,000 to 100,000 learners). The flag follows every change of
assignments: assigning, unassigning, CSV, a coach's retirement; a course's re-evaluation repairs a
row that disagrees; the migration fills it; simultaneous assigning and unassigning on MariaDB
never leaves it stale.
"""
import threading
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, connections

from miiwrap_fidelity import api
from miiwrap_fidelity.records import coach_flags
from miiwrap_fidelity.records.models import CoachAssignment, LearnerStatus

from conftest import make_user

pytestmark = pytest.mark.django_db


def flag(learner, course_key):
    return LearnerStatus.objects.get(learner=learner, course_key=course_key).has_coach


def no_coach_ids(lead, course_key):
    return [row["learner"].pk for row in api.learner_statuses(lead, course_key, coach="none").page(100).rows]


def test_the_flag_follows_assigning_and_unassigning(policy, lead, coach, coach2, course_key):
    learner = make_user("flag_learner")
    api.note_enrollment(learner.pk, course_key)
    assert flag(learner, course_key) is False and no_coach_ids(lead, course_key) == [learner.pk]
    first = api.assign_coach(lead, course_key, coach, learner)
    second = api.assign_coach(lead, course_key, coach2, learner)
    assert flag(learner, course_key) is True and no_coach_ids(lead, course_key) == []
    api.unassign_coach(lead, first.id)
    assert flag(learner, course_key) is True, "another coach remains"
    api.unassign_coach(lead, second.id)
    assert flag(learner, course_key) is False and no_coach_ids(lead, course_key) == [learner.pk]


def test_csv_assignments_set_the_flag(policy, lead, coach, course_key):
    learners = [make_user(f"csv_flag{i}") for i in range(3)]
    for learner in learners:
        api.note_enrollment(learner.pk, course_key)
    text = "coach,learner\n" + "".join(f"{coach.username},{learner.username}\n" for learner in learners[:2])
    _report, assigned = api.assign_coaches_from_csv(lead, course_key, text)
    assert assigned == 2
    assert [flag(learner, course_key) for learner in learners] == [True, True, False]
    assert no_coach_ids(lead, course_key) == [learners[2].pk]


def test_a_coachs_retirement_leaves_their_learners_without_a_coach(policy, lead, coach, coach2, course_key):
    alone, shared = make_user("alone"), make_user("shared")
    for learner in (alone, shared):
        api.note_enrollment(learner.pk, course_key)
        api.assign_coach(lead, course_key, coach, learner)
    api.assign_coach(lead, course_key, coach2, shared)
    api.retire_user(coach.pk)
    assert flag(alone, course_key) is False and flag(shared, course_key) is True
    assert no_coach_ids(lead, course_key) == [alone.pk]


def test_reevaluation_repairs_a_flag_that_disagrees(policy, lead, coach, course_key):
    learner = make_user("repaired")
    api.note_enrollment(learner.pk, course_key)
    api.assign_coach(lead, course_key, coach, learner)
    LearnerStatus.objects.filter(learner=learner).update(has_coach=False)  # e.g. a row from before the flag
    api.reevaluate_course(course_key)
    assert flag(learner, course_key) is True
    CoachAssignment.objects.filter(learner=learner).delete()  # behind the api's back
    api.reevaluate_course(course_key)
    assert flag(learner, course_key) is False


def test_the_migration_fills_the_flag_from_the_assignments(policy, lead, coach, course_key):
    coached, alone = make_user("m_coached"), make_user("m_alone")
    for learner in (coached, alone):
        api.note_enrollment(learner.pk, course_key)
    api.assign_coach(lead, course_key, coach, coached)
    LearnerStatus.objects.update(has_coach=False)
    migration = __import__("miiwrap_fidelity.migrations.0021_status_has_coach", fromlist=["fill_flags"])
    migration.fill_flags(apps, SimpleNamespace(connection=connection))  # what it reads of a schema editor
    assert flag(coached, course_key) is True and flag(alone, course_key) is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "mysql", reason="needs a database server (py312-mariadb env)")
def test_simultaneous_assigning_and_unassigning_never_leave_the_flag_stale(policy, lead, coach, coach2, course_key):
    """Two staff members at once, 20 rounds: one assigns a second coach while the other removes the first."""
    learner = make_user("raced")
    api.note_enrollment(learner.pk, course_key)
    for _round in range(20):
        first = api.assign_coach(lead, course_key, coach, learner)
        barrier, errors = threading.Barrier(2), []

        def assign():
            api.assign_coach(lead, course_key, coach2, learner)

        def unassign():
            api.unassign_coach(lead, first.id)

        def run(work):
            try:
                barrier.wait()
                api.run_with_write_retries(work)
            except Exception as exc:  # pylint: disable=broad-except
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(work,)) for work in (assign, unassign)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert flag(learner, course_key) is CoachAssignment.objects.filter(learner=learner).exists() is True
        CoachAssignment.objects.filter(learner=learner).delete()
        coach_flags.refresh(course_key, [learner.pk])
        assert flag(learner, course_key) is False
