"""
Issue 15, the coach's learner page: state-aware sign-off actions, errors named by indicator, the
client-identifier check before submit (page, REST, block), and certified learners' evidence.
"""
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import AuditEvent, Observation, SignOff
from miiwrap_fidelity.rules import competency, privacy
from miiwrap_fidelity.rules.competency import CertificationState, State

from conftest import COURSE, ratings_for
from xblock_support import SIGNOFF, call

pytestmark = pytest.mark.django_db
IDENTIFYING = "Call client Maria Lopez at 555-123-4567."


def detail(client, learner):
    return client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, learner.pk]))


def record_url(learner):
    return reverse("miiwrap_fidelity:record_observation", args=[COURSE, learner.pk])


def form(indicators, **extra):
    data = {"practice_date": timezone.now().date().isoformat(), "setting": "supervision",
            "overall_note": "Good session.", "action": "submit"}
    for indicator in indicators:
        data[f"rating-{indicator.key}"] = "met"
        data[f"strength-{indicator.key}"] = "Clear reflection."
    data.update(extra)
    return data


def buttons(page):
    return set(re.findall(r'<button type="submit" name="action" value="(approve|revoke)"', page))


# --- actions follow the learner's state --------------------------------------------------------

@pytest.mark.parametrize("state, cert, have, lead, expected", [
    (State.NOT_STARTED, None, 0, False, (False, False, competency.COACH, "not_ready")),
    (State.IN_PROGRESS, None, 2, False, (False, False, competency.COACH, "not_ready")),
    (State.READY, None, 3, False, (True, False, competency.COACH, "")),
    (State.AWAITING_LEAD, None, 3, False, (False, True, competency.COACH, "awaiting_lead")),
    (State.AWAITING_LEAD, None, 3, True, (True, True, competency.LEAD, "")),
    (State.CERTIFIED, CertificationState.ACTIVE, 0, True, (False, True, competency.COACH, "certified")),
    (State.CERTIFIED, CertificationState.EXPIRING, 1, False, (False, True, competency.COACH, "renewal_needs_evidence")),
    (State.CERTIFIED, CertificationState.EXPIRING, 3, False, (True, True, competency.COACH, "")),
    (State.EXPIRED, None, 0, False, (False, False, competency.COACH, "not_ready")),
    (State.REVOKED, None, 3, True, (False, False, competency.COACH, "not_ready")),
])
def test_offered_actions_follow_the_state(state, cert, have, lead, expected):
    offered = competency.offered_actions(state.value, cert and cert.value, have, 3, lead)
    assert (offered.approve, offered.revoke, offered.level, offered.not_offered) == expected


def test_a_learner_not_ready_is_offered_neither_approve_nor_revoke(client, assigned, coach):
    client.force_login(coach)
    page = detail(client, assigned).content.decode()
    assert buttons(page) == set()
    assert "Approval opens when the observations meet the course" in page


def test_a_ready_learner_is_offered_approval_only(client, ready_learner, coach):
    client.force_login(coach)
    assert buttons(detail(client, ready_learner).content.decode()) == {"approve"}


