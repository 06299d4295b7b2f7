"""
Process death (ADR 0006): a real worker process, killed with SIGKILL at the worst moment, against
the test database of the py312-mariadb env. A separate process cannot see SQLite's in-memory test
database, so these run where the database is a server.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from django.db import connection
from django.utils import timezone

from miiwrap_fidelity import api, tasks
from miiwrap_fidelity.records import reevaluation_progress as reevaluation
from miiwrap_fidelity.records.models import Certification, CourseReevaluation
from sandbox.models import CertificateRequest

from conftest import COURSE, assign_coach, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="a second process needs a database server "
                                                            "(py312-mariadb env)"),
]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Runs ``work`` in a worker process; ``hang`` replaces a function with one that prints
#: "REACHED" and sleeps, so the test can kill the process exactly there.
WORKER = textwrap.dedent("""
    import sys, time
    import django
    django.setup()

    def hang(*args, **kwargs):
        print("REACHED", flush=True)
        time.sleep(600)

    {setup}
    {work}
""")


def start_worker(setup, work):
    env = {**os.environ, "MIIWRAP_DB_NAME": connection.settings_dict["NAME"],
           "DJANGO_SETTINGS_MODULE": "sandbox_project.settings",
           "PYTHONPATH": os.pathsep.join([os.path.join(ROOT, "demo"), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", WORKER.format(setup=setup, work=work)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if line.strip() != "REACHED":
        process.kill()
        pytest.fail(f"the worker did not reach the point to kill it at: {line}{process.stderr.read()}")
    return process


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.fixture
def unrequested(ready_learner, coach, course_key, monkeypatch):
    """A certification whose request task has not run yet (queued in a broker)."""
    with monkeypatch.context() as queued:
        queued.setattr(tasks.request_certificate, "apply_async", lambda *args, **kwargs: None)
        api.sign_off(coach, ready_learner, course_key)
    return Certification.objects.get(learner=ready_learner)


def test_a_worker_killed_between_claim_and_platform_call_is_replaced_by_the_periodic_task(unrequested, settings):
    worker = start_worker("from sandbox.fake_platform import FakePlatform; FakePlatform.request_certificate = hang",
                          f"from miiwrap_fidelity.tasks import certificates; certificates.request_certificate.apply(args=[{unrequested.pk}])")
    unrequested.refresh_from_db()
    assert unrequested.certificate_requested_at is not None, "the claim was committed before the platform call"
    kill(worker)
    assert CertificateRequest.objects.count() == 0, "the platform was never asked"

    assert tasks.request_pending_certificates.apply().get() == 0, "within its lease the claim is left alone"
    settings.MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS = 1
    time.sleep(1.2)
    assert tasks.request_pending_certificates.apply().get() == 1
    assert tasks.request_pending_certificates.apply().get() == 0
    assert CertificateRequest.objects.filter(user=unrequested.learner, outcome="generated").count() == 1, \
        "sent once"
    unrequested.refresh_from_db()
    assert unrequested.certificate_outcome == "requested" and unrequested.certificate_attempts == 2


def test_a_reevaluation_killed_halfway_shows_as_stopped_and_resumes(policy, lead, coach, course_key, settings):
    for index in range(7):
        assign_coach(lead, course_key, coach, make_user(f"k{index}"))
    # The worker re-evaluates two learners per batch and is killed after its second batch committed.
    worker = start_worker(textwrap.dedent("""
        from miiwrap_fidelity.records import evaluation, drift_and_agreement as monitoring
        evaluation.BATCH = 2
        calls = []
        original = monitoring.refresh_alerts
        def refresh_alerts(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                hang()
            return original(*args, **kwargs)
        monitoring.refresh_alerts = refresh_alerts
    """), f"from miiwrap_fidelity import api; api.reevaluate_course('{COURSE}')")
    kill(worker)
    run = CourseReevaluation.objects.get(course_key=course_key)
    assert (run.done, run.total, run.failed_at, run.finished_at) == (4, 7, None, None)

    settings.MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS = 1
    time.sleep(1.2)
    progress = api.reevaluation_progress(lead, course_key)
    assert progress["state"] == "stopped" and "after 4 of 7 learners" in progress["message"]
    assert tasks.resume_stopped_reevaluations.apply().get() == 1
    run.refresh_from_db()
    assert run.finished_at is not None and run.done == run.total == 7
    assert reevaluation.state_of(run, timezone.now()) == "finished"


def test_a_deliverer_killed_while_holding_a_consequence_leaves_it_for_the_pass_after_its_lease():
    """
    Issue 23: the outbox's lease. A worker claims a consequence and is killed inside the handler:
    the row stays undelivered and claimed; no other pass takes it while the lease runs, and the pass
    after it delivers it, once.
    """
    from datetime import timedelta  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import outbox  # pylint: disable=import-outside-toplevel
    from miiwrap_fidelity.records.models import Consequence  # pylint: disable=import-outside-toplevel
    from miiwrap_fidelity.rules import competency  # pylint: disable=import-outside-toplevel

    row = Consequence.objects.create(kind="test.fault", learner_id=7, course_key=COURSE, payload={}, batch="f",
                                     created_at=timezone.now(), due_at=timezone.now())
    worker = start_worker("from miiwrap_fidelity.records import outbox; outbox.register('test.fault', hang)",
                          "outbox.deliver()")
    kill(worker)
    row.refresh_from_db()
    assert row.delivered_at is None and row.claimed_until is not None, "claimed, then the worker died"
    delivered = []
    outbox.register("test.fault", delivered.append)
    try:
        assert outbox.deliver() == 0 and delivered == [], "the lease still runs: no second deliverer"
        later = timezone.now() + competency.CONSEQUENCE_LEASE + timedelta(seconds=1)
        # The lease runs out (moved back: a claim compares with the wall clock, not the pass's ``now``).
        Consequence.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
        assert outbox.deliver(now=later) == 1 and [r.pk for r in delivered] == [row.pk]
        assert outbox.deliver(now=later) == 0, "once"
    finally:
        outbox.HANDLERS.pop("test.fault", None)
