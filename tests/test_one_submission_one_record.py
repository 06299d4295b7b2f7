"""
One submission, one record (issue 24): the writes that create evidence take the client's key for
the submission (REST ``Idempotency-Key``; ``submission_token`` in page forms and the XBlock) and
answer a repeat with the first record; without a key an identical repeat within a short window is
answered the same way. Each path is reproduced as the finding was seen: the same body sent again.
"""
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from test_concurrency import run_at_once

from miiwrap_fidelity import api
from miiwrap_fidelity.records import retirement
from miiwrap_fidelity.records.models import (
    Observation,
    Reflection,
    ReflectionComment,
    SelfAssessment,
    SignOff,
    SubmissionKey,
)
from miiwrap_fidelity.rules import competency

from conftest import COURSE, ratings_for
from xblock_support import SIGNOFF, call

REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
KEY = "7f9c2ba4-e88f-4e2a-9a6c-0c1b7b2f1d11"


def observation_body(learner, indicators, note="Warm opening, clear agenda."):
    return {"learner": learner.pk, "practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(),
            "setting": "home_visit", "overall_note": note, "ratings": ratings_for(indicators), "submit": True}


def an_hour_later():
    """As if the repeat came an hour on (an offline queue sent later): past the window in which an
    identical submission without a key is taken for a repeat, so only the key can answer it."""
    hour_ago = timezone.now() - timedelta(hours=1)
    Observation.objects.update(submitted_at=hour_ago)
    ReflectionComment.objects.update(created_at=hour_ago)


def rest_post(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{REST}{path}", json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def reflection(assigned, course_key):
    return Reflection.objects.create(learner=assigned, course_key=course_key, block_id="block-v1:r",
                                     status=Reflection.SUBMITTED, answers={"p1": "I listened more than I spoke."})


# --- REST -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_rest_observation_sent_four_times_with_one_key_is_one_observation(client, assigned, coach, indicators):
    client.force_login(coach)
    body = observation_body(assigned, indicators)
    answers = []
    for _ in range(4):
        answers.append(rest_post(client, "/observations/", body, KEY))
        an_hour_later()
    assert [a.status_code for a in answers] == [201] * 4, answers[-1].content
    assert len({a.json()["id"] for a in answers}) == 1, "every repeat answers with the first record"
    assert Observation.objects.filter(learner=assigned, status=Observation.SUBMITTED).count() == 1
    assert api.learner_status(coach, assigned, COURSE).qualifying_count == 1


@pytest.mark.django_db
def test_rest_distinct_keys_are_distinct_sessions(client, assigned, coach, indicators):
    client.force_login(coach)
    first = rest_post(client, "/observations/", observation_body(assigned, indicators), KEY)
    other = rest_post(client, "/observations/", observation_body(assigned, indicators, "Second session."),
                      "a1b2c3d4-0000-4000-8000-000000000002")
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"]


@pytest.mark.django_db
def test_rest_a_key_reused_for_other_content_is_refused_naming_the_key(client, assigned, coach, indicators):
    client.force_login(coach)
    assert rest_post(client, "/observations/", observation_body(assigned, indicators), KEY).status_code == 201
    reused = rest_post(client, "/observations/", observation_body(assigned, indicators, "Another session."), KEY)
    assert reused.status_code == 400
    assert "idempotency_key" in json.dumps(reused.json())
    assert Observation.objects.filter(learner=assigned).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["short", "x" * 101, "has space in it", "ключ-ключ-ключ"])
def test_rest_a_malformed_key_is_a_400_not_a_500(client, assigned, coach, indicators, key):
    client.force_login(coach)
    try:
        answer = rest_post(client, "/observations/", observation_body(assigned, indicators), key)
    except UnicodeEncodeError:
        pytest.skip("a header value outside latin-1 cannot be sent")
    assert answer.status_code == 400 and "idempotency_key" in json.dumps(answer.json())
    assert not Observation.objects.filter(learner=assigned).exists()


@pytest.mark.django_db
def test_rest_a_refused_submission_keeps_its_key_free_for_the_corrected_one(client, assigned, coach, indicators):
    client.force_login(coach)
    body = observation_body(assigned, indicators)
    refused = rest_post(client, "/observations/", {**body, "setting": "nowhere"}, KEY)
    assert refused.status_code == 400
    assert not SubmissionKey.objects.exists()
    assert rest_post(client, "/observations/", body, KEY).status_code == 201


