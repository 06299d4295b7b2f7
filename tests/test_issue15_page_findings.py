"""Issue 15, the smaller page findings: chart points, workspace rows, sign-off block, reflections."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Reflection

from conftest import COURSE, ratings_for
from xblock_support import REFLECTION, SIGNOFF, call, view

pytestmark = pytest.mark.django_db


def indicators_of(version):
    return list(version.indicators.order_by("position"))
ANSWER = "I reflected the mother's worry before asking about goals, and she added her own idea."


def test_chart_draws_an_observation_missing_an_essential_differently(client, assigned, coach, observe):
    observe(coach, assigned, days_ago=10)
    observe(coach, assigned, days_ago=3, miss=("mi-reflections",))  # 95% met, but an essential missed
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    svg = page.split("<svg")[1].split("</svg>")[0]
    assert svg.count('class="mwf-point-not-qualifying"') == 1
    assert svg.count('r="5" fill="#0a3055"') == 1, "only the qualifying one is a filled circle"
    assert "does not qualify: an essential indicator missed or another requirement not met" in svg
    assert "(does not qualify)" in page, "the table says it too"


def test_chart_marks_what_no_requirement_set_counts(client, assigned, coach, lead, observe, version, course_key):
    """Issue 23: the chart decided "qualifies" from the first set's percent and essentials only; an
    all-met session of a setting no set asks for (or short of a later set's condition) was drawn as
    qualifying. competency decides it now, for every set."""
    api.save_policy(lead, course_key, requirement_sets=[
        {"instrument_version": version.pk, "setting": "home_visit", "min_observations": 2, "window_days": 270,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"}]}])
    observe(coach, assigned, days_ago=10)  # a home visit, all met: qualifies
    api.save_observation(coach, assigned, course_key, {
        "practice_date": (timezone.now().date() - timedelta(days=3)).isoformat(), "setting": "community",
        "overall_note": "", "ratings": ratings_for(indicators_of(version))}, submit=True)
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    svg = page.split("<svg")[1].split("</svg>")[0]
    assert svg.count('class="mwf-point-not-qualifying"') == 1, "the all-met community session counts for no set"
    assert svg.count('r="5" fill="#0a3055"') == 1


def test_workspace_row_names_the_missed_essential(client, assigned, coach, observe):
    observe(coach, assigned, days_ago=3, miss=("mi-reflections",))
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE])).content.decode()
    row = page.split(f">{assigned.username}</a>")[1].split("</tr>")[0]
    assert "0 of 3 qualifying observations so far" in row
    assert 'class="mwf-essential-missed"' in row and "Reflective listening" in row


def test_certified_workspace_row_speaks_of_recertification(client, ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE])).content.decode()
    row = page.split(f">{ready_learner.username}</a>")[1].split("</tr>")[0]
    assert "Certified · toward recertification: 0 / 3" in row and "Recertification due by" in row


def test_signoff_block_gives_the_coach_evidence_and_human_labels(client, workbench, ready_learner, coach):
    client.force_login(coach)
    status, body = call(client, SIGNOFF, "decide", {"learner_id": ready_learner.pk, "action": "approve"})
    assert status == 200
    state = body["state"]
    assert state["signoffs"][0]["label"] == f"Approved by coach {coach.username}"
    evidence = state["status"]["evidence"]
    assert len(evidence["observations"]) == 3 and evidence["expires_at"]
    status, body = call(client, SIGNOFF, "find_learners", {"search": ready_learner.username})
    assert body["learners"][0]["state_label"] == "Certified", "the picker's label follows the state"


def test_coach_sees_self_ratings_and_the_prompts_the_learner_answered(client, workbench, assigned, coach, lead):
    client.force_login(assigned)
    status, _body = call(client, REFLECTION, "submit_reflection",
                         {"answers": {"p1": ANSWER}, "self_ratings": {"mi-reflections": "partly"}})
    assert status == 200
    reflection = Reflection.objects.get()
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])).content.decode()
    ratings = page.split('class="mwf-self-ratings"')[1].split("</ul>")[0]
    assert "Reflective listening" in ratings and "mi-reflections" not in ratings
    state = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk})[1]
    assert state["reflections"][0]["self_ratings"][0]["indicator"] == "Reflective listening"
    # An author changes the prompts afterwards: the learner still sees what they answered.
    client.force_login(lead)
    changed = {"display_name": "Reflect", "min_length": 20, "self_rating": True,
               "prompts": [{"id": "p1", "text": "A brand-new question?", "indicators": ["mi-reflections"]},
                           {"id": "p2", "text": "Another new prompt?", "indicators": []}]}
    assert call(client, REFLECTION, "studio_submit", changed)[0] == 200
    client.force_login(assigned)
    page = view(client, REFLECTION)
    assert reflection.prompts[0]["text"].split("'")[0] in page and ANSWER.split("'")[0] in page
    assert "A brand-new question?" not in page and "Another new prompt?" not in page
    assert 'data-msg-submitted-line="your answers are shown read-only' in page, "the script's top line after submit"