def test_a_certified_learner_is_offered_revocation_only(client, ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    client.force_login(coach)
    page = detail(client, ready_learner).content.decode()
    assert buttons(page) == {"revoke"}
    assert "Certified: nothing to approve now." in page


def test_approving_a_learner_not_ready_explains_without_internal_field_names(client, assigned, coach):
    client.force_login(coach)
    response = client.post(reverse("miiwrap_fidelity:decide_competency", args=[COURSE, assigned.pk]),
                           {"action": "approve"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "0 of 3 qualifying observations so far" in page
    assert "evidence" not in page.split('id="mwf-errors"')[1].split("</div>")[0]
    assert SignOff.objects.count() == 0


def test_sign_off_history_reads_as_sentences(client, ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    client.force_login(coach)
    page = detail(client, ready_learner).content.decode()
    assert f"Approved by coach {coach.username}" in page
    assert "Approve (Coach)" not in page and "approve (coach)" not in page


# --- the page is short: sections, and the form folded until needed ------------------------------

def test_the_page_has_a_section_nav_and_a_folded_form(client, assigned, coach):
    client.force_login(coach)
    page = detail(client, assigned).content.decode()
    assert 'data-mwf-page="coach-learner"' in page and 'class="mwf-section-nav"' in page
    for anchor in ("#mwf-status-heading", "#mwf-record-heading", "#mwf-growth-heading", "#mwf-history-heading"):
        assert f'href="{anchor}"' in page
    assert '<details class="mwf-disclosure" id="mwf-record-disclosure">' in page, "folded by default"
    # Sections in the order the coach needs them: status, sign-off, record, growth, history.
    positions = [page.index(f'id="{name}"') for name in (
        "mwf-status-heading", "mwf-decide-heading", "mwf-record-heading", "mwf-growth-heading", "mwf-history-heading")]
    assert positions == sorted(positions)


def test_rubric_errors_name_the_indicator_link_to_it_and_keep_the_entries(client, assigned, coach, indicators):
    client.force_login(coach)
    missing = indicators[2]
    data = form(indicators, **{f"rating-{missing.key}": "", f"strength-{indicators[0].key}": "Kept text 42."})
    response = client.post(record_url(assigned), data)
    page = response.content.decode()
    assert response.status_code == 400
    errors = page.split('id="mwf-errors"')[1].split("</div>")[0]
    assert f'href="#mwf-indicator-{missing.key}"' in errors and missing.label in errors
    assert "ratings." not in errors, "no internal keys"
    assert f'id="mwf-indicator-{missing.key}" tabindex="-1"' in page, "the link's target can take focus"
    assert "Kept text 42." in page and 'id="mwf-record-disclosure" open' in page
    assert Observation.objects.count() == 0


# --- privacy before submit ----------------------------------------------------------------------

def test_api_refuses_a_submit_with_identifying_text_naming_the_field(assigned, coach, course_key, indicators):
    ratings = ratings_for(indicators)
    key = indicators[1].key
    ratings[key]["next_step"] = IDENTIFYING
    data = {"practice_date": timezone.now().date().isoformat(), "setting": "home_visit", "overall_note": "Fine.",
            "ratings": ratings}
    with pytest.raises(api.ValidationError) as caught:
        api.save_observation(coach, assigned, course_key, data, submit=True)
    assert set(caught.value.message_dict) == {f"ratings.{key}.next_step"}
    assert "phone number" in " ".join(caught.value.message_dict[f"ratings.{key}.next_step"])
    assert Observation.objects.count() == 0
    draft = api.save_observation(coach, assigned, course_key, data)  # a draft is not shown to the learner
    assert draft.warnings == ["named_client", "phone"]
    confirmed = api.save_observation(coach, assigned, course_key, {**data, "privacy_confirmed": True}, submit=True)
    assert confirmed.observation.status == "submitted"
    assert AuditEvent.objects.filter(action="observation.identifier_check_confirmed",
                                     object_id=str(confirmed.observation.pk)).count() == 1


def test_the_page_refuses_identifying_text_until_confirmed(client, assigned, coach, indicators):
    client.force_login(coach)
    response = client.post(record_url(assigned), form(indicators, overall_note=IDENTIFYING))
    page = response.content.decode()
    assert response.status_code == 400 and Observation.objects.count() == 0
    errors = page.split('id="mwf-errors"')[1].split("</div>")[0]
    assert 'href="#mwf-note"' in errors and "Overall note" in errors and "phone number" in errors
    assert 'id="mwf-privacy-check"' in page and 'id="mwf-privacy-check" hidden' not in page
    assert IDENTIFYING in page, "the entry is kept for editing"
    response = client.post(record_url(assigned), form(indicators, overall_note=IDENTIFYING, privacy_confirmed="on"))
    assert response.status_code == 302 and Observation.objects.get().status == "submitted"


def test_the_page_sends_the_servers_patterns_to_the_browser(client, assigned, coach):
    client.force_login(coach)
    page = detail(client, assigned).content.decode()
    script = page.split('<script id="mwf-privacy-patterns" type="application/json">')[1].split("</script>")[0]
    assert json.loads(script) == privacy.client_patterns()
    assert {entry["kind"] for entry in json.loads(script)} == {"email", "phone", "birth_date", "named_client",
                                                              "address", "case_number"}
    assert 'id="mwf-privacy-check" hidden' in page


def test_rest_refuses_identifying_text_until_confirmed(client, assigned, coach, indicators):
    client.force_login(coach)
    url = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/"
    payload = {"learner": assigned.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
               "overall_note": IDENTIFYING, "ratings": ratings_for(indicators), "submit": True}
    response = client.post(url, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400 and "overall_note" in json.dumps(response.json())
    assert Observation.objects.count() == 0
    response = client.post(url, json.dumps({**payload, "privacy_confirmed": True}), content_type="application/json")
    assert response.status_code == 201 and Observation.objects.get().status == "submitted"


def test_the_block_refuses_identifying_text_until_confirmed(client, workbench, assigned, coach, indicators):
    client.force_login(coach)
    data = {"learner_id": assigned.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "overall_note": IDENTIFYING, "ratings": ratings_for(indicators), "submit": True}
    status, body = call(client, SIGNOFF, "record_observation", data)
    assert status == 400 and "overall_note" in body["errors"]
    status, body = call(client, SIGNOFF, "record_observation", {**data, "privacy_confirmed": True})
    assert status == 200 and body["observation"]["status"] == "submitted"


def test_privacy_warnings_after_a_draft_look_like_warnings(client, assigned, coach, indicators):
    client.force_login(coach)
    response = client.post(record_url(assigned), form(indicators, overall_note=IDENTIFYING, action="draft"),
                           follow=True)
    page = response.content.decode()
    assert 'class="mwf-message mwf-message-warning"' in page
    assert ".mwf-message-warning" in open(
        "miiwrap_fidelity/static/miiwrap_fidelity/coach_page.css", encoding="utf-8").read()


# --- certified learners see their evidence ------------------------------------------------------

def test_certified_learner_sees_the_evidence_and_expiry_not_zero_of_three(client, ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    dates = sorted(o.practice_date for o in Observation.objects.filter(learner=ready_learner))
    for who, url in ((ready_learner, reverse("miiwrap_fidelity:my_competency", args=[COURSE])),
                     (coach, reverse("miiwrap_fidelity:learner_detail", args=[COURSE, ready_learner.pk]))):
        client.force_login(who)
        page = client.get(url).content.decode()
        assert "Qualifying observations: 0 of 3" not in page
        assert "What this certification rests on" in page and "valid until" in page
        for day in dates:
            assert day.isoformat() in page.split('id="mwf-certified-evidence"')[1].split("</div>")[0]
        assert "Recertification before" in page and "0 of 3 new qualifying observations" in page


def test_certified_evidence_reads_three_queries(ready_learner, coach, course_key, django_assert_num_queries):
    api.sign_off(coach, ready_learner, course_key)
    learner = api.get_user(ready_learner.pk)
    # The learner themselves: no role query; the certification, its approvals, the observations.
    with django_assert_num_queries(3):
        evidence = api.certified_evidence(learner, learner, course_key)
    assert [o.percent for o in evidence.observations] == [100.0, 100.0, 100.0]
    assert evidence.certification.expires_at is not None and evidence.signed_off_by[0].username == coach.username


def test_no_evidence_once_revoked(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(coach, ready_learner, course_key, "Reviewed again.")
    assert api.certified_evidence(coach, ready_learner, course_key) is None


def test_the_coach_page_and_its_browser_messages_in_spanish(client, ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, ready_learner.pk]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in page and "Estado y próxima acción" in page and "En qué se basa esta certificación" in page
    assert f"Aprobada por el coach {coach.username}" in page
    messages = json.loads(page.split('<script id="mwf-autosave-messages" type="application/json">')[1]
                          .split("</script>")[0])
    assert messages["offline"].startswith("Está sin conexión")
    patterns = json.loads(page.split('<script id="mwf-privacy-patterns" type="application/json">')[1]
                          .split("</script>")[0])
    phone = next(entry for entry in patterns if entry["kind"] == "phone")
    assert phone["message"] != "This text contains what looks like a phone number.", "warned in Spanish"


def test_the_submitted_message_writes_the_percent_as_the_coach_language_does(client, assigned, coach, indicators):
    """Reviewer's finding: 'Observación enviada (90.5% …)' in Spanish, '(100.0% …)' in English."""
    client.force_login(coach)
    response = client.post(record_url(assigned), form(indicators), HTTP_ACCEPT_LANGUAGE="es", follow=True)
    assert "enviada (100\xa0% de" in response.content.decode() and "(100.0%" not in response.content.decode()
    response = client.post(record_url(assigned), form(indicators), follow=True)
    assert "Observation submitted (100% of applicable indicators met)." in response.content.decode()


def test_a_revoked_certification_is_still_named_after_new_evidence(client, ready_learner, coach, lead, course_key,
                                                                   observe):
    """
    The status row keeps an active certification only; the pages name the last one however it
    ended (review finding: taking it from the status row hid "revoked" once new evidence came in).
    """
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(lead, ready_learner, course_key, "Re-check after the audit.")
    observe(coach, ready_learner, days_ago=0)  # new evidence: the learner is working towards it again
    assert api.learner_status(lead, ready_learner, course_key).certification is None
    revoked = "The last certification was revoked."
    client.force_login(coach)
    assert revoked in detail(client, ready_learner).content.decode()
    client.force_login(ready_learner)
    assert revoked in client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
