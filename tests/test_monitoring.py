"""Drift alerts, co-rating and calibration, recertification, expiry, leader view, exports and events."""
import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from miiwrap_fidelity import api, tasks
from miiwrap_fidelity.records.models import Certification, DriftAlert, LearnerStatus, Observation
from sandbox.models import TrackingEvent

from conftest import COURSE, assign_coach, data_queries, make_user, one_set, ratings_for
from observation_oracle import observations_for

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def events(name):
    return [event.data for event in TrackingEvent.objects.filter(name=f"edx.miiwrap_fidelity.{name}")]


def test_alerts_open_acknowledge_and_resolve(client, assigned, coach, observe, course_key,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=20, miss=("mi-summaries",))
        observe(coach, assigned, days_ago=10, miss=("mi-summaries", "mi-reflections"))
    open_alerts = {(a.kind, a.indicator_key) for a in DriftAlert.objects.filter(resolved_at__isnull=True)}
    assert open_alerts == {("not_met_twice", "mi-summaries"), ("critical_not_met", "mi-reflections")}
    assert {e["kind"] for e in events("drift_alert.created")} == {"not_met_twice", "critical_not_met"}
    assert all("plan_note" not in e and "message" not in e for e in events("drift_alert.created"))

    client.force_login(assigned)
    page = client.get(url("my_competency")).content.decode()
    assert "Next steps from your recent observations" in page and "Summaries" in page
    with translation.override("es"):  # the indicator in the reader's language, as the rubric names it
        messages = [row["message"] for row in api.drift_alert_rows(assigned, course_key, learner=assigned)]
    assert any("Resúmenes" in message for message in messages) and not any("Summaries" in m for m in messages), messages
    client.force_login(coach)
    alert = DriftAlert.objects.get(kind="critical_not_met")
    assert client.post(url("acknowledge_alert", alert.pk), {"plan_note": ""}).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    client.post(url("acknowledge_alert", alert.pk), {"plan_note": "Practise complex reflections in role play."})
    alert.refresh_from_db()
    assert alert.plan_note.startswith("Practise") and alert.acknowledged_by == coach
    assert "Practise complex reflections" in client.get(url("alerts")).content.decode()

    observe(coach, assigned, days_ago=2)  # all met: the alerts resolve
    assert not DriftAlert.objects.filter(resolved_at__isnull=True).exists()


