"""
Issue 24's last 500s and unchecked text, each reproduced through the path where it was found: the
policy page on pathological JSON and numbers (REST already answered 400), reflection answers with
NUL or a lone surrogate, and an oversized REST body (answered with Django's HTML 400, not the API's
JSON). Each is a 400 naming the field, as on every other path.
"""
import json

import pytest
from django.urls import reverse
from django.utils.html import escape
from policy_form import policy_post

from miiwrap_fidelity import api
from miiwrap_fidelity.pages.policy_editor import POLICY_LABELS
from miiwrap_fidelity.records.models import CompetencyPolicy, Reflection
from miiwrap_fidelity.rules import competency

from conftest import COURSE
from xblock_support import REFLECTION, call

pytestmark = pytest.mark.django_db
REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"


@pytest.fixture
def policy_form(policy, version):
    return policy_post([competency.simple_set(version.pk, min_observations=2, min_percent=75, window_days=90).as_dict()],
                       validity_months=12)


@pytest.mark.parametrize("field, value", [
    ("set-0-instrument_version", "9" * 5000),
    ("set-0-min_observations", "9" * 5000),
    ("set-0-window", "9" * 5000),
    ("set-0-cond-0-value", "1e999"),
    ("set-0-cond-0-value", "9" * 5000),
    ("set-0-cond-0-measure", "summary:" + "x" * 5000),
    ("set-0-setting", "home\x00visit"),
    ("validity_months", "9" * 5000),
])
def test_the_policy_page_answers_400_naming_the_field(client, lead, policy_form, field, value):
    client.force_login(lead)
    before = CompetencyPolicy.objects.values_list("requirement_sets", flat=True).get()
    response = client.post(reverse("miiwrap_fidelity:policy", args=[COURSE]), {**policy_form, field: value})
    assert response.status_code == 400, response.status_code
    page = response.content.decode()
    errors = page.split('id="mwf-errors"', 1)[1].split("</div>", 1)[0]
    named = POLICY_LABELS.get(field, "Requirement sets")
    assert escape(str(named)) in errors, errors  # the field (or the sets) named in the error list
    if field.startswith("set-"):  # and the set's field marked where it is
        assert 'class="mwf-field-errors"' in page.split('id="mwf-set-0"', 1)[1]
    assert CompetencyPolicy.objects.values_list("requirement_sets", flat=True).get() == before


@pytest.mark.parametrize("field, value", [
    ("requirement_sets", [{"setting": "\ud800"}]),
    ("instrument_version", int("9" * 4000)),
])
def test_rest_answers_the_same_with_a_400(client, lead, policy, field, value):
    client.force_login(lead)
    body = json.dumps({field: value})
    response = client.patch(f"{REST}/policy/", body, content_type="application/json")
    assert response.status_code == 400 and any(key.startswith(field) for key in response.json())


@pytest.mark.parametrize("answer", ["Planned with the family\x00 and reflected.", "Planned \ud800 with the family."])
def test_a_reflection_refuses_nul_and_lone_surrogates_in_the_block(client, workbench, assigned, answer):
    client.force_login(assigned)
    status, body = call(client, REFLECTION, "submit_reflection", {"answers": {"p1": answer * 2}, "self_ratings": {}})
    assert status == 400 and "answers.p1" in json.dumps(body), body
    assert not Reflection.objects.filter(status="submitted").exists()


@pytest.mark.parametrize("answer", ["Planned with the family\x00 and reflected.", "Planned \ud800 with the family."])
def test_a_reflection_refuses_nul_and_lone_surrogates_in_the_api(assigned, course_key, answer):
    exercise = {"prompts": [{"id": "p1", "text": "What did you try?"}], "min_length": 10, "self_rating": False}
    with pytest.raises(api.ValidationError) as refused:
        api.save_reflection(assigned, course_key, "block-1", exercise, {"p1": answer * 2}, submit=True)
    assert "answers.p1" in refused.value.message_dict
    with pytest.raises(api.ValidationError):  # a draft too: nothing is stored that cannot be shown again
        api.save_reflection(assigned, course_key, "block-1", exercise, {"p1": answer}, submit=False)


def test_an_oversized_rest_body_gets_the_apis_json_error(client, lead, policy, settings):
    client.force_login(lead)
    big = json.dumps({"overall_note": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = client.post(f"{REST}/observations/", big, content_type="application/json")
    assert response.status_code in (400, 413)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert "detail" in response.json()
