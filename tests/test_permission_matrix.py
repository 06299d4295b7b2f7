"""
Who may see and do what, over every page and endpoint: individual fidelity data is visible only to
the learner, their coaches and course staff; everyone else is refused.
"""
import json

import pytest
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment, Observation, SignOff
from sandbox.enrollment import enroll
from sandbox.models import CourseRole

from conftest import COURSE, OTHER_COURSE, assign_coach, make_user, ratings_for
from xblock_support import SIGNOFF, handler_url

pytestmark = pytest.mark.django_db
API = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
ROLES = ["anonymous", "self", "other_learner", "coach", "other_course_coach", "unassigned_coach", "staff",
         "second_coach"]


@pytest.fixture
def people(assigned, coach, coach2, lead, course_key, observe):
    observe(coach, assigned, days_ago=3)
    other_course_coach = make_user("occ")
    CourseRole.objects.create(course_key=api.parse_course_key(OTHER_COURSE), user=lead, role="staff")
    assign_coach(lead, OTHER_COURSE, other_course_coach, assigned)
    unassigned_coach = make_user("uc")
    assign_coach(lead, course_key, unassigned_coach, make_user("someone_else"))
    other = make_user("other")
    enroll(other, course_key)  # a learner of the course, not of these coaches
    return {"anonymous": None, "self": assigned, "other_learner": other, "coach": coach,
            "other_course_coach": other_course_coach, "unassigned_coach": unassigned_coach, "staff": lead,
            "second_coach": coach2}  # also assigned to "self"


def as_(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])
    return client


