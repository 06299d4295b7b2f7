"""
How far a course's re-evaluation has come, so that staff who changed a policy can see it finish.

Saving a policy records a request (``requested``) and queues the task; the run (the Celery task, or
the ``reevaluate_competency`` command) writes its progress and a heartbeat after every batch
(``tracked``), each batch being committed on its own. A run whose heartbeat stopped (its worker was
killed) shows as stopped with how far it got, and ``resume_point`` lets the next run continue from
there. One row per course: its latest run. Internal to ``api``.
"""
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import CourseReevaluation

WAITING, RUNNING, STOPPED, FINISHED, FAILED = "waiting", "running", "stopped", "finished", "failed"
#: A running re-evaluation silent for longer than this (seconds) is shown as stopped. A batch of
#: ``evaluation.BATCH`` learners takes about a second, so this is very generous.
DEFAULT_STALE_SECONDS = 300
#: A failed run is resumed by the periodic pass this many times; a run that keeps failing (a fault
#: that will not pass by itself) is then left to an operator, and the page says so.
MAX_FAILED_RUNS = 5


def stale_after():
    return timedelta(seconds=int(getattr(settings, "MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS",
                                         DEFAULT_STALE_SECONDS)))


def requested(course_key):
    CourseReevaluation.objects.update_or_create(course_key=course_key, defaults={
        "requested_at": timezone.now(), "started_at": None, "finished_at": None, "failed_at": None,
        "heartbeat_at": None, "done": 0, "total": None, "failures": 0})


def resume_point(course_key):
    """How many learners a stopped (or failed) run had finished; 0 when there is nothing to resume."""
    run = CourseReevaluation.objects.filter(course_key=course_key).first()
    return run.done if run is not None and state_of(run) in (STOPPED, FAILED) else 0


@contextmanager
def tracked(course_key, resumed_from=0):
    """
    Records a run (continuing a stopped one from ``resumed_from`` learners): yields
    ``progress(done, total)``, which also beats the heartbeat; marks the run finished, or failed
    if it raises.
    """
    now = timezone.now()
    previous = CourseReevaluation.objects.filter(course_key=course_key).first()
    # A run resumed after it stopped (its worker killed, out of memory) counts as one that did not
    # finish, as a failed one does: one that always dies is not resumed without end.
    stopped = bool(resumed_from) and previous is not None and state_of(previous, now) == STOPPED
    run, _created = CourseReevaluation.objects.update_or_create(course_key=course_key, defaults={
        "started_at": now, "finished_at": None, "failed_at": None, "heartbeat_at": now, "done": resumed_from,
        **({} if resumed_from else {"total": None}),
        **({"failures": previous.failures + 1} if stopped else {})},
        create_defaults={"requested_at": now, "started_at": now, "heartbeat_at": now})
    rows = CourseReevaluation.objects.filter(pk=run.pk)

    def progress(done, total):
        rows.update(done=done, total=total, heartbeat_at=timezone.now())

    try:
        yield progress
    except BaseException:
        rows.update(failed_at=timezone.now(), failures=F("failures") + 1)
        raise
    rows.update(finished_at=timezone.now(), failures=0)


def may_resume(run):
    """Whether the periodic pass may resume a failed run (it has failed fewer than ``MAX_FAILED_RUNS`` times)."""
    return run.failures < MAX_FAILED_RUNS


def state_of(run, now=None):
    if run.failed_at:
        return FAILED
    if run.finished_at:
        return FINISHED
    if not run.started_at:
        return WAITING
    beat = run.heartbeat_at or run.started_at
    return STOPPED if beat <= (now or timezone.now()) - stale_after() else RUNNING


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
    if state in (FAILED, STOPPED) and not may_resume(run):
        return _("The re-evaluation failed %(failures)s times after %(done)s of %(total)s learners and is no "
                 "longer retried by itself; an operator must look at the logs and run the reevaluate_competency "
                 "command.") % {"failures": run.failures, "done": run.done, "total": run.total or 0}
    if state == WAITING:
        return _("Re-evaluation of the learners' status is waiting to start (requested %(when)s).") % {
            "when": date_format(timezone.localtime(run.requested_at), "DATETIME_FORMAT")}
    if state == RUNNING:
        if run.total is None:
            return _("Re-evaluation of the learners' status has started.")
        return _("Re-evaluating the learners' status: %(done)s of %(total)s (%(percent)s%%).") % {
            "done": run.done, "total": run.total, "percent": percent}
    if state == STOPPED:
        return _("The re-evaluation stopped responding after %(done)s of %(total)s learners (%(percent)s%%, last "
                 "sign of life %(when)s); it continues from there the next time it runs (an operator can run the "
                 "reevaluate_competency command with --resume).") % {
            "done": run.done, "total": run.total or 0, "percent": percent,
            "when": date_format(timezone.localtime(run.heartbeat_at or run.started_at), "DATETIME_FORMAT")}
    if state == FAILED:
        return _("The last re-evaluation stopped after %(done)s of %(total)s learners; it is tried again "
                 "from there shortly (or an operator can run the reevaluate_competency command).") % {
            "done": run.done, "total": run.total or 0}
    return _("The learners' status was last re-evaluated on %(when)s (%(total)s learners).") % {
        "when": date_format(timezone.localtime(run.finished_at), "DATETIME_FORMAT"), "total": run.total or 0}