def test_below_band_alert_for_a_certified_learner(ready_learner, coach, course_key, observe,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(issued_at=timezone.now() - timedelta(days=30))
    weak = ("eng-strengths", "eng-family-story", "team-natural-supports", "plan-shared-vision", "plan-brainstorm",
            "plan-measurable", "impl-task-follow-up", "impl-celebrate-progress", "mi-autonomy", "mi-summaries")
    observe(coach, ready_learner, days_ago=4, miss=weak)
    assert not DriftAlert.objects.filter(kind="below_band").exists(), "(100 + 100 + 52.4) / 3 is still high"
    observe(coach, ready_learner, days_ago=3, miss=weak)
    alert = DriftAlert.objects.get(kind="below_band")
    assert alert.details == {"rolling": 68.3, "n": 3, "band": "borderline", "adequate": 75}


def test_alert_list_query_budget(client, policy, lead, coach, course_key, observe):
    for i in range(12):
        learner = make_user(f"d{i:02d}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=9, miss=("mi-summaries",))
        observe(coach, learner, days_ago=3, miss=("mi-summaries",))
    client.force_login(coach)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("alerts"))
    assert response.status_code == 200 and response.content.decode().count("mi-summaries") == 0
    assert "12 open alerts" in response.content.decode()
    assert len(data_queries(queries)) <= 8, data_queries(queries)


def co_rate(coach_a, coach_b, learner, indicators, course_key, misses_b=(), reference=False):
    """Coach A drafts a session, coach B co-rates it blind; both submit."""
    day = timezone.now().date().isoformat()
    draft = api.save_observation(coach_a, learner, course_key, {"practice_date": day, "setting": "home_visit",
                                                                 "ratings": ratings_for(indicators)}).observation
    data = {"co_observation_of": draft.pk, "ratings": ratings_for(indicators, miss=misses_b), "practice_date": day,
            "setting": "home_visit", "is_reference": reference}
    second = api.save_observation(coach_b, learner, course_key, data).observation
    return draft, second


def test_blind_co_rating_and_agreement(assigned, coach, coach2, lead, indicators, course_key):
    primary, second = co_rate(coach, coach2, assigned, indicators, course_key, misses_b=("mi-summaries", "mi-affirmations"))
    assert second.co_observation_of_id == primary.id and second.practice_date == primary.practice_date
    assert primary.pk not in [o.pk for o in observations_for(coach2, assigned, course_key, include_drafts=True)]
    assert second.pk not in [o.pk for o in observations_for(coach, assigned, course_key, include_drafts=True)]
    full = {"practice_date": primary.practice_date.isoformat(), "setting": "home_visit",
            "ratings": ratings_for(indicators, miss=("mi-summaries", "mi-affirmations"))}
    api.save_observation(coach2, assigned, course_key, {**full, "revision": second.revision}, observation_id=second.pk,
                         submit=True)
    assert primary.pk not in [o.pk for o in observations_for(coach2, assigned, course_key)], \
        "still hidden: the first observer has not submitted"
    api.save_observation(coach, assigned, course_key, {**full, "ratings": ratings_for(indicators),
                                                       "revision": primary.revision},
                         observation_id=primary.pk, submit=True)
    assert primary.pk in [o.pk for o in observations_for(coach2, assigned, course_key)]
    assert second.pk not in [o.pk for o in observations_for(assigned, assigned, course_key)], \
        "learners see primary observations only"
    assert LearnerStatus.objects.get(learner=assigned).qualifying_count == 1, "the co-rating does not count twice"
    report = api.reliability_report(lead, course_key)
    pair = report["pairs"][0]["agreement"]
    # 21 indicators, 1 N/A both times (trans? no: ratings_for marks none N/A) -> 21 items, 2 disagreements.
    assert (pair.n, pair.agreed, pair.na_excluded) == (21, 19, 0)
    coaches = {row["coach"]: row for row in report["coaches"]}
    assert coaches["coach"]["leniency"] == pytest.approx(100.0 - round(100 * 19 / 21, 1), abs=0.1)
    with pytest.raises(api.PermissionDenied):
        api.reliability_report(coach, course_key)


def test_co_rating_rules(assigned, coach, coach2, indicators, course_key, observe):
    submitted = observe(coach, assigned, days_ago=2)
    with pytest.raises(api.ValidationError) as caught:
        api.save_observation(coach2, assigned, course_key, {"co_observation_of": submitted.pk,
                                                            "ratings": ratings_for(indicators)})
    assert "still a draft" in caught.value.message_dict["co_observation_of"][0]
    draft = api.save_observation(coach, assigned, course_key, {"practice_date": "2026-01-02", "setting": "home_visit",
                                                               "ratings": {}}).observation
    with pytest.raises(api.ValidationError):
        api.save_observation(coach, assigned, course_key, {"co_observation_of": draft.pk, "ratings": {}})
    with pytest.raises(api.ValidationError) as caught:
        api.save_observation(coach2, assigned, course_key, {"co_observation_of": draft.pk, "is_reference": True,
                                                            "ratings": {}})
    assert "is_reference" in caught.value.message_dict


def test_calibration_gates_which_observations_count(assigned, coach, coach2, lead, indicators, course_key, observe):
    for days in (30, 20, 10):
        observe(coach, assigned, days_ago=days)
    api.save_policy(lead, course_key, require_calibration=True, calibration_threshold=90)
    decision = api.reevaluate(assigned, course_key)
    assert not decision.evidence_met and len(decision.qualifying) == 0
    assert any(r.code == "observer_not_calibrated" for r in decision.reasons)
    # The lead's reference rating of one of the coach's sessions: 20 of 21 items agree (95%).
    session = Observation.objects.filter(observer=coach).first()
    reference = api.save_observation(lead, assigned, course_key, {
        "co_observation_of": session.pk, "is_reference": True, "ratings": ratings_for(indicators, miss=("mi-summaries",))},
        submit=True).observation
    assert reference.is_reference
    decision = api.reevaluate(assigned, course_key)
    assert decision.evidence_met and len(decision.qualifying) == 3
    report = api.reliability_report(lead, course_key)
    assert report["calibration"][0]["agreement"].percent == pytest.approx(95.2)


def test_recertification_needs_fresh_evidence_near_expiry(ready_learner, coach, course_key, observe,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.sign_off(coach, ready_learner, course_key)
    assert api.sign_off(coach, ready_learner, course_key).id == first.id, "not near expiry: nothing changes"
    # Certified 40 days ago (on the observation of 50 days ago and two later), expiring in 20 days.
    Certification.objects.update(issued_at=timezone.now() - timedelta(days=40),
                                 expires_at=timezone.now() + timedelta(days=20))
    with pytest.raises(api.ValidationError) as caught:
        api.sign_off(coach, ready_learner, course_key)
    assert "2 of 3 qualifying observations" in caught.value.message_dict["evidence"][0], "only fresh ones count"
    observe(coach, ready_learner, days_ago=3)
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key, reason="Recertified on fresh observations.")
    assert Certification.objects.count() == 2
    assert api.certification_status(ready_learner, ready_learner, course_key).expires_at > timezone.now() + timedelta(days=600)


def test_expiry_task_marks_status_and_emits_once(ready_learner, coach, course_key, client, lead,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    expires_at = timezone.now() + timedelta(days=25)  # as if issued long ago (the status row keeps a copy)
    Certification.objects.update(expires_at=expires_at)
    LearnerStatus.objects.update(certified_until=expires_at)
    client.force_login(lead)
    page = client.get(url("workspace")).content.decode()
    assert "1 within 30 days" in page
    assert "learner" in client.get(url("workspace"), {"state": "expiring_30"}).content.decode()
    Certification.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_certifications.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_certifications.apply().get() == 0
    assert LearnerStatus.objects.get(learner=ready_learner).state == "expired"
    assert len(events("certification.expired")) == 1


def test_events_carry_ids_not_text(ready_learner, coach, course_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key, reason="Private reasoning text")
        api.revoke(coach, ready_learner, course_key, "Another private reason")
    approved, issued, revoked = events("competency.approved"), events("certification.issued"), events(
        "competency.revoked")
    assert approved[0]["user_id"] == ready_learner.pk and approved[0]["level"] == "coach"
    assert issued[0]["certification_id"] and revoked[0]["actor_id"] == coach.pk
    everything = str([e.data for e in TrackingEvent.objects.all()])
    assert "Private reasoning" not in everything and "private reason" not in everything
    assert len(events("observation.submitted")) == 0, "observed before callbacks were captured"


def test_leader_view_suppresses_small_cells(client, policy, lead, coach, course_key, observe):
    for i in range(7):
        learner = make_user(f"g{i}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=40)
        if i < 3:
            observe(coach, learner, days_ago=5, miss=("mi-summaries",))
    view = api.leader_view(lead, course_key)
    pipeline = {row["state"]: row for row in view["pipeline"]}
    assert pipeline["in_progress"]["value"] == 7
    assert pipeline["ready"]["value"] == 0 and not pipeline["ready"]["suppressed"]  # 0 singles no one out
    high = next(row for row in view["distribution"] if row["band"] == "high")
    assert high["value"] == 7
    dosage = {row["observations"]: row for row in view["dosage"]}
    assert dosage["1"]["suppressed"] is True and dosage["2–3"]["suppressed"] is True  # 4 and 3 learners
    rates = {row["indicator"].key: row for row in view["indicators"]["indicators"]}
    assert rates["mi-summaries"]["value"] == pytest.approx(70.0) and rates["mi-summaries"]["learners"] == 7
    client.force_login(lead)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("leaders"))
    assert page.status_code == 200 and "suppressed (1 to 4 learners)" in page.content.decode()
    assert len(data_queries(queries)) <= 18, data_queries(queries)  # fixed; tests/test_leader_view.py: no growth
    client.force_login(coach)
    assert client.get(url("leaders")).status_code == 403


def test_exports_stream_and_guard_formulas(client, assigned, coach, lead, course_key, indicators):
    api.save_observation(coach, assigned, course_key, {
        "practice_date": "2026-02-01", "setting": "home_visit", "overall_note": "=HYPERLINK(\"http://x\")",
        "ratings": {**ratings_for(indicators), "mi-summaries": {"level": "partly", "next_step": "+cmd|' /C calc'!A0"}},
    }, submit=True)
    client.force_login(lead)
    for kind in ("learners", "observations", "ratings", "signoffs", "certifications"):
        response = client.get(url("export", kind))
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert rows[0][0].endswith("_id")
        if kind == "observations":
            assert rows[1][rows[0].index("overall_note")] == "'=HYPERLINK(\"http://x\")"
            assert rows[1][rows[0].index("learner_username")] == "learner"
            assert "email" not in ",".join(rows[0])
        if kind == "ratings":
            assert any(row[-1] == "'+cmd|' /C calc'!A0" for row in rows[1:])
    assert client.get(url("export", "passwords")).status_code == 404
    client.force_login(coach)
    assert client.get(url("export", "observations")).status_code == 403


def test_learners_export_shows_each_status_as_the_lists_do(ready_learner, learner, coach, lead, course_key,
                                                           django_capture_on_commit_callbacks):
    from miiwrap_fidelity.records import exports  # pylint: disable=import-outside-toplevel

    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    other = make_user("waiting_one")
    assign_coach(lead, course_key, coach, other)
    rows = list(csv.reader(io.StringIO("".join(exports.rows("learners", course_key)).lstrip("\ufeff"))))
    header, by_name = rows[0], {row[1]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert header[:3] == ["learner_id", "learner_username", "status"]
    assert by_name["learner"]["status"] == "certified" and by_name["learner"]["certification_expires_at"]
    assert by_name["waiting_one"] == {**by_name["waiting_one"], "status": "not_started", "qualifying_observations": "0",
                                      "required_observations": "3", "next_requirement": "observations_short"}
    lapsed = timezone.now() - timedelta(days=1)  # as if issued long ago (the status row keeps a copy)
    Certification.objects.update(expires_at=lapsed)
    LearnerStatus.objects.filter(certification__isnull=False).update(certified_until=lapsed)
    rows = list(csv.reader(io.StringIO("".join(exports.rows("learners", course_key)))))
    assert {row[1]: row[2] for row in rows[1:]}["learner"] == "expired", "lapsed, before the expiry task ran"


@pytest.mark.parametrize("chunk", [1, 2, 5, 1000])
def test_exports_read_every_row_once_in_key_ranges(ready_learner, coach, course_key, monkeypatch, chunk):
    from miiwrap_fidelity.records import exports  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(exports, "CHUNK", chunk)
    sessions = max(1, chunk // exports.RATINGS_PER_OBSERVATION)  # observations per chunk of ratings
    for kind, expected, reads in (("observations", 3, 3 // chunk + 1 + -(-3 // chunk)),
                                  ("ratings", 3 * 21, 3 // sessions + 1 + 2 * -(-3 // sessions) + 1)):
        with CaptureQueriesContext(connection) as queries:
            lines = list(exports.rows(kind, course_key))
        ids = [line.split(",")[0] for line in lines[1:]]
        assert len(lines) - 1 == expected and (kind == "ratings" or len(set(ids)) == expected)
        # one query per chunk and one that finds the end, and the usernames of each chunk; ratings:
        # that for their observations, one query for the ratings of each chunk of observations and
        # its usernames, and one for the indicators' names
        assert len(queries) == reads


def test_policy_change_reevaluates_every_learner_with_progress(policy, lead, coach, course_key, observe,
                                                              django_capture_on_commit_callbacks, monkeypatch):
    learners = [make_user(f"r{i}") for i in range(3)]
    for learner in learners:
        assign_coach(lead, course_key, coach, learner)
        for days in (30, 20):
            observe(coach, learner, days_ago=days)
    assert set(LearnerStatus.objects.values_list("state", flat=True)) == {"in_progress"}
    progress = []
    monkeypatch.setattr(tasks.reevaluate_course, "update_state",
                        lambda state, meta: progress.append((state, meta)))
    with django_capture_on_commit_callbacks(execute=True):
        api.save_policy(lead, course_key, requirement_sets=one_set(policy.instrument_version_id, min_observations=2))
    assert set(LearnerStatus.objects.values_list("state", flat=True)) == {"ready"}
    assert progress[-1] == ("PROGRESS", {"done": 3, "total": 3})
    before = list(LearnerStatus.objects.order_by("pk").values_list("state", "qualifying_count", "reasons"))
    assert tasks.reevaluate_course.apply(args=[COURSE]).get() == 3
    assert list(LearnerStatus.objects.order_by("pk").values_list("state", "qualifying_count", "reasons")) == before