def page(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


PAGES = {
    # name: expected status per role, in ROLES order (302 = sent to sign in)
    "workspace": [302, 403, 403, 200, 403, 200, 200, 200],
    "learner_detail": [302, 403, 403, 200, 403, 403, 200, 200],
    "assignments": [302, 403, 403, 403, 403, 403, 200, 403],
    "policy": [302, 403, 403, 403, 403, 403, 200, 403],
    "my_competency": [302, 200, 200, 200, 200, 200, 200, 200],
}


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_pages(client, people, name, role):
    args = [people["self"].pk] if name == "learner_detail" else []
    response = as_(client, people, role).get(page(name, *args))
    assert response.status_code == PAGES[name][ROLES.index(role)]
    if name == "workspace" and role == "unassigned_coach":
        body = response.content.decode()
        assert f"/learners/{people['self'].pk}/" not in body and "someone_else" in body, "only their own learners"


@pytest.mark.parametrize("role", ROLES)
def test_page_actions(client, people, role, indicators):
    learner = people["self"]
    expected = {"anonymous": 302, "coach": 400, "staff": 400, "second_coach": 400}.get(role, 403)
    client = as_(client, people, role)
    # Deliberately incomplete submissions: allowed people get a 400 with messages, others 403.
    assert client.post(page("record_observation", learner.pk), {"action": "submit"}).status_code == expected
    assert client.post(page("decide_competency", learner.pk), {"action": "revoke", "reason": "x"}
                       ).status_code == expected


READS = {
    # path (learner-specific reads use ?learner=<assigned>): statuses per role in ROLES order;
    # 401 = not signed in (the API offers JWT and session authentication)
    "learners/": [401, 403, 403, 200, 403, 200, 200, 200],
    "learners/{id}/": [401, 200, 403, 200, 403, 403, 200, 200],
    "observations/?learner={id}": [401, 200, 403, 200, 403, 403, 200, 200],
    "reflections/?learner={id}": [401, 200, 403, 200, 403, 403, 200, 200],
    "signoffs/?learner={id}": [401, 200, 403, 200, 403, 403, 200, 200],
    "certifications/?learner={id}": [401, 200, 403, 200, 403, 403, 200, 200],
    "policy/": [401, 200, 200, 200, 200, 200, 200, 200],
    "policy/reevaluation/": [401, 403, 403, 403, 403, 403, 200, 403],
    "coach-assignments/": [401, 200, 200, 200, 200, 200, 200, 200],
}


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("role", ROLES)
def test_api_reads(client, people, path, role):
    response = as_(client, people, role).get(f"{API}/{path.format(id=people['self'].pk)}")
    expected = READS[path][ROLES.index(role)]
    assert response.status_code == expected, response.content
    if path == "coach-assignments/" and role in ("self", "other_learner"):
        assert response.json()["count"] == 0
    if path == "learners/" and role == "unassigned_coach":
        assert people["self"].pk not in [row["learner"]["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("role", ROLES)
def test_api_writes(client, people, role, indicators, version):
    learner, client = people["self"], as_(client, people, role)
    allowed_coach = role in ("coach", "staff", "second_coach")
    refused = 401 if role == "anonymous" else 403

    def post(path, data, method="post"):
        return getattr(client, method)(f"{API}/{path}", json.dumps(data), content_type="application/json")

    observation = post("observations/", {"learner": learner.pk, "practice_date": "2026-01-10",
                                         "setting": "supervision", "ratings": ratings_for(indicators)})
    assert observation.status_code == (201 if allowed_coach else refused)
    revoke = post("signoffs/", {"learner": learner.pk, "action": "revoke", "reason": "x"})
    assert revoke.status_code == (400 if allowed_coach else refused)
    # a policy's old single-set fields too: refused for their author's lack of a role first (issue 25)
    for body in ({"validity_months": 12}, {"min_observations": 4}):
        policy = post("policy/", body, method="patch")
        assert policy.status_code == ((200 if "validity_months" in body else 400) if role == "staff" else refused)
    preview = post("policy/preview/", {"validity_months": 6})
    assert preview.status_code == (200 if role == "staff" else refused)
    assignment = post("coach-assignments/", {"coach": people["coach"].username, "learner": "other"})
    assert assignment.status_code == (201 if role == "staff" else refused)


DRAFT_ACTIONS = {
    # the first coach's draft: only its observer reads, edits or submits it (pages, block, REST);
    # statuses per role in ROLES order. To everyone else REST says it does not exist.
    "rest_read": [401, 404, 404, 200, 404, 404, 404, 404],
    "rest_patch": [401, 404, 404, 200, 404, 404, 404, 404],
    "page_edit": [302, 403, 403, 302, 403, 403, 403, 403],
    "block_edit": [403, 403, 403, 200, 403, 403, 403, 403],
}


@pytest.mark.parametrize("action", DRAFT_ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_a_draft_is_its_observers_alone(client, workbench, people, role, action, course_key, indicators):
    learner = people["self"]
    draft = api.save_observation(people["coach"], learner, course_key, {
        "practice_date": "2026-01-10", "setting": "supervision", "ratings": ratings_for(indicators)}).observation
    client = as_(client, people, role)
    edit = {"practice_date": "2026-01-10", "setting": "home_visit", "revision": draft.revision,
            "overall_note": f"by {role}"}
    if action == "rest_read":
        response = client.get(f"{API}/observations/{draft.pk}/")
    elif action == "rest_patch":
        response = client.patch(f"{API}/observations/{draft.pk}/", json.dumps(edit), content_type="application/json")
    elif action == "page_edit":
        response = client.post(page("record_observation", learner.pk), {**edit, "observation_id": draft.pk})
    else:
        response = client.post(handler_url(SIGNOFF, "record_observation"), json.dumps(
            {**edit, "learner_id": learner.pk, "observation_id": draft.pk}), content_type="application/json")
    assert response.status_code == DRAFT_ACTIONS[action][ROLES.index(role)]
    saved = Observation.objects.get(pk=draft.pk)
    assert saved.observer == people["coach"]
    assert (saved.overall_note == "by coach") == (role == "coach" and action != "rest_read")


PLAN_ENDPOINTS = {
    # the coaching loop (issue 31) after the learner's observation: (method, path, body), statuses per
    # role in ROLES order; a follow-up before the next observation is the allowed people's 400
    "current": ("get", "plans/current/?learner={learner}", None, [401, 200, 403, 200, 403, 403, 200, 200]),
    "suggestions": ("get", "observations/{observation}/focus-suggestions/", None,
                    [401, 403, 403, 200, 403, 403, 200, 200]),
    "plan": ("post", "observations/{observation}/plan/", {"focus": [{"indicator": "mi-summaries", "step": "Sum up."}]},
             [401, 403, 403, 200, 403, 403, 200, 200]),
    "note": ("post", "plans/{plan}/note/", {"note": "My own note."}, [401, 200, 403, 403, 403, 403, 403, 403]),
    "follow_up": ("post", "plans/{plan}/follow-up/", {"indicator": "mi-summaries", "outcome": "held"},
                  [401, 403, 403, 400, 403, 403, 400, 400]),
}


def plan_path(people, path):
    observation = Observation.objects.get(learner=people["self"])
    plan = api.save_plan(people["coach"], observation.pk, [{"indicator": "mi-summaries", "step": "Sum up."}])
    return path.format(learner=people["self"].pk, observation=observation.pk, plan=plan.id)


@pytest.mark.parametrize("name", PLAN_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_plan_endpoints(client, people, name, role):
    method, path, body, expected = PLAN_ENDPOINTS[name]
    client = as_(client, people, role)
    url = f"{API}/{plan_path(people, path)}"
    response = client.get(url) if method == "get" else client.post(url, json.dumps(body),
                                                                   content_type="application/json")
    assert response.status_code == expected[ROLES.index(role)], response.content


@pytest.mark.parametrize("name", PLAN_ENDPOINTS)
def test_plan_endpoints_refuse_a_restricted_token(client, people, name):
    method, path, body, _expected = PLAN_ENDPOINTS[name]
    person = people["self"] if name in ("current", "note") else people["coach"]
    url = f"{API}/{plan_path(people, path)}"
    response = client.get(url, **restricted(person)) if method == "get" else client.post(
        url, json.dumps(body), content_type="application/json", **restricted(person))
    assert response.status_code == 403, response.content


def restricted(user):
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt  # pylint: disable=all

    return {"HTTP_AUTHORIZATION": f"JWT {generate_jwt(user, scopes=['email'], is_restricted=True)}"}


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("role", ["self", "coach", "staff"])
def test_api_reads_refuse_a_restricted_token(client, people, path, role):
    """A restricted application's token (client credentials, scopes ["email"]) reads nothing, whoever it names."""
    response = client.get(f"{API}/{path.format(id=people['self'].pk)}", **restricted(people[role]))
    assert response.status_code == 403, response.content


@pytest.mark.parametrize("role", ["coach", "staff"])
def test_api_writes_refuse_a_restricted_token(client, people, role, indicators):
    auth, learner = restricted(people[role]), people["self"]
    before = (Observation.objects.count(), SignOff.objects.count(), CoachAssignment.objects.count())

    def send(path, data, method="post"):
        return getattr(client, method)(f"{API}/{path}", json.dumps(data), content_type="application/json", **auth)

    assert send("observations/", {"learner": learner.pk, "practice_date": "2026-01-10", "setting": "supervision",
                                  "ratings": ratings_for(indicators)}).status_code == 403
    assert send("signoffs/", {"learner": learner.pk, "action": "revoke", "reason": "x"}).status_code == 403
    assert send("policy/", {"validity_months": 4}, method="patch").status_code == 403
    assert send("policy/preview/", {"validity_months": 4}).status_code == 403
    assert send("coach-assignments/", {"coach": people["coach"].username, "learner": "other"}).status_code == 403
    assert (Observation.objects.count(), SignOff.objects.count(), CoachAssignment.objects.count()) == before