@pytest.mark.django_db
def test_rest_comment_sent_twice_is_one_comment_with_or_without_a_key(client, assigned, coach, reflection):
    client.force_login(coach)
    path = f"/reflections/{reflection.pk}/comments/"
    keyed = [rest_post(client, path, {"text": "Good use of summaries."}, KEY)]
    an_hour_later()
    keyed.append(rest_post(client, path, {"text": "Good use of summaries."}, KEY))
    assert [a.status_code for a in keyed] == [201, 201]
    bare = [rest_post(client, path, {"text": "Try one more complex reflection."}) for _ in range(2)]
    assert [a.status_code for a in bare] == [201, 201]
    assert sorted(ReflectionComment.objects.values_list("text", flat=True)) == [
        "Good use of summaries.", "Try one more complex reflection."]


@pytest.mark.django_db
def test_rest_revocation_sent_twice_answers_the_first_with_or_without_a_key(client, ready_learner, coach):
    client.force_login(coach)
    approve = {"learner": ready_learner.pk, "action": "approve", "level": "coach", "reason": ""}
    approvals = [rest_post(client, "/signoffs/", approve, KEY) for _ in range(2)]
    assert [a.status_code for a in approvals] == [201, 201]
    assert approvals[0].json()["id"] == approvals[1].json()["id"]
    revoke = {"learner": ready_learner.pk, "action": "revoke", "level": "coach", "reason": "Drift seen on review."}
    revocations = [rest_post(client, "/signoffs/", revoke) for _ in range(2)]
    assert [a.status_code for a in revocations] == [201, 201], revocations[1].content
    assert revocations[0].json()["id"] == revocations[1].json()["id"]
    assert SignOff.objects.filter(action=SignOff.REVOKE).count() == 1


@pytest.mark.django_db
def test_rest_self_assessment_repeated_with_its_key_answers_the_first(client, assigned, coach, lead, indicators,
                                                                      observe):
    api.save_policy(lead, COURSE, self_assessment=True)
    observation = observe(coach, assigned)
    assert SelfAssessment.objects.filter(observation_id=observation.pk).exists()
    client.force_login(assigned)
    path = f"/observations/{observation.pk}/self-assessment/"
    body = {"ratings": {i.key: "met" for i in indicators}, "note": "I rushed the summary."}
    first, repeat = rest_post(client, path, body, KEY), rest_post(client, path, body, KEY)
    assert first.status_code == repeat.status_code == 200, repeat.content
    assert first.json() == repeat.json()
    assert rest_post(client, path, body).status_code == 400, "without the key, a second answer is refused (final)"


def test_the_schema_documents_the_header():
    from miiwrap_fidelity.rest_api.v1 import schema  # pylint: disable=import-outside-toplevel
    assert schema.IDEMPOTENCY_HEADER["name"] == "Idempotency-Key"
    assert re.fullmatch(schema.IDEMPOTENCY_HEADER["schema"]["pattern"][1:-1], KEY)


@pytest.mark.django_db
def test_the_openapi_schema_offers_the_header_on_evidence_writes(client, coach):
    client.force_login(coach)
    document = client.get("/api/miiwrap-fidelity/v1/schema/").json()
    operation = document["paths"]["/api/miiwrap-fidelity/v1/courses/{course_id}/observations/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]


# --- pages and the XBlock ------------------------------------------------------------------------------

def page_token(html):
    return re.search(r'name="submission_token" value="([0-9a-f]{32})"', html).group(1)


@pytest.mark.django_db
def test_page_observation_form_posted_twice_with_its_token_is_one_observation(client, assigned, coach, indicators):
    client.force_login(coach)
    detail = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk]))
    token = page_token(detail.content.decode())
    form = {"practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(), "setting": "home_visit",
            "overall_note": "Clear agenda.", "action": "submit", "submission_token": token,
            **{f"rating-{i.key}": "met" for i in indicators}}
    url = reverse("miiwrap_fidelity:record_observation", args=[COURSE, assigned.pk])
    assert client.post(url, form).status_code == 302
    an_hour_later()
    assert [client.post(url, form).status_code for _ in range(2)] == [302, 302]
    assert Observation.objects.filter(learner=assigned, status=Observation.SUBMITTED).count() == 1
    assert page_token(client.get(reverse("miiwrap_fidelity:learner_detail",
                                         args=[COURSE, assigned.pk])).content.decode()) != token


