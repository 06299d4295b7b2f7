"""The workspace pages: filters, sorting, paging, drafts, reflections, assignments, policy, growth page."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from policy_form import policy_post

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment, CompetencyPolicy, Observation, ReflectionComment
from miiwrap_fidelity.rules import competency
from sandbox.enrollment import enroll

from conftest import COURSE, assign_coach, make_user

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def test_workspace_filters_sorts_and_pages(client, policy, lead, coach, course_key, observe):
    for i in range(30):
        assign_coach(lead, course_key, coach, make_user(f"w{i:02d}"))
    observe(coach, api.get_user("w07"), days_ago=2)
    client.force_login(lead)
    page = client.get(url("workspace")).content.decode()
    assert "30 learners" in page and "w24" in page and "w25" not in page
    next_link = page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(url("workspace") + next_link).content.decode()
    assert "w25" in second and "w24" not in second and 'rel="prev"' in second
    page = client.get(url("workspace"), {"state": "in_progress"}).content.decode()
    assert "1 learner" in page and "w07" in page
    page = client.get(url("workspace"), {"ordering": "-username"}).content.decode()
    assert page.index("w29") < page.index("w28")
    assert "w05" not in client.get(url("workspace"), {"search": "w1"}).content.decode()
    assert "No learners match." in client.get(url("workspace"), {"search": "zzz"}).content.decode()
    assert client.get(url("workspace"), {"state": "bogus"}).status_code == 400


def test_draft_can_be_continued_then_submitted(client, assigned, coach, indicators):
    client.force_login(coach)
    post = {"practice_date": "2026-01-05", "setting": "supervision", "action": "draft", "rating-mi-reflections": "met",
            "strength-mi-reflections": "Reflected feelings well."}
    response = client.post(url("record_observation", assigned.pk), post)
    draft = Observation.objects.get()
    assert response.status_code == 302 and f"draft={draft.pk}" in response["Location"]
    page = client.get(url("learner_detail", assigned.pk), {"draft": draft.pk}).content.decode()
    assert "Continue the draft observation" in page and "Reflected feelings well." in page
    full = {**post, "action": "submit", "observation_id": draft.pk, "revision": draft.revision}
    full.update({f"rating-{i.key}": "met" for i in indicators})
    assert client.post(url("record_observation", assigned.pk), full).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "submitted" and Observation.objects.count() == 1
    stale = client.post(url("record_observation", assigned.pk), full)
    assert stale.status_code == 400 and "can no longer change" in stale.content.decode()
    assert client.get(url("learner_detail", assigned.pk), {"draft": "x"}).status_code == 400


def test_coach_comments_on_a_reflection_from_the_detail_page(client, assigned, coach, course_key):
    exercise = {"title": "Week 1", "prompts": [{"id": "p1", "text": "What went well?", "indicators": []}],
                "min_length": 1}
    reflection = api.save_reflection(assigned, course_key, "b1", exercise, {"p1": "Opening the meeting"}, submit=True)
    client.force_login(coach)
    assert "Opening the meeting" in client.get(url("learner_detail", assigned.pk)).content.decode()
    target = url("comment_reflection", assigned.pk, reflection.pk)
    assert client.post(target, {"text": "Nice opening."}).status_code == 302
    assert client.post(target, {"text": ""}).status_code == 400
    assert ReflectionComment.objects.get().text == "Nice opening."
    client.force_login(assigned)
    assert "Nice opening." in client.get(url("my_competency")).content.decode()


def test_assignments_page(client, policy, lead, coach, learner, course_key):
    client.force_login(lead)
    response = client.post(url("assignments"), {"action": "add", "coach": coach.username, "learner": learner.username})
    assert response.status_code == 400 and "This learner is not enrolled in this course." in response.content.decode()
    enroll(learner, course_key)
    assert client.post(url("assignments"), {"action": "add", "coach": coach.username,
                                            "learner": learner.username}).status_code == 302
    assert client.post(url("assignments"), {"action": "add", "coach": "ghost", "learner": learner.username}
                       ).status_code == 400
    other = make_user("learner_b")
    enroll(other, course_key)
    bad = SimpleUploadedFile("a.csv", f"coach,learner\n{coach.username},{other.username}\nnobody,{other.username}\n"
                             .encode())
    response = client.post(url("assignments"), {"action": "upload", "file": bad})
    page = response.content.decode()
    assert response.status_code == 400 and "Unknown coach username." in page and "not applied" in page
    assert CoachAssignment.objects.count() == 1
    good = SimpleUploadedFile("b.csv", f"coach,learner\n{coach.username},{other.username}\n".encode())
    assert "1 assignments added" in client.post(url("assignments"), {"action": "upload", "file": good},
                                                follow=True).content.decode()
    assignment = CoachAssignment.objects.get(learner=other)
    assert client.post(url("assignments"), {"action": "remove", "assignment": assignment.pk}).status_code == 302
    assert client.post(url("assignments"), {"action": "remove", "assignment": "x"}).status_code == 400
    assert client.post(url("assignments"), {"action": "dance"}).status_code == 400
    assert client.post(url("assignments"), {"action": "upload"}).status_code == 400
    client.force_login(coach)
    assert client.get(url("assignments")).status_code == 403


def test_policy_editor(client, policy, lead, coach, version):
    client.force_login(lead)
    page = client.get(url("policy")).content.decode()
    assert "Qualifying observations needed" in page
    sets = [competency.simple_set(version.pk, min_observations=2, min_percent=75, window_days=90).as_dict()]
    data = policy_post(sets, validity_months=12, mode="replace_grade")
    assert client.post(url("policy"), data).status_code == 302
    saved = CompetencyPolicy.objects.get()
    assert (saved.requirement_sets, saved.mode, saved.require_lead_signoff) == (sets, "replace_grade", False)
    for bad in ({"set-0-cond-0-value": 101}, {"set-0-min_observations": "many"}, {"set-0-min_distinct_observers": 5},
                {"set-0-instrument_version": 999}, {"mode": "x"}):
        response = client.post(url("policy"), {**data, **bad})
        assert response.status_code == 400 and "Please correct the following" in response.content.decode(), bad
    assert CompetencyPolicy.objects.get().requirement_sets == sets
    client.force_login(coach)
    assert client.get(url("policy")).status_code == 403
    assert client.post(url("policy"), data).status_code == 403


def test_growth_page_shows_trend_and_feedback(client, assigned, coach, observe):
    observe(coach, assigned, days_ago=20, miss=("mi-summaries",))
    observe(coach, assigned, days_ago=5, miss=("mi-summaries", "mi-reflections", "plan-brainstorm", "eng-strengths",
                                               "mi-affirmations"))
    client.force_login(assigned)
    page = client.get(url("my_competency")).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and "needed: 80%" in page
    assert "<rect" in page, "an observation below the threshold is drawn as a square"
    assert "not yet" in page and "Strengths and next steps" in page
    assert "Fidelity score per observation" in page
