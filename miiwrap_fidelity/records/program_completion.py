"""
A learner's programs (ADR 0025): the program's courses, the learners' status rows in them, and the
latch that makes a program's completed (or no-longer-complete) event once per change.

``checks`` is the outbox's hook (``outbox.record_changes``): a status change in a program course
records a ``PROGRAM_CHECK`` consequence in the change's own transaction; its handler
(``api.settle_program``) decides the program again after the change committed, under the latch's
lock, and records the ``PROGRAM_CHANGED`` event in that transaction when the completion changed.
"""
from django.conf import settings
from django.db import models

from ..rules import programs
from ..rules.competency import CertificationRecord
from .database_values import padded_ids
from .models import CompetencyPolicy, Consequence, LearnerStatus


class ProgramCompletion(models.Model):
    """
    Whether a learner's program was complete when it was last decided (a status change in one of
    its courses): the event of a change is recorded with the change of this row, so a repeated
    decision announces nothing twice.

    .. pii: a learner id with a program name, whether they completed it and when that last changed.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    program = models.SlugField(max_length=64)
    completed = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "miiwrap_fidelity"
        constraints = [models.UniqueConstraint(fields=["learner", "program"], name="mwf_program_completion")]

    def __str__(self):
        return f"program {self.program} of learner {self.learner_id}: {'complete' if self.completed else 'open'}"


def checks(changes, now, batch, known=None):
    """
    The ``PROGRAM_CHECK`` consequences (unsaved) of status changes (``outbox.record_changes``'s
    tuples) in courses of a program. Only a change that may change a program's completion
    (``programs.may_change_completion``) asks for its course's program: from ``known``
    (``{course id: program, "" for none}``, what the caller read already), else in one query.
    """
    candidates = [(learner_id, str(course_key)) for learner_id, course_key, state, previous_state, _payload in changes
                  if programs.may_change_completion(state, previous_state)]
    named = dict(known or {})
    unknown = sorted({course for _learner, course in candidates} - set(named))
    if unknown:
        named.update((str(course_key), program) for course_key, program in CompetencyPolicy.objects.filter(
            course_key__in=unknown, enabled=True).values_list("course_key", "program"))
    return [Consequence(kind=programs.PROGRAM_CHECK, learner_id=learner_id, course_key=course,
                        payload={"program": named[course]}, batch=batch, created_at=now, due_at=now)
            for learner_id, course in candidates if named.get(course)]


def course_prerequisites(program):
    """``{course id: its prerequisite course id}`` of the program's enabled policies (one query)."""
    if not program:
        return {}
    return {str(course_key): prerequisite for course_key, prerequisite in CompetencyPolicy.objects.filter(
        program=program, enabled=True).values_list("course_key", "prerequisite_course")}


def statuses(learner_ids, course_ids):
    """
    ``{(learner id, course id): (stored state, CertificationRecord or None)}`` of the learners'
    status rows in the courses (one query; learners without a row there are absent).
    """
    if not learner_ids or not course_ids:
        return {}
    rows = LearnerStatus.objects.filter(learner_id__in=padded_ids(learner_ids), course_key__in=sorted(course_ids))
    return {(learner_id, str(course_key)): (state, CertificationRecord(certification_id, issued_at, expires_at,
                                                                       revoked_at) if certification_id else None)
            for learner_id, course_key, state, certification_id, issued_at, expires_at, revoked_at in rows.values_list(
                "learner_id", "course_key", "state", "certification_id", "certification__issued_at",
                "certification__expires_at", "certification__revoked_at")}