@pytest.mark.django_db
def test_page_comment_posted_twice_with_its_token_is_one_comment(client, assigned, coach, reflection):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:comment_reflection", args=[COURSE, assigned.pk, reflection.pk])
    form = {"text": "Your summary was balanced.", "submission_token": "c0ffee00c0ffee00c0ffee00c0ffee00"}
    assert client.post(url, form).status_code == 302
    an_hour_later()
    assert client.post(url, form).status_code == 302
    assert ReflectionComment.objects.count() == 1


@pytest.mark.django_db
def test_page_forms_that_create_evidence_carry_a_token(client, ready_learner, coach, reflection):
    client.force_login(coach)
    html = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, ready_learner.pk])).content.decode()
    # The observation form, the sign-off form, the comment form and each observation's correction form.
    assert html.count('class="mwf-amend"') == 3
    assert html.count('name="submission_token"') == 3 + 3


@pytest.mark.django_db
def test_xblock_observation_sent_twice_with_its_token_is_one_observation(client, workbench, assigned, coach,
                                                                         indicators):
    client.force_login(coach)
    body = {**observation_body(assigned, indicators), "learner_id": assigned.pk, "submit": True,
            "submission_token": KEY}
    answers = [call(client, SIGNOFF, "record_observation", body)]
    an_hour_later()
    answers.append(call(client, SIGNOFF, "record_observation", body))
    assert [status for status, _ in answers] == [200, 200], answers
    assert answers[0][1]["observation"]["id"] == answers[1][1]["observation"]["id"]
    assert Observation.objects.filter(learner=assigned).count() == 1


@pytest.mark.django_db
def test_xblock_a_malformed_token_is_a_400(client, workbench, assigned, coach, indicators):
    client.force_login(coach)
    status, body = call(client, SIGNOFF, "record_observation",
                        {**observation_body(assigned, indicators), "learner_id": assigned.pk,
                         "submission_token": {"not": "a key"}})
    assert status == 400 and "idempotency_key" in json.dumps(body)


# --- keeping and forgetting ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_keys_are_forgotten_after_their_keeping_time_and_at_retirement(assigned, coach, indicators, course_key):
    data = {k: v for k, v in observation_body(assigned, indicators).items() if k not in ("learner", "submit")}
    first = api.save_observation(coach, assigned, course_key, data, submit=True, idempotency_key=KEY)
    assert SubmissionKey.objects.filter(user_id=coach.pk).count() == 1
    from miiwrap_fidelity.api import submission_keys  # pylint: disable=import-outside-toplevel
    assert submission_keys.forget_old(timezone.now()) == 0
    assert submission_keys.forget_old(timezone.now() + competency.SUBMISSION_KEY_KEPT + timedelta(minutes=1)) == 1
    again = api.save_observation(coach, assigned, course_key, data, submit=True, idempotency_key=KEY)
    assert again.observation.pk == first.observation.pk, "within the repeat window the content still answers"
    retirement.scrub_user(coach.pk)
    assert not SubmissionKey.objects.filter(user_id=coach.pk).exists()


# --- at once, on MariaDB -------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "mysql", reason="needs a database server (py312-mariadb env)")
def test_one_key_sent_six_times_at_once_makes_one_observation(assigned, coach, indicators):
    from django.test import Client  # pylint: disable=import-outside-toplevel

    body = observation_body(assigned, indicators)

    def send(_index):
        client = Client()
        client.force_login(coach)
        answer = rest_post(client, "/observations/", body, KEY)
        return answer.status_code, answer.json().get("id")

    results, errors = run_at_once(6, send)
    assert errors == []
    assert {status for status, _ in results} == {201}, results
    assert len({pk for _, pk in results}) == 1
    assert Observation.objects.filter(learner=assigned).count() == 1
    assert SubmissionKey.objects.count() == 1


@pytest.mark.django_db
def test_a_repeat_is_answered_only_to_someone_who_may_still_act(client, ready_learner, coach, lead, course_key):
    """Review finding: replaying an approval's key returned it (with its evidence) to a coach unassigned since."""
    first = api.sign_off(coach, ready_learner, course_key, idempotency_key=KEY)
    assert api.sign_off(coach, ready_learner, course_key, idempotency_key=KEY).id == first.id
    from miiwrap_fidelity.records.models import CoachAssignment  # pylint: disable=import-outside-toplevel
    for assignment in CoachAssignment.objects.filter(coach=coach):
        api.unassign_coach(lead, assignment.pk)
    with pytest.raises(api.PermissionDenied):
        api.sign_off(coach, ready_learner, course_key, idempotency_key=KEY)
