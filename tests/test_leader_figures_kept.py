"""
The leader view's figures are kept and recomputed in the background (issue 17: every figure
aggregates the whole course, 3.4 s at 10,000 learners): the page reads the kept figures with their
time; figures older than ``FRESH_FOR`` are recomputed by one task, claimed by one reader; until the
first computation ends the page says so; a computation that fails frees its claim.
"""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api, tasks
from miiwrap_fidelity.records import aggregates, leader_figures, retirement
from miiwrap_fidelity.records.models import Consequence
from miiwrap_fidelity.rules import competency

from conftest import COURSE, assign_coach, data_queries, make_user

User = get_user_model()

pytestmark = pytest.mark.django_db
URL = reverse("miiwrap_fidelity:leaders", args=[COURSE])


@pytest.fixture
def six_observed(policy, lead, coach, course_key, observe):
    for i in range(6):
        learner = make_user(f"k{i}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=10)


def in_progress(view):
    return {row["state"]: row for row in view["pipeline"]}["in_progress"]["value"]


@pytest.fixture
def queued(monkeypatch):
    """Tasks queued, not run: as on a platform whose workers are busy."""
    calls = []
    monkeypatch.setattr(tasks.refresh_leader_figures, "delay", lambda *args: calls.append(args))
    return calls


def test_the_page_reads_the_kept_figures_with_their_time(client, six_observed, lead, coach, course_key, observe):
    client.force_login(lead)
    first = client.get(URL).content.decode()
    assert "Figures as of" in first and ">6</td>" in first
    assert ">6</td>" in client.get(URL).content.decode(), "fresh: read as kept"
    assert in_progress(api.leader_view(lead, course_key)) == 6


def test_a_status_change_makes_the_kept_figures_stale(client, six_observed, lead, coach, course_key, observe,
                                                     queued):
    """Issue 23: leader figures going stale are a consequence of a status change, recorded with it."""
    client.force_login(lead)
    api.refresh_leader_figures(str(course_key))
    page = client.get(URL).content.decode()
    assert ">6</td>" in page and queued == [], "fresh figures are read as kept"
    learner = make_user("k6")
    assign_coach(lead, course_key, coach, learner)
    observe(coach, learner, days_ago=10)  # Not started -> In progress, with its consequences
    api.deliver_consequences()  # (this test's transaction never commits: the periodic pass delivers them)
    assert Consequence.objects.filter(kind=competency.LEADER_FIGURES, delivered_at__isnull=False).exists()
    api.kept_leader_view(lead, course_key, tasks.refresh_leader_figures.delay)
    assert queued == [(str(course_key),)], "stale since the change: one computation queued"
    api.refresh_leader_figures(str(course_key))  # the queued task, run
    assert ">7</td>" in client.get(URL).content.decode()


def test_stale_figures_are_recomputed_by_one_task_claimed_by_one_reader(
        client, six_observed, lead, coach, course_key, policy, queued, monkeypatch):
    kept = api.leader_view(lead, course_key)
    assert in_progress(kept) == 6
    later = timezone.now() + leader_figures.FRESH_FOR + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.force_login(lead)
    for _ in range(3):  # three readers of stale figures: each sees them, one task is queued
        body = client.get(URL).content.decode()
        assert ">6</td>" in body and "Newer figures are being computed" in body
    assert queued == [(COURSE,)]
    assert tasks.refresh_leader_figures(COURSE) is True  # the worker runs it: figures and claim renewed
    assert leader_figures.is_fresh(leader_figures.kept(course_key, policy.instrument_version_id), later)
    assert "Newer figures are being computed" not in client.get(URL).content.decode()


def test_before_the_first_computation_ends_the_page_says_so(client, six_observed, lead, queued):
    client.force_login(lead)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200 and queued == [(COURSE,)]
    assert 'id="mwf-figures-pending"' in body and "Certification pipeline" not in body


def test_a_failed_computation_frees_its_claim(lead, course_key, policy, six_observed, queued, monkeypatch):
    monkeypatch.setattr(aggregates, "leader_view", lambda *args: 1 / 0)
    assert leader_figures.claim_refresh(course_key, policy.instrument_version_id)
    with pytest.raises(ZeroDivisionError):
        tasks.refresh_leader_figures(COURSE)
    assert leader_figures.claim_refresh(course_key, policy.instrument_version_id)  # free again


def test_the_task_of_a_course_without_a_policy_does_nothing(lead):
    assert tasks.refresh_leader_figures("course-v1:MiiWrap+NONE+2026") is False


def test_domains_and_indicators_are_worded_in_the_readers_language(client, six_observed, lead, course_key):
    client.force_login(lead)
    client.get(URL)  # figures computed and kept in English
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Vinculación" in body and "Preparación del equipo" in body
    assert ">Engagement<" not in body


def test_staff_compute_the_figures_now_once_at_a_time(client, six_observed, lead, coach, course_key, queued):
    client.force_login(lead)
    refresh = reverse("miiwrap_fidelity:refresh_leaders", args=[COURSE])
    assert client.get(refresh).status_code == 405  # a change: POST only
    first = client.post(refresh, follow=True)
    again = client.post(refresh, follow=True)
    assert "The figures are being computed again." in first.content.decode()
    assert "The figures are already being computed." in again.content.decode()
    assert queued == [(COURSE,)]
    client.force_login(coach)  # a coach is not course staff
    assert client.post(refresh).status_code == 403 and queued == [(COURSE,)]


def test_the_coaching_cadence_is_paged_and_names_read_per_page(client, policy, lead, course_key, observe, monkeypatch):
    # 1,000 coaches at 100,000 learners: the page read and rendered a row per coach on every view;
    # then it still read every coach's kept row (8.4 -> 12.7 ms from 1,000 to 100,000 learners).
    monkeypatch.setattr(api, "STAFF_PAGE_SIZE", 2)
    monkeypatch.setattr(leader_figures, "CADENCE_CHUNK", 2)
    read = []
    real_get_many = leader_figures.cache.get_many
    monkeypatch.setattr(leader_figures.cache, "get_many", lambda keys: read.append(list(keys)) or real_get_many(keys))
    for c in range(3):
        coach = make_user(f"cadence{c}", first_name="Coach", last_name=f"Number{c}")
        for i in range(5):
            learner = make_user(f"c{c}l{i}")
            assign_coach(lead, course_key, coach, learner)
            observe(coach, learner, days_ago=3)
    client.force_login(lead)
    first = client.get(URL).content.decode()
    table = first[first.index('id="mwf-cadence"'):first.index("</table>", first.index('id="mwf-cadence"'))]
    assert "Number0" in table and "Number1" in table and "Number2" not in table
    assert '?cadence=2#mwf-cadence' in first and "1 to 2 of 3" in first
    kept = leader_figures.kept(course_key, policy.instrument_version_id)["figures"]["cadence"]
    assert set(kept) == {"count", "token"} and kept["count"] == 3, "the figures hold no coach's row"
    read.clear()
    second = client.get(URL, {"cadence": 2}).content.decode()
    assert "Number2" in second[second.index('id="mwf-cadence"'):]
    assert [[key.split(".")[-2] for key in keys] for keys in read] == [["1"]], "the page's chunk only"
    assert client.get(URL, {"cadence": "x"}).status_code == 200  # not a number: the first page
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {"cadence": 2})
    by_id = [sql for sql in data_queries(queries) if "first_name" in sql and "password" not in sql]
    assert len(by_id) == 1 and "cadence2" not in by_id[0]  # full names of the page's one coach
    assert str(User.objects.get(username="cadence0").pk) not in by_id[0].split(" IN ")[-1]
    assert len(api.leader_view(lead, course_key)["cadence"]) == 3


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args):
        raise ConnectionError("broker down")
    monkeypatch.setattr(tasks.refresh_leader_figures, "delay", refuse)


