"""REST API v1: every endpoint, bad input on every write, JWT, schema and the learners' query budget."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment, CompetencyPolicy, Observation, SignOff
from miiwrap_fidelity.rules import competency
from sandbox.enrollment import enroll

from conftest import COURSE, assign_coach, data_queries, make_user, ratings_for

pytestmark = pytest.mark.django_db
BASE = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"


def get(client, path, **params):
    return client.get(f"{BASE}/{path}", params)


def send(client, method, path, data):
    body = data if isinstance(data, str) else json.dumps(data)
    return getattr(client, method)(f"{BASE}/{path}", body, content_type="application/json")


def observation_payload(learner, indicators, **extra):
    return {"learner": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "overall_note": "Solid session.", "ratings": ratings_for(indicators), **extra}


def test_coach_workflow_through_the_api(client, ready_learner, coach, indicators, django_capture_on_commit_callbacks):
    client.force_login(coach)
    rows = get(client, "learners/").json()
    assert rows["count"] == 1 and rows["results"][0]["state"] == "ready"
    assert rows["results"][0]["next_requirement"] == "Waiting for a coach's sign-off.", "worded for the coach"
    detail = get(client, f"learners/{ready_learner.pk}/").json()
    assert [reason["message"] for reason in detail["reasons"]] == ["Waiting for a coach's sign-off."]
    client.force_login(ready_learner)
    detail = get(client, f"learners/{ready_learner.pk}/").json()
    assert detail["next_requirement"] == "Your coach has not signed off your competency yet.", "worded for the learner"
    assert detail["reasons"] == [{"code": "coach_signoff_missing", "params": {},
                                  "message": "Your coach has not signed off your competency yet."}]
    client.force_login(coach)
    created = send(client, "post", "observations/", observation_payload(ready_learner, indicators))
    assert created.status_code == 201 and created.json()["status"] == "draft"
    draft = created.json()
    updated = send(client, "patch", f"observations/{draft['id']}/",
                   {**observation_payload(ready_learner, indicators), "revision": draft["revision"], "submit": True})
    assert updated.status_code == 200 and updated.json()["status"] == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        approved = send(client, "post", "signoffs/", {"learner": ready_learner.pk, "action": "approve",
                                                      "reason": "At fidelity."})
    assert approved.status_code == 201 and approved.json()["action"] == "approve"
    detail = get(client, f"learners/{ready_learner.pk}/").json()
    assert detail["state"] == "certified" and detail["certification"]["active"] is True
    certs = get(client, "certifications/", learner=ready_learner.pk).json()
    assert certs["count"] == 1
    assert get(client, "observations/", learner=ready_learner.pk).json()["count"] == 4


def test_learner_reads_only_their_own_records(client, ready_learner, coach, stranger):
    client.force_login(ready_learner)
    assert get(client, "observations/").json()["count"] == 3
    assert get(client, "signoffs/").json()["count"] == 0
    assert get(client, f"learners/{ready_learner.pk}/").status_code == 200
    assert get(client, "learners/").status_code == 403
    assert get(client, "observations/", learner=coach.pk).status_code == 403
    client.force_login(stranger)
    for path in ("observations/", "reflections/", "signoffs/", "certifications/"):
        assert get(client, path, learner=ready_learner.pk).status_code == 403, path
    assert get(client, f"learners/{ready_learner.pk}/").status_code == 403


def test_staff_assign_and_unassign_coaches(client, policy, lead, coach, learner, course_key):
    client.force_login(lead)
    stranger = make_user("stranger_x")
    refused = send(client, "post", "coach-assignments/", {"coach": coach.username, "learner": stranger.username})
    assert refused.status_code == 400 and refused.json() == {"learner": ["This learner is not enrolled in this course."]}
    enroll(learner, course_key)
    created = send(client, "post", "coach-assignments/", {"coach": coach.username, "learner": learner.username})
    assert created.status_code == 201
    assert get(client, "coach-assignments/").json()["count"] == 1
    assert get(client, "learners/").json()["results"][0]["state"] == "not_started"
    assert client.delete(f"{BASE}/coach-assignments/{created.json()['id']}/").status_code == 204
    assert CoachAssignment.objects.count() == 0
    assert client.delete(f"{BASE}/coach-assignments/99999/").status_code == 400


def test_csv_upload_is_all_or_nothing_with_a_row_report(client, policy, lead, coach, learner, course_key):
    client.force_login(lead)
    other = make_user("learner_two")
    for person in (learner, other):
        enroll(person, course_key)
    url = f"{BASE}/coach-assignments/upload/"
    bad = SimpleUploadedFile("a.csv", f"coach,learner\n{coach.username},{learner.username}\nghost,{other.username}\n"
                             f"{coach.username},{coach.username}\n".encode())
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    rows = response.json()["rows"]
    assert [r["status"] for r in rows] == ["pending", "error", "error"] and rows[1]["row"] == 3
    assert "Unknown coach username." in rows[1]["errors"] and CoachAssignment.objects.count() == 0
    good = SimpleUploadedFile("b.csv", f"\ufeffCoach,Learner\n{coach.username},{learner.username}\n"
                              f"{coach.username},{other.username}\n".encode())
    response = client.post(url, {"file": good})
    assert response.status_code == 200 and response.json()["assigned"] == 2
    again = SimpleUploadedFile("c.csv", f"coach,learner\n{coach.username},{learner.username}\n".encode())
    assert client.post(url, {"file": again}).json()["rows"][0]["status"] == "unchanged"
    for content in (b"", b"who,what\nx,y\n", b"\xff\xfe\x00bad", b"coach,learner\n"):
        assert client.post(url, {"file": SimpleUploadedFile("d.csv", content)}).status_code == 400
    assert client.post(url, {}).status_code == 400


def test_policy_get_and_update(client, policy, lead, coach, version):
    client.force_login(coach)
    assert get(client, "policy/").json()["requirement_sets"][0]["min_observations"] == 3
    assert send(client, "patch", "policy/", {"require_lead_signoff": True}).status_code == 403
    client.force_login(lead)
    response = send(client, "patch", "policy/", {"require_lead_signoff": True})
    assert response.status_code == 200 and response.json()["require_lead_signoff"] is True
    # One model of a policy (issue 25): the old single-set fields are refused by name, never ignored.
    refused = send(client, "patch", "policy/", {"min_observations": 2})
    assert refused.status_code == 400 and "requirement_sets" in refused.json()["min_observations"][0]
    assert "requirement_sets" in send(client, "put", "policy/", {"mode": "replace_grade"}).json()
    sets = [competency.simple_set(version.pk, min_observations=2).as_dict()]
    put = send(client, "put", "policy/", {"requirement_sets": sets, "mode": "replace_grade"})
    assert put.status_code == 200 and put.json()["instrument_version"] == version.pk
    assert CompetencyPolicy.objects.get().mode == "replace_grade"
    other = "/api/miiwrap-fidelity/v1/courses/course-v1:No+Policy+Here/policy/"
    assert client.get(other).status_code == 404


def test_instruments_are_listed_with_indicators(client, version, learner):
    client.force_login(learner)
    listing = client.get("/api/miiwrap-fidelity/v1/instruments/").json()
    assert listing["count"] == 1 and listing["results"][0]["instrument"] == "miiwrap-core"
    detail = client.get(f"/api/miiwrap-fidelity/v1/instruments/{version.pk}/").json()
    assert len(detail["indicators"]) == 21 and detail["indicators"][0]["levels"][0]["anchor"]
    assert client.get("/api/miiwrap-fidelity/v1/instruments/999/").status_code == 404


def test_reflection_comments_through_the_api(client, assigned, coach, course_key):
    exercise = {"title": "T", "prompts": [{"id": "p1", "text": "Q?", "indicators": []}], "min_length": 5}
    reflection = api.save_reflection(assigned, course_key, "block-1", exercise, {"p1": "My answer"}, submit=True)
    client.force_login(coach)
    assert get(client, "reflections/", learner=assigned.pk).json()["count"] == 1
    response = send(client, "post", f"reflections/{reflection.pk}/comments/", {"text": "Great insight."})
    assert response.status_code == 201 and response.json()["comments"][0]["text"] == "Great insight."
    assert send(client, "post", f"reflections/{reflection.pk}/comments/", {"text": ""}).status_code == 400
    assert send(client, "post", "reflections/424242/comments/", {"text": "x"}).status_code == 404


BAD_OBSERVATIONS = [
    ("{broken json", None),
    ("[]", "non_field_errors"),
    ({}, "learner"),
    ({"learner": "abc"}, "learner"),
    ({"practice_date": "tomorrow-ish"}, "practice_date"),
    ({"practice_date": "2999-01-01"}, "practice_date"),
    ({"setting": "moon"}, "setting"),
    ({"overall_note": "x" * 4001}, "overall_note"),
    ({"overall_note": ["not", "text"]}, "overall_note"),
    ({"ratings": "all good"}, "ratings"),
    ({"ratings": {"mi-reflections": {"level": "x" * 40}}}, "ratings"),
    ({"ratings": {"mi-reflections": {"level": "met", "strength": "s" * 2001}}}, "ratings"),
    ({"ratings": {f"k{i}": {"level": "met"} for i in range(201)}}, "ratings"),
    ({"ratings": {"no-such": {"level": "met"}}}, "ratings.no-such"),
    ({"submit": "maybe"}, "submit"),
]


@pytest.mark.parametrize("overrides, field", BAD_OBSERVATIONS)
def test_bad_observation_input_is_a_400(client, assigned, coach, indicators, overrides, field):
    client.force_login(coach)
    body = overrides if isinstance(overrides, str) else {**observation_payload(assigned, indicators), **overrides}
    if overrides == {}:
        body = {}
    response = send(client, "post", "observations/", body)
    assert response.status_code == 400, response.content
    if field:
        assert field in response.json(), response.json()
    assert Observation.objects.count() == 0


@pytest.mark.parametrize("body, field", [
    ({}, "learner"), ({"learner": 1, "action": "bless"}, "action"), ({"learner": "x", "action": "approve"}, "learner"),
    ({"learner": 1, "action": "revoke", "reason": "r" * 2001}, "reason"), ({"learner": 1, "action": "approve",
                                                                            "level": "king"}, "level"),
    ("nope", None),
])
def test_bad_signoff_input_is_a_400(client, ready_learner, coach, body, field):
    client.force_login(coach)
    response = send(client, "post", "signoffs/", body)
    assert response.status_code == 400 and (field is None or field in response.json())
    assert SignOff.objects.count() == 0


@pytest.mark.parametrize("body, field", [
    ({"min_percent": 80}, "min_percent"), ({"window_days": 90}, "window_days"), ({"mode": "sometimes"}, "mode"),
    ({"instrument_version": 9999}, "instrument_version"), ({"enabled": "perhaps"}, "enabled"),
    ({"requirement_sets": [{"instrument_version": 9999, "min_observations": 1, "window_days": 30}]},
     "requirement_sets[0].instrument_version"), ({"requirement_sets": "[]"}, "requirement_sets"),
    ({"deadline_days": 99999}, "deadline_days"),
])
def test_bad_policy_input_is_a_400(client, policy, lead, body, field):
    client.force_login(lead)
    response = send(client, "patch", "policy/", body)
    assert response.status_code == 400 and field in response.json()
    assert CompetencyPolicy.objects.get().requirement_sets[0]["conditions"][0]["value"] == 80


@pytest.mark.parametrize("body, field", [({}, "coach"), ({"coach": "x" * 151, "learner": "y"}, "coach"),
                                         ({"coach": "ghost", "learner": "learner"}, "coach"), ("[", None)])
def test_bad_assignment_input_is_a_400(client, policy, lead, learner, body, field):
    client.force_login(lead)
    response = send(client, "post", "coach-assignments/", body)
    assert response.status_code == 400 and (field is None or field in response.json())


def test_bad_course_id_and_query_parameters_are_400(client, lead, policy):
    client.force_login(lead)
    assert client.get("/api/miiwrap-fidelity/v1/courses/not-a-course/learners/").status_code == 400
    for params in ({"state": "asleep"}, {"ordering": "shoe_size"}, {"coach": "abc"}, {"search": "x" * 200}):
        assert get(client, "learners/", **params).status_code == 400, params
    assert get(client, "observations/", learner="abc").status_code == 400
    assert get(client, "observations/", learner="99999").status_code == 400
    assert get(client, "learners/", page=99).status_code == 400  # paged by cursor: follow "next"
    assert get(client, "learners/", cursor="not-ours").status_code == 400


def test_learners_filters_and_sorting(client, policy, lead, coach, coach2, course_key, observe, indicators):
    learners = [make_user(f"l{i:02d}") for i in range(6)]
    for index, learner in enumerate(learners):
        assign_coach(lead, course_key, coach if index % 2 else coach2, learner)
    for days in (30, 20, 10):
        observe(coach, learners[1], days_ago=days)
    observe(coach, learners[3], days_ago=2)
    client.force_login(lead)
    assert get(client, "learners/", state="ready").json()["results"][0]["learner"]["username"] == "l01"
    assert get(client, "learners/", state="in_progress").json()["count"] == 1
    assert get(client, "learners/", coach=coach.pk).json()["count"] == 3
    assert get(client, "learners/", search="l0").json()["count"] == 6
    names = [r["learner"]["username"] for r in get(client, "learners/", ordering="-username").json()["results"]]
    assert names == sorted(names, reverse=True)
    assert get(client, "learners/", ordering="-qualifying").json()["results"][0]["learner"]["username"] == "l01"
    client.force_login(coach)
    assert get(client, "learners/").json()["count"] == 3
    assert get(client, "learners/", coach=coach2.pk).status_code == 403


@pytest.mark.parametrize("count", [3, 40])
def test_learners_list_query_budget(client, policy, lead, coach, course_key, observe, count):
    for i in range(count):
        learner = make_user(f"q{i:03d}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=3)
    for user in (lead, coach):
        client.force_login(user)
        for page_size in (5, 100):
            with CaptureQueriesContext(connection) as queries:
                response = get(client, "learners/", page_size=page_size)
            assert response.status_code == 200 and len(response.json()["results"]) == min(page_size, count)
            assert len(data_queries(queries)) <= 5, data_queries(queries)


def test_jwt_authentication(client, ready_learner):
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt  # pylint: disable=all

    token = generate_jwt(ready_learner)
    response = client.get(f"{BASE}/observations/", HTTP_AUTHORIZATION=f"JWT {token}")
    assert response.status_code == 200 and response.json()["count"] == 3
    assert client.get(f"{BASE}/observations/", HTTP_AUTHORIZATION="JWT not-a-token").status_code == 401
    assert client.get(f"{BASE}/observations/").status_code in (401, 403)


def test_openapi_schema_is_published(client):
    schema = client.get("/api/miiwrap-fidelity/v1/schema/").json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/miiwrap-fidelity/v1/courses/{course_id}/learners/" in paths
    assert "post" in paths["/api/miiwrap-fidelity/v1/courses/{course_id}/signoffs/"]


@pytest.mark.parametrize("body, field", [
    ({"revision": "one"}, "revision"), ({"revision": None}, "revision"), ({"practice_date": 5}, "practice_date"),
    ({"ratings": [1, 2]}, "ratings"), ({"overall_note": "n" * 4001}, "overall_note"), ("}{", None),
])
def test_bad_observation_update_is_a_400(client, assigned, coach, indicators, body, field):
    client.force_login(coach)
    draft = send(client, "post", "observations/", observation_payload(assigned, indicators)).json()
    payload = body if isinstance(body, str) else {**observation_payload(assigned, indicators), "revision": draft["revision"],
                                                  **body}
    payload = payload if isinstance(payload, str) else {k: v for k, v in payload.items() if k != "learner"}
    response = send(client, "patch", f"observations/{draft['id']}/", payload)
    assert response.status_code == 400 and (field is None or field in response.json())
    assert Observation.objects.get().revision == draft["revision"]


def test_oversized_and_wrong_type_comment_is_a_400(client, assigned, coach, course_key):
    exercise = {"title": "T", "prompts": [{"id": "p1", "text": "Q?", "indicators": []}], "min_length": 1}
    reflection = api.save_reflection(assigned, course_key, "block-9", exercise, {"p1": "A"}, submit=True)
    client.force_login(coach)
    for body in ({"text": "x" * 2001}, {"text": ["x"]}, {}):
        assert send(client, "post", f"reflections/{reflection.pk}/comments/", body).status_code == 400


def test_openapi_schema_is_ours_whatever_the_platforms_generator_settings(client, monkeypatch):
    """The LMS has its own SPECTACULAR_SETTINGS (hooks, title): our schema does not take them."""
    from drf_spectacular.settings import spectacular_settings  # pylint: disable=import-outside-toplevel

    expected = client.get("/api/miiwrap-fidelity/v1/schema/").json()
    monkeypatch.setattr(spectacular_settings, "PREPROCESSING_HOOKS", [lambda endpoints, **kwargs: []])
    monkeypatch.setattr(spectacular_settings, "TITLE", "Open edX LMS")
    served = client.get("/api/miiwrap-fidelity/v1/schema/").json()
    assert served == expected and served["info"]["title"] == "miiwrap-fidelity API"
    assert len(served["paths"]) >= 20
    assert spectacular_settings.TITLE == "Open edX LMS", "the platform's own settings are left as they were"
