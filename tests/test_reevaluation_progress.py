"""Staff see how far the re-evaluation after a policy change has come: waiting, running, finished, failed."""
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import evaluation
from miiwrap_fidelity.records import reevaluation_progress as reevaluation
from miiwrap_fidelity.records.models import CourseReevaluation, LearnerStatus

from conftest import COURSE, assign_coach, make_user, one_set

pytestmark = pytest.mark.django_db
API = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/policy/reevaluation/"


@pytest.fixture
def learners(policy, lead, coach, course_key):
    people = [make_user(f"r{i}") for i in range(5)]
    for person in people:
        assign_coach(lead, course_key, coach, person)
    return people


def test_each_batch_is_recorded_as_it_commits(learners, lead, course_key, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 2)
    seen = []

    def watch(done, total):
        run = CourseReevaluation.objects.get(course_key=course_key)
        seen.append((done, total, run.done, run.total, reevaluation.state_of(run)))

    assert api.reevaluate_course(course_key, watch) == 5
    assert seen == [(0, 5, 0, 5, "running"), (2, 5, 2, 5, "running"), (4, 5, 4, 5, "running"),
                    (5, 5, 5, 5, "running")]
    progress = api.reevaluation_progress(lead, course_key)
    assert progress["state"] == "finished" and progress["percent"] == 100
    assert progress["message"].startswith("The learners' status was last re-evaluated on ")
    assert progress["message"].endswith("(5 learners).")