def test_a_broker_that_is_down_frees_the_claim_and_says_so(client, six_observed, lead, course_key, policy,
                                                           broker_down):
    client.force_login(lead)
    body = client.get(URL).content.decode()
    assert "could not be computed now" in body and 'role="alert"' in body
    answer = client.post(reverse("miiwrap_fidelity:refresh_leaders", args=[COURSE]), follow=True).content.decode()
    assert "could not be computed now" in answer  # not "already being computed": nothing holds the claim
    assert leader_figures.claim_refresh(course_key, policy.instrument_version_id)


def test_computing_for_a_script_keeps_the_tasks_claim(lead, course_key, policy, six_observed):
    assert leader_figures.claim_refresh(course_key, policy.instrument_version_id)  # a task is under way
    api.leader_view(lead, course_key)
    assert not leader_figures.claim_refresh(course_key, policy.instrument_version_id)


def test_older_figures_never_replace_newer_ones(lead, course_key, policy, six_observed, monkeypatch):
    api.leader_view(lead, course_key)
    newer = leader_figures.kept(course_key, policy.instrument_version_id)["computed_at"]
    earlier = newer - timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: earlier)  # a slow computation started before, ends after
    leader_figures.compute(course_key, policy)
    assert leader_figures.kept(course_key, policy.instrument_version_id)["computed_at"] == newer


def test_a_retired_coachs_course_figures_are_dropped(client, six_observed, lead, coach, course_key, policy):
    api.leader_view(lead, course_key)
    cadence = leader_figures.kept(course_key, policy.instrument_version_id)["figures"]["cadence"]
    assert leader_figures.cadence_rows(course_key, policy.instrument_version_id, cadence, 0, 10)
    retirement.scrub_user(coach.pk)
    assert leader_figures.kept(course_key, policy.instrument_version_id) is None
    assert leader_figures.cadence_rows(course_key, policy.instrument_version_id, cadence, 0, 10) == [], \
        "the coaches' rows (by id) dropped with the figures"


def test_a_coach_without_a_user_row_reads_as_a_former_coach(client, six_observed, lead, coach, course_key):
    client.force_login(lead)
    client.get(URL)  # kept with the coach's id
    User.objects.filter(pk=coach.pk).update(username="")
    body = client.get(URL).content.decode()
    cadence = body[body.index('id="mwf-cadence"'):]
    assert "Former coach" in cadence and '<th scope="row"></th>' not in cadence
