"""
Issue 25's co-rating findings, reproduced first:

- "REST drops ``co_observation_of`` without an error: a REST co-rating becomes an ordinary
  observation that counts as evidence." REST now honours it (a co-rating, never evidence) and
  refuses what the api refuses (400 on the field).
- "The api accepts a co-rating on a different instrument from the session (a MITI session co-rated
  on the wraparound rubric), and the rater agreement page then shows that pair with n = 0." A
  co-rating now takes the session's instrument version, and naming another is refused, for every
  entry point (page, XBlock and REST all go through ``api.save_observation``).
- A draft's session cannot be changed by an edit (refused, not ignored).
"""
import json

import pytest
from django.utils import timezone
from test_instrument_choice import load  # the second instrument of a policy

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import LearnerStatus, Observation

from conftest import COURSE, ratings_for

pytestmark = pytest.mark.django_db
BASE = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
TEAM = api.SAMPLE_INSTRUMENTS[2]


def send(client, method, path, body):
    return getattr(client, method)(f"{BASE}/{path}", json.dumps(body), content_type="application/json")


def session(coach, learner, course_key, indicators, **data):
    """A primary observation left as a draft (co-raters rate blind while it is open)."""
    return api.save_observation(coach, learner, course_key, {
        "practice_date": timezone.now().date().isoformat(), "setting": "home_visit", "overall_note": "",
        "ratings": ratings_for(indicators), **data}).observation


def body(learner, indicators, **extra):
    return {"learner": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "ratings": ratings_for(indicators), "submit": True, **extra}


def test_a_rest_co_rating_is_a_co_rating_not_evidence(client, assigned, coach, coach2, course_key, indicators):
    primary = session(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    response = send(client, "post", "observations/", body(assigned, indicators, co_observation_of=primary.pk))
    assert response.status_code == 201, response.content
    made = Observation.objects.get(pk=response.json()["id"])
    assert made.co_observation_of_id == primary.pk
    assert response.json()["co_observation_of"] == primary.pk
    assert LearnerStatus.objects.get(learner=assigned).qualifying_count == 0, "a co-rating is never evidence"


@pytest.mark.parametrize("target, field", [(10**6, "co_observation_of"), ("x", "co_observation_of"),
                                           (-1, "co_observation_of")])
def test_a_rest_co_rating_of_no_session_is_a_400(client, assigned, coach2, indicators, target, field):
    client.force_login(coach2)
    response = send(client, "post", "observations/", body(assigned, indicators, co_observation_of=target))
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Observation.objects.exists()


def test_a_rest_reference_rating_needs_course_staff(client, assigned, coach, coach2, course_key, indicators):
    primary = session(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    response = send(client, "post", "observations/",
                    body(assigned, indicators, co_observation_of=primary.pk, is_reference=True))
    assert response.status_code == 400 and "is_reference" in response.json()


def test_a_co_rating_takes_the_sessions_instrument(assigned, lead, coach, coach2, course_key, version, indicators):
    team_version = load(TEAM)
    api.save_policy(lead, course_key, requirement_sets=[
        {"instrument_version": team_version.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 270, "conditions": [{"measure": "percent", "op": ">=", "value": 70}]},
        {"instrument_version": version.pk, "setting": "home_visit", "min_observations": 2, "window_days": 270,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}]},
    ])
    primary = session(coach, assigned, course_key, indicators, instrument_version=version.pk)
    with pytest.raises(api.ValidationError) as refused:
        api.save_observation(coach2, assigned, course_key, {
            "practice_date": timezone.now().date().isoformat(), "setting": "home_visit", "ratings": {},
            "co_observation_of": primary.pk, "instrument_version": team_version.pk})
    assert "instrument_version" in refused.value.message_dict
    # Without a version named, the session's (not the policy's first, the team-meeting rubric).
    co_rating = api.save_observation(coach2, assigned, course_key, {
        "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
        "ratings": ratings_for(indicators), "co_observation_of": primary.pk}, submit=True).observation
    assert Observation.objects.get(pk=co_rating.pk).instrument_version_id == version.pk


def test_an_edit_cannot_move_a_draft_to_another_session(client, assigned, coach, coach2, course_key, indicators):
    primary = session(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    draft = send(client, "post", "observations/",
                 {**body(assigned, indicators, co_observation_of=primary.pk), "submit": False}).json()
    own = send(client, "post", "observations/", {**body(assigned, indicators), "submit": False}).json()
    for observation, target in ((draft, None), (draft, own["id"]), (own, primary.pk)):
        payload = {**body(assigned, indicators), "submit": False, "revision": observation["revision"],
                   "co_observation_of": target}
        payload.pop("learner")
        response = send(client, "patch", f"observations/{observation['id']}/", payload)
        assert response.status_code == 400 and "co_observation_of" in response.json(), (target, response.content)
    unchanged = {**body(assigned, indicators), "submit": False, "revision": draft["revision"],
                 "co_observation_of": primary.pk}
    unchanged.pop("learner")
    assert send(client, "patch", f"observations/{draft['id']}/", unchanged).status_code == 200
    assert Observation.objects.get(pk=draft["id"]).co_observation_of_id == primary.pk
