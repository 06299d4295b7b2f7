"""The learner page and the coach workspace: permissions, 400 on bad input, escaping."""
import pytest
from django.urls import reverse

from miiwrap_fidelity.records.models import Observation, SignOff

from conftest import COURSE

pytestmark = pytest.mark.django_db


def detail_url(learner, course=COURSE):
    return reverse("miiwrap_fidelity:learner_detail", args=[course, learner.pk])


def test_pages_require_login(client, assigned):
    for url in (reverse("miiwrap_fidelity:my_competency", args=[COURSE]),
                reverse("miiwrap_fidelity:workspace", args=[COURSE]), detail_url(assigned)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_learner_sees_own_status_and_reasons(client, assigned, coach, observe):
    observe(coach, assigned, days_ago=3, miss=("mi-reflections",))
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert "0 of 3 qualifying observations" in page
    assert "Reflective listening" in page and "Only you, your coaches and course staff" in page


def test_bad_course_id_is_a_400(client, learner):
    client.force_login(learner)
    assert client.get("/miiwrap-fidelity/courses/not-a-course/me/").status_code == 400


def test_workspace_permissions(client, assigned, coach, stranger, lead):
    client.force_login(stranger)
    assert client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE])).status_code == 403
    assert client.get(detail_url(assigned)).status_code == 403
    client.force_login(assigned)
    assert client.get(detail_url(assigned)).status_code == 403, "no coaching yourself"
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE]))
    assert page.status_code == 200 and assigned.username in page.content.decode()
    client.force_login(lead)
    assert client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE])).status_code == 200
    assert client.get(detail_url(assigned)).status_code == 200


def form(indicators, **extra):
    data = {"practice_date": "2026-01-05", "setting": "supervision", "overall_note": "Good session.",
            "action": "submit"}
    for indicator in indicators:
        data[f"rating-{indicator.key}"] = "met"
        data[f"strength-{indicator.key}"] = "<b>clear</b> reflection"
    data.update(extra)
    return data


def test_coach_records_an_observation_through_the_form(client, assigned, coach, indicators):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:record_observation", args=[COURSE, assigned.pk])
    response = client.post(url, form(indicators), follow=True)
    assert response.status_code == 200
    observation = Observation.objects.get()
    assert observation.status == "submitted" and observation.percent == 100.0
    page = response.content.decode()
    assert "&lt;b&gt;clear&lt;/b&gt;" in page and "<b>clear</b>" not in page, "feedback is escaped"


@pytest.mark.parametrize("extra", [{"practice_date": "soon"}, {"setting": ""}, {"rating-mi-reflections": "bogus"},
                                   {"overall_note": "x" * 4001}])
def test_bad_form_input_is_a_400_with_messages_and_nothing_stored(client, assigned, coach, indicators, extra):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:record_observation", args=[COURSE, assigned.pk])
    response = client.post(url, form(indicators, **extra))
    assert response.status_code == 400
    assert "Please correct the following" in response.content.decode()
    assert Observation.objects.count() == 0


def test_approve_and_revoke_through_the_form(client, ready_learner, coach):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:decide_competency", args=[COURSE, ready_learner.pk])
    assert client.post(url, {"action": "approve"}).status_code == 302
    response = client.post(url, {"action": "revoke", "reason": ""})
    assert response.status_code == 400 and "reason" in response.content.decode()
    assert client.post(url, {"action": "revoke", "reason": "Drift seen."}).status_code == 302
    assert client.post(url, {"action": "dance"}).status_code == 400
    assert list(SignOff.objects.values_list("action", flat=True)) == ["approve", "revoke"]


def test_unknown_learner_is_a_400_and_get_on_post_views_is_405(client, coach, assigned):
    client.force_login(coach)
    assert client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, 99999])).status_code == 400
    url = reverse("miiwrap_fidelity:decide_competency", args=[COURSE, assigned.pk])
    assert client.get(url).status_code == 405


def test_learner_cannot_approve_themselves_through_the_form(client, ready_learner):
    client.force_login(ready_learner)
    url = reverse("miiwrap_fidelity:decide_competency", args=[COURSE, ready_learner.pk])
    assert client.post(url, {"action": "approve"}).status_code == 403
    assert SignOff.objects.count() == 0
