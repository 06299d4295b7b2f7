"""Celery tasks that keep records current: re-evaluations, expiry, stale statuses, the outbox, leader figures."""
from celery import shared_task

from .. import api


# Names as before the modules moved: messages already queued under them still find their task.
@shared_task(bind=True, name="miiwrap_fidelity.tasks.reevaluate_course")
def reevaluate_course(self, course_id, resume=False):
    """
    Re-evaluate every learner of a course after its policy changed, reporting progress (to the
    result backend, and to staff through ``api.reevaluation_progress``); ``resume`` continues a
    run that stopped.
    """
    def progress(done, total):
        if done % 100 == 0 or done == total:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    try:
        return api.reevaluate_course(course_id, progress, resume=resume)
    except api.ValidationError:  # the policy was disabled or removed since the task was queued
        return 0


@shared_task(name="miiwrap_fidelity.tasks.resume_stopped_reevaluations")
def resume_stopped_reevaluations():
    """Periodic (celery beat): continue the course re-evaluations whose worker stopped beating."""
    stopped = api.stopped_reevaluations()
    for course_id in stopped:
        reevaluate_course.delay(course_id, resume=True)
    return len(stopped)


@shared_task(name="miiwrap_fidelity.tasks.reevaluate_dependents")
def reevaluate_dependents(learner_id, course_id):
    """A learner's competency changed in ``course_id``: evaluate them again in later stages and the program."""
    return api.reevaluate_dependents(learner_id, course_id)


@shared_task(name="miiwrap_fidelity.tasks.expire_certifications")
def expire_certifications():
    """
    Mark certifications that reached their expiry: the learner's status becomes "expired" and a
    ``certification.expired`` event is sent once. Run it daily (celery beat).
    """
    return api.expire_certifications()


@shared_task(name="miiwrap_fidelity.tasks.refresh_stale_statuses")
def refresh_stale_statuses(limit=5000):
    """
    Store the status of learners whose decision time alone has changed (an observation left the
    window, a certification expired). Reads decide such rows again in memory but never write, so
    this keeps the lists and the gate current. Run it hourly (celery beat).
    """
    return api.refresh_stale_statuses(limit)


@shared_task(name="miiwrap_fidelity.tasks.refresh_search_names")
def refresh_search_names():
    """Periodic (celery beat, daily): the learner list's search keys follow changed profile names."""
    return api.refresh_search_names()


@shared_task(name="miiwrap_fidelity.tasks.deliver_consequences")
def deliver_consequences():
    """
    Periodic (every minute): deliver the consequences of status changes that are still due (the
    broker was down when the change committed, or a worker died after claiming one), ADR 0019.
    """
    return api.deliver_consequences()


@shared_task(name="miiwrap_fidelity.tasks.refresh_leader_figures")
def refresh_leader_figures(course_id):
    """Compute and keep a course's leader view figures (a whole-course aggregate: seconds on a large course)."""
    return api.refresh_leader_figures(course_id)
