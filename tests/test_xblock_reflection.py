"""The reflection exercise in the workbench runtime: drafts, one submission, completion, coach comments."""
import pytest

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Reflection

from conftest import make_user
from xblock_support import REFLECTION, call, usage_id, view

pytestmark = pytest.mark.django_db
ANSWER = "I reflected the mother's worry before asking about goals, and she added her own idea."


def test_anonymous_sees_a_sign_in_message_and_cannot_save(client, workbench):
    assert "Sign in to write your reflection." in view(client, REFLECTION)
    status, body = call(client, REFLECTION, "save_draft", {"answers": {"p1": ANSWER}})
    assert status == 403 and Reflection.objects.count() == 0


def test_draft_is_restored_then_submitted_once(client, workbench, policy, learner, monkeypatch):
    published = []
    from workbench.runtime import WorkbenchRuntime  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(WorkbenchRuntime, "publish",
                        lambda self, block, event, data: published.append((event, data)))
    client.force_login(learner)
    status, body = call(client, REFLECTION, "save_draft", {"answers": {"p1": "First thoughts"}})
    assert status == 200 and body["status"] == "draft"
    assert "First thoughts" in view(client, REFLECTION), "the draft is restored on reload"
    assert published == [], "no completion for a draft"

    status, body = call(client, REFLECTION, "submit_reflection",
                        {"answers": {"p1": ANSWER}, "self_ratings": {"mi-reflections": "met"}})
    assert status == 200 and body["status"] == "submitted"
    assert published == [("completion", {"completion": 1.0})]
    reflection = Reflection.objects.get()
    assert reflection.answers == {"p1": ANSWER} and reflection.self_ratings == {"mi-reflections": "met"}
    page = view(client, REFLECTION)
    assert "<textarea" not in page and "Submitted" in page

    status, body = call(client, REFLECTION, "submit_reflection", {"answers": {"p1": ANSWER}})
    assert status == 400 and "already submitted" in body["errors"]["reflection"][0]
    assert Reflection.objects.count() == 1 and published == [("completion", {"completion": 1.0})]


@pytest.mark.parametrize("payload, field", [
    ({"answers": {"p1": ""}}, "answers.p1"),
    ({"answers": {"p1": "too short"}}, "answers.p1"),
    ({"answers": {"p1": "x" * 5001}}, "answers.p1"),
    ({"answers": {"p1": ANSWER, "p9": ANSWER}}, "answers.p9"),
    ({"answers": ["not", "a", "dict"]}, "answers"),
    ({"answers": {"p1": 42}}, "answers.p1"),
    ({"answers": {"p1": ANSWER}, "self_ratings": {"mi-reflections": "stellar"}}, "self_ratings.mi-reflections"),
    ({"answers": {"p1": ANSWER}, "self_ratings": {"plan-brainstorm": "met"}}, "self_ratings.plan-brainstorm"),
])
def test_bad_answers_are_refused_with_a_message(client, workbench, policy, learner, payload, field):
    client.force_login(learner)
    status, body = call(client, REFLECTION, "submit_reflection", payload)
    assert status == 400 and field in body["errors"]
    assert Reflection.objects.count() == 0


def test_tampered_json_is_a_400(client, workbench, learner):
    client.force_login(learner)
    url = f"/workbench/handler/{usage_id(REFLECTION)}/save_draft/"
    for body in ("{not json", "[1, 2]", "\"text\""):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400 and "body" in response.json()["errors"]
    assert client.get(url).status_code == 405


def test_coach_reads_and_comments_other_learners_cannot(client, workbench, assigned, coach, stranger):
    client.force_login(assigned)
    call(client, REFLECTION, "submit_reflection", {"answers": {"p1": ANSWER}})
    reflection = Reflection.objects.get()
    assert [r.pk for r in api.reflections_for(coach, assigned, reflection.course_key)] == [reflection.pk]
    api.comment_on_reflection(coach, reflection.pk, "Lovely use of a complex reflection.")
    assert "Lovely use of a complex reflection." in view(client, REFLECTION)
    with pytest.raises(api.PermissionDenied):
        api.reflections_for(stranger, assigned, reflection.course_key)
    with pytest.raises(api.PermissionDenied):
        api.comment_on_reflection(stranger, reflection.pk, "Hi")
    other_learner = make_user("other_learner")
    client.force_login(other_learner)
    assert ANSWER not in view(client, REFLECTION), "a learner never sees another learner's reflection"


def test_studio_editing_validates_and_saves(client, workbench, policy, lead, learner):
    client.force_login(lead)
    page = view(client, REFLECTION, "studio_view")
    assert "Related indicators" in page and "Reflective listening" in page
    good = {"display_name": "Reflect on engagement", "min_length": 20, "self_rating": True,
            "prompts": [{"id": "p1", "text": "How did you open the meeting?", "indicators": ["eng-family-story"]},
                        {"id": "p2", "text": "Which reflection worked best?", "indicators": ["mi-reflections"]}]}
    assert call(client, REFLECTION, "studio_submit", good)[0] == 200
    assert "Which reflection worked best?" in view(client, REFLECTION)
    bad = {**good, "min_length": "many", "prompts": [{"id": "p1", "text": "", "indicators": ["nope"]},
                                                      {"id": "p1", "text": "Dup"}]}
    status, body = call(client, REFLECTION, "studio_submit", bad)
    assert status == 400
    assert {"min_length", "prompts[0].text", "prompts[0].indicators", "prompts[1].id"} <= set(body["errors"])
    client.force_login(learner)
    assert call(client, REFLECTION, "studio_submit", good)[0] == 403


def test_handlers_are_csrf_protected(workbench, learner):
    from django.test import Client  # pylint: disable=import-outside-toplevel

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    url = f"/workbench/handler/{usage_id(REFLECTION)}/save_draft/"
    body = '{"answers": {"p1": "draft"}}'
    assert strict.post(url, body, content_type="application/json").status_code == 403
    strict.get(f"/workbench/scenario/{REFLECTION}/")  # sets the CSRF cookie, as the page does
    token = strict.cookies["csrftoken"].value
    assert strict.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 200
