"""
Whether a learner has a coach in a course, kept on their status row (``LearnerStatus.has_coach``)
so that the "No coach yet" list reads one index range (issue 30).

Every change of assignments writes the flag in its own transaction. The flag is computed by the
database from the assignments in the same statement (``EXISTS``): on MariaDB a subquery of an
UPDATE reads the latest committed rows with shared locks, so two staff members assigning and
unassigning the same learner at once cannot leave it stale. A course's re-evaluation repairs any
row that still disagrees (a status row made after a racing assignment, or data from before the flag).
"""
from django.db.models import Exists, OuterRef

from .models import CoachAssignment, LearnerStatus


def _coached():
    return Exists(CoachAssignment.objects.filter(course_key=OuterRef("course_key"), learner_id=OuterRef("learner_id")))


def lock_rows(course_key, learner_ids):
    """Lock these learners' status rows in the course (ADR 0006: status rows before the audit head)."""
    list(LearnerStatus.objects.select_for_update().filter(course_key=course_key, learner_id__in=list(learner_ids))
         .values_list("pk", flat=True))


def refresh(course_key, learner_ids):
    """Set the flag of these learners' status rows in the course from its assignments (one statement)."""
    LearnerStatus.objects.filter(course_key=course_key, learner_id__in=list(learner_ids)).update(has_coach=_coached())


def repair(course_key):
    """Set the flag where a status row of the course disagrees with its assignments; returns the rows fixed."""
    rows = LearnerStatus.objects.filter(course_key=course_key)
    return (rows.filter(has_coach=False).filter(_coached()).update(has_coach=True)
            + rows.filter(has_coach=True).exclude(_coached()).update(has_coach=False))