def test_saving_the_policy_requests_a_run_that_waits_for_a_worker(learners, version, lead, course_key, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    queued = []
    monkeypatch.setattr(tasks.reevaluate_course, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        api.save_policy(lead, course_key, requirement_sets=one_set(version, min_observations=2))
    assert queued == [COURSE]
    progress = api.reevaluation_progress(lead, course_key)
    assert progress["state"] == "waiting" and "waiting to start" in progress["message"]
    tasks.reevaluate_course.apply(args=[COURSE])
    assert api.reevaluation_progress(lead, course_key)["state"] == "finished"


def test_a_failed_run_says_how_far_it_came_and_what_to_do(learners, lead, course_key, monkeypatch):
    def broken(policy, course_key, progress, start=0):
        progress(0, 5)
        progress(2, 5)
        raise RuntimeError("database went away")

    monkeypatch.setattr(evaluation, "reevaluate_course", broken)
    with pytest.raises(RuntimeError):
        api.reevaluate_course(course_key)
    progress = api.reevaluation_progress(lead, course_key)
    assert progress["state"] == "failed" and progress["done"] == 2
    assert "stopped after 2 of 5 learners" in progress["message"] and "reevaluate_competency" in progress["message"]
    monkeypatch.undo()
    call_command("reevaluate_competency", COURSE)
    assert api.reevaluation_progress(lead, course_key)["state"] == "finished", "the command records its run too"


def test_only_staff_see_it(client, learners, lead, coach, course_key):
    with pytest.raises(PermissionDenied):
        api.reevaluation_progress(coach, course_key)
    client.force_login(coach)
    assert client.get(API).status_code == 403
    client.force_login(lead)
    assert client.get(API).json()["state"] == "none"
    api.reevaluate_course(course_key)
    body = client.get(API).json()
    assert body["state"] == "finished" and body["total"] == 5 and body["done"] == 5


def test_the_policy_page_shows_a_running_run_with_a_progress_bar(client, learners, lead, course_key):
    CourseReevaluation.objects.create(course_key=course_key, requested_at="2026-11-26T10:00:00Z",
                                      started_at="2026-11-26T10:00:05Z", heartbeat_at=timezone.now(), done=2, total=5)
    client.force_login(lead)
    page = client.get(reverse("miiwrap_fidelity:policy", args=[COURSE])).content.decode()
    assert 'data-state="running"' in page and '<progress id="mwf-reevaluation-bar" max="100" value="40"' in page
    assert "Re-evaluating the learners&#x27; status: 2 of 5 (40%)." in page


def test_a_run_whose_heartbeat_stopped_shows_as_stopped_and_resumes_where_it_got_to(
        learners, lead, course_key, monkeypatch, settings):
    """A worker killed mid-run leaves no failure mark: its silent heartbeat is what tells."""
    settings.MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS = 60
    monkeypatch.setattr(evaluation, "BATCH", 2)
    then = timezone.now() - timezone.timedelta(minutes=5)
    CourseReevaluation.objects.create(course_key=course_key, requested_at=then, started_at=then,
                                      heartbeat_at=then + timezone.timedelta(seconds=3), done=2, total=5)
    progress = api.reevaluation_progress(lead, course_key)
    assert progress["state"] == "stopped" and progress["done"] == 2 and progress["percent"] == 40
    assert "stopped responding after 2 of 5 learners (40%" in progress["message"]

    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    resumed = []
    monkeypatch.setattr(tasks.reevaluate_course, "delay", lambda course_id, resume: resumed.append((course_id, resume)))
    assert tasks.resume_stopped_reevaluations.apply().get() == 1 and resumed == [(COURSE, True)]

    seen = []
    assert api.reevaluate_course(course_key, lambda done, total: seen.append(done), resume=True) == 3
    assert seen == [2, 4, 5], "the resumed run starts at the learners the stopped one had not reached"
    run = CourseReevaluation.objects.get(course_key=course_key)
    assert reevaluation.state_of(run) == "finished" and run.done == run.total == 5
    assert tasks.resume_stopped_reevaluations.apply().get() == 0, "nothing more to resume"


def test_a_failed_run_is_resumed_by_the_periodic_pass_from_where_it_failed(learners, lead, course_key, monkeypatch):
    """Issue 23: a run that failed stayed failed until an operator ran the command."""
    from django.db import IntegrityError  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(evaluation, "BATCH", 2)
    real, calls = evaluation._reevaluate_batch, []  # pylint: disable=protected-access

    def failing_second_batch(*args):
        calls.append(1)
        if len(calls) >= 2 and len(calls) <= 1 + evaluation.BATCH_ATTEMPTS:  # the second batch, every try
            raise IntegrityError(1062, "Duplicate entry")
        return real(*args)

    monkeypatch.setattr(evaluation, "_reevaluate_batch", failing_second_batch)
    with pytest.raises(IntegrityError):
        api.reevaluate_course(course_key)
    run = CourseReevaluation.objects.get(course_key=course_key)
    assert reevaluation.state_of(run) == "failed" and run.done == 2
    resumed = []
    monkeypatch.setattr(tasks.reevaluate_course, "delay", lambda course_id, resume: resumed.append((course_id, resume)))
    assert tasks.resume_stopped_reevaluations.apply().get() == 1 and resumed == [(COURSE, True)]
    assert api.reevaluate_course(course_key, resume=True) == 3
    assert reevaluation.state_of(CourseReevaluation.objects.get(course_key=course_key)) == "finished"


def test_a_run_that_keeps_failing_is_left_to_an_operator(learners, lead, course_key, monkeypatch):
    """Review finding: a failed run was resumed by every periodic pass, without end."""
    from django.db import IntegrityError  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    def always_failing(*args):
        raise IntegrityError(1062, "Duplicate entry")

    monkeypatch.setattr(evaluation, "_reevaluate_batch", always_failing)
    resumed = []
    monkeypatch.setattr(tasks.reevaluate_course, "delay", lambda course_id, resume: resumed.append((course_id, resume)))
    with pytest.raises(IntegrityError):
        api.reevaluate_course(course_key)
    for _attempt in range(reevaluation.MAX_FAILED_RUNS - 1):
        assert tasks.resume_stopped_reevaluations.apply().get() == 1
        with pytest.raises(IntegrityError):
            api.reevaluate_course(course_key, resume=True)
    assert CourseReevaluation.objects.get(course_key=course_key).failures == reevaluation.MAX_FAILED_RUNS
    assert tasks.resume_stopped_reevaluations.apply().get() == 0, "no longer retried by itself"
    assert "no longer retried by itself" in api.reevaluation_progress(lead, course_key)["message"]
    reevaluation.requested(course_key)  # a new request (a policy saved again) starts afresh
    assert CourseReevaluation.objects.get(course_key=course_key).failures == 0


def test_a_batch_that_meets_a_row_created_meanwhile_is_tried_again(learners, course_key, monkeypatch):
    from django.db import IntegrityError  # pylint: disable=import-outside-toplevel

    real, calls = evaluation._reevaluate_batch, []  # pylint: disable=protected-access

    def once_conflicting(*args):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError(1062, "Duplicate entry")
        return real(*args)

    monkeypatch.setattr(evaluation, "_reevaluate_batch", once_conflicting)
    assert api.reevaluate_course(course_key) == 5 and len(calls) == 2


def test_a_running_run_beats_and_is_not_resumed(learners, lead, course_key, settings):
    settings.MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS = 60
    beats = []

    def watch(done, total):
        beats.append(CourseReevaluation.objects.get(course_key=course_key).heartbeat_at)

    api.reevaluate_course(course_key, watch)
    assert all(beat is not None and timezone.now() - beat < timezone.timedelta(seconds=60) for beat in beats)
    assert reevaluation.resume_point(course_key) == 0


def test_the_command_re_evaluates_every_course_with_a_policy_after_an_upgrade(learners, lead, course_key, capsys):
    """After an upgrade that changes what a status row holds (e.g. 0016's per-set progress): ``--all``."""
    LearnerStatus.objects.update(qualifying_count=99)  # as an older release may have stored it
    call_command("reevaluate_competency", "--all")
    assert set(LearnerStatus.objects.values_list("qualifying_count", flat=True)) != {99}
    assert f"Re-evaluated 5 learners in {COURSE}." in capsys.readouterr().out
    for arguments in ((), (COURSE, "--all")):
        with pytest.raises(CommandError):
            call_command("reevaluate_competency", *arguments)


def test_a_run_that_keeps_stopping_is_left_to_an_operator(learners, lead, course_key, settings):
    """Review finding: runs that stopped (a worker killed every time) were resumed without end."""
    settings.MIIWRAP_FIDELITY_REEVALUATION_STALE_SECONDS = 60
    then = timezone.now() - timezone.timedelta(minutes=5)
    CourseReevaluation.objects.create(course_key=course_key, requested_at=then, started_at=then, heartbeat_at=then,
                                      done=2, total=5, failures=reevaluation.MAX_FAILED_RUNS - 1)
    assert api.stopped_reevaluations() == [COURSE]
    resumed = reevaluation.tracked(course_key, resumed_from=2)  # resumed, then killed: it never exits
    resumed.__enter__()  # pylint: disable=unnecessary-dunder-call  (kept referenced: no exit on collection)
    CourseReevaluation.objects.filter(course_key=course_key).update(heartbeat_at=then)  # silent since
    assert CourseReevaluation.objects.get(course_key=course_key).failures == reevaluation.MAX_FAILED_RUNS
    assert api.stopped_reevaluations() == [], "no longer resumed by itself"
    assert "no longer retried by itself" in api.reevaluation_progress(lead, course_key)["message"]
    resumed.__exit__(None, None, None)  # pylint: disable=unnecessary-dunder-call
