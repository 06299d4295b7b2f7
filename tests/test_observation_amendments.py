"""Issue 15: a submitted observation is corrected through an amendment record, never edited in place."""
import json

import pytest
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import (
    AuditEvent,
    IndicatorRating,
    LearnerStatus,
    Observation,
    ObservationAmendment,
)
from miiwrap_fidelity.records.retirement import scrub_user

from conftest import COURSE
from observation_oracle import observations_for

pytestmark = pytest.mark.django_db
PHONE = "Call client Maria Lopez at 555-123-4567."


@pytest.fixture
def submitted(assigned, coach, observe):
    return observe(coach, assigned, days_ago=2)


def test_the_observer_corrects_the_text_and_the_original_is_kept(submitted, assigned, coach, course_key, indicators):
    key = indicators[0].key
    state_before = LearnerStatus.objects.get(learner=assigned).state
    amended = api.amend_observation(coach, course_key, submitted.pk, {
        "reason": "Removed a typo.", "overall_note": "Observed a home visit (corrected).",
        "feedback": {key: {"next_step": "Summarise more often."}}})
    assert amended.overall_note == "Observed a home visit (corrected)."
    rating = next(r for r in amended.ratings if r.indicator_key == key)
    assert rating.next_step == "Summarise more often." and rating.strength == "Good example.", "left out: kept"
    assert amended.amendment.reason == "Removed a typo." and amended.amendment.count == 1
    assert amended.amendment.original_note == "Observed a home visit."
    # Never an edit in place: the observation and its ratings hold the original.
    stored = Observation.objects.get(pk=submitted.pk)
    assert stored.overall_note == "Observed a home visit." and stored.revision == submitted.revision
    assert IndicatorRating.objects.get(observation=stored, indicator__key=key).next_step == ""
    assert AuditEvent.objects.filter(action="observation.amended").count() == 1
    assert LearnerStatus.objects.get(learner=assigned).state == state_before, "levels and scores unchanged"
    assert amended.percent == submitted.percent


def test_the_learner_reads_the_correction_but_not_the_original(submitted, assigned, coach, course_key):
    api.amend_observation(coach, course_key, submitted.pk, {"reason": "Privacy.", "overall_note": "Corrected."})
    seen = observations_for(assigned, assigned, course_key)[0]
    assert seen.overall_note == "Corrected." and seen.amendment is not None
    assert seen.amendment.original_note == "" and not seen.amendment.shows_original
    assert api.get_observation(assigned, course_key, submitted.pk).amendment.original_note == ""


@pytest.mark.parametrize("who", ["coach2", "assigned", "stranger"])
def test_only_the_observer_or_staff_amend(request, submitted, course_key, who, lead):
    actor = request.getfixturevalue(who)
    with pytest.raises((api.PermissionDenied, api.NotFound)):
        api.amend_observation(actor, course_key, submitted.pk, {"reason": "x", "overall_note": "y"})
    assert api.amend_observation(lead, course_key, submitted.pk, {"reason": "Staff fix.", "overall_note": "y"})
    assert ObservationAmendment.objects.count() == 1


def test_bad_amendments_are_refused_with_field_messages(submitted, assigned, coach, course_key, observe):
    cases = [({"overall_note": "y"}, "reason"), ({"reason": "r"}, "observation"),
             ({"reason": "r", "feedback": {"nope": {"strength": "x"}}}, "ratings.nope"),
             ({"reason": "r", "feedback": []}, "feedback"), ({"reason": "r", "overall_note": 5}, "overall_note"),
             ({"reason": "r", "overall_note": PHONE}, "overall_note")]
    for data, field in cases:
        with pytest.raises(api.ValidationError) as caught:
            api.amend_observation(coach, course_key, submitted.pk, data)
        assert field in caught.value.message_dict, data
    draft = observe(coach, assigned, submit=False)
    with pytest.raises(api.ValidationError):
        api.amend_observation(coach, course_key, draft.pk, {"reason": "r", "overall_note": "y"})
    assert ObservationAmendment.objects.count() == 0
    api.amend_observation(coach, course_key, submitted.pk, {"reason": "r", "overall_note": PHONE,
                                                            "privacy_confirmed": True})
    assert AuditEvent.objects.filter(action="observation.identifier_check_confirmed").count() == 1


def test_the_coach_page_amends_and_marks_the_observation(client, submitted, assigned, coach, indicators):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:amend_observation", args=[COURSE, assigned.pk, submitted.pk])
    fields = {f"strength-{i.key}": "Good example." for i in indicators}
    response = client.post(url, {**fields, "overall_note": "Better words.", "reason": ""})
    page = response.content.decode()
    assert response.status_code == 400 and f'href="#amend-{submitted.pk}-mwf-reason"' in page
    assert "Better words." in page, "what was entered is kept"
    response = client.post(url, {**fields, "overall_note": "Better words.", "reason": "Clearer."})
    assert response.status_code == 302 and response["Location"].endswith(f"#mwf-observation-{submitted.pk}")
    page = client.get(response["Location"]).content.decode()
    assert "Amended on" in page and "Better words." in page and "Observed a home visit." in page
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert "Better words." in page and "Observed a home visit." not in page


def test_rest_amends(client, submitted, assigned, coach, course_key):
    client.force_login(coach)
    url = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/{submitted.pk}/amendments/"
    assert client.post(url, json.dumps({"overall_note": "x"}), content_type="application/json").status_code == 400
    response = client.post(url, json.dumps({"reason": "Fix.", "overall_note": "Fixed."}),
                           content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["overall_note"] == "Fixed." and body["amended"]["original_note"] == "Observed a home visit."
    client.force_login(assigned)
    assert client.post(url, json.dumps({"reason": "Mine.", "overall_note": "z"}),
                       content_type="application/json").status_code == 403
    body = client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/{submitted.pk}/").json()
    assert body["overall_note"] == "Fixed." and "original_note" not in body["amended"]


def test_retirement_blanks_amendments(submitted, assigned, coach, course_key):
    api.amend_observation(coach, course_key, submitted.pk, {"reason": "Fix.", "overall_note": "Fixed."})
    scrub_user(assigned.pk)
    amendment = ObservationAmendment.objects.get()
    assert (amendment.reason, amendment.overall_note, amendment.feedback) == ("", "", {})


def test_a_correction_sent_again_is_one_amendment(client, submitted, assigned, coach, course_key):
    """Review finding: amendments took no key, and a retry after a lost answer got a 400 (or, sent at
    once, made two records)."""
    from datetime import timedelta  # pylint: disable=import-outside-toplevel

    from django.utils import timezone  # pylint: disable=import-outside-toplevel

    client.force_login(coach)
    url = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/{submitted.pk}/amendments/"
    body = json.dumps({"reason": "Typo.", "overall_note": "Observed a home visit with the family."})
    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")  # a retry: the first answers
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    ObservationAmendment.objects.update(created_at=timezone.now() - timedelta(hours=1))
    keyed = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="amend-0001-key")
    assert keyed.status_code == 400, "an hour on, the same text without its first key changes nothing"
    assert ObservationAmendment.objects.filter(observation_id=submitted.pk).count() == 1
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])).content.decode()
    assert page.count('name="submission_token"') >= 2, "the correction form carries a token"
