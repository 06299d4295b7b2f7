"""
How far a course's re-evaluation has come, so that staff who changed a policy can see it finish.

Saving a policy records a request (``requested``) and queues the task; the run (the Celery task, or
the ``reevaluate_competency`` command) writes its progress after every batch (``tracked``), each
batch being committed on its own. One row per course: its latest run. Internal to ``api``.
"""
from contextlib import contextmanager

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import CourseReevaluation

WAITING, RUNNING, FINISHED, FAILED = "waiting", "running", "finished", "failed"


def requested(course_key):
    CourseReevaluation.objects.update_or_create(course_key=course_key, defaults={
        "requested_at": timezone.now(), "started_at": None, "finished_at": None, "failed_at": None,
        "done": 0, "total": None})


@contextmanager
def tracked(course_key):
    """Records a run: yields ``progress(done, total)``; marks the run finished, or failed if it raises."""
    now = timezone.now()
    run, _created = CourseReevaluation.objects.update_or_create(course_key=course_key, defaults={
        "started_at": now, "finished_at": None, "failed_at": None, "done": 0, "total": None},
        create_defaults={"requested_at": now, "started_at": now})
    rows = CourseReevaluation.objects.filter(pk=run.pk)

    def progress(done, total):
        rows.update(done=done, total=total)

    try:
        yield progress
    except BaseException:
        rows.update(failed_at=timezone.now())
        raise
    rows.update(finished_at=timezone.now())


def state_of(run):
    if run.failed_at:
        return FAILED
    if run.finished_at:
        return FINISHED
    return RUNNING if run.started_at else WAITING


def summary(course_key):
    """The latest run as shown to staff (``None`` if the course was never re-evaluated)."""
    run = CourseReevaluation.objects.filter(course_key=course_key).first()
    if run is None:
        return None
    state = state_of(run)
    percent = round(100 * run.done / run.total) if run.total else (100 if state == FINISHED else 0)
    return {"state": state, "done": run.done, "total": run.total, "percent": percent,
            "requested_at": run.requested_at, "finished_at": run.finished_at, "failed_at": run.failed_at,
            "message": _message(run, state, percent)}


def _message(run, state, percent):
    if state == WAITING:
        return _("Re-evaluation of the learners' status is waiting to start (requested %(when)s).") % {
            "when": date_format(timezone.localtime(run.requested_at), "DATETIME_FORMAT")}
    if state == RUNNING:
        if run.total is None:
            return _("Re-evaluation of the learners' status has started.")
        return _("Re-evaluating the learners' status: %(done)s of %(total)s (%(percent)s%%).") % {
            "done": run.done, "total": run.total, "percent": percent}
    if state == FAILED:
        return _("The last re-evaluation stopped after %(done)s of %(total)s learners; an operator can run "
                 "the reevaluate_competency command.") % {"done": run.done, "total": run.total or 0}
    return _("The learners' status was last re-evaluated on %(when)s (%(total)s learners).") % {
        "when": date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT"), "total": run.total or 0}
