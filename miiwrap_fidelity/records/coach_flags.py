"""
Whether a learner has a coach in a course, kept on their status row (``LearnerStatus.has_coach``)
so that the "No coach yet" list reads one index range (issue 30).

Every change of assignments writes the flag in its own transaction. The flag is computed by the
database from the assignments in the same statement (``EXISTS``): on MariaDB a subquery of an
UPDATE reads the latest committed rows with shared locks, so two staff members assigning and
unassigning the same learner at once cannot leave it stale. A course's re-evaluation repairs any
row that still disagrees (a status row made after a racing assignment, or data from before the flag).

The statements name the assignments' (course, learner) index on MariaDB: inside an UPDATE it
otherwise reads a learner's assignments through the unique (course, coach, learner) index on the
course alone, every assignment of the course per row (57 rows/s at 100,000 learners).
"""
from django.db import connection

from .database_values import padded_ids, quote
from .models import CoachAssignment, LearnerStatus


def _coached(vendor):
    hint = " FORCE INDEX (mwf_assign_learner)" if vendor == "mysql" else ""
    return (f"EXISTS (SELECT 1 FROM {quote(CoachAssignment._meta.db_table)} a{hint} "
            f"WHERE a.course_key = {quote(LearnerStatus._meta.db_table)}.course_key "
            f"AND a.learner_id = {quote(LearnerStatus._meta.db_table)}.learner_id)")


def _update(where, params):
    """Set the flag from the assignments on the status rows ``where`` selects, where it differs; the rows changed."""
    coached = _coached(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(LearnerStatus._meta.db_table)} SET has_coach = {coached} "
                       f"WHERE {where} AND has_coach <> {coached}", params)
        return cursor.rowcount


def lock_rows(course_key, learner_ids):
    """Lock these learners' status rows in the course (ADR 0006: status rows before the audit head)."""
    list(LearnerStatus.objects.select_for_update().filter(course_key=course_key, learner_id__in=list(learner_ids))
         .values_list("pk", flat=True))


def refresh(course_key, learner_ids):
    """Set the flag of these learners' status rows in the course from its assignments (one statement)."""
    ids = padded_ids(sorted(set(learner_ids)))
    _update(f"course_key = %s AND learner_id IN ({', '.join(['%s'] * len(ids))})", [str(course_key), *ids])


def repair(course_key):
    """Set the flag where a status row of the course disagrees with its assignments; returns the rows fixed."""
    return _update("course_key = %s", [str(course_key)])
