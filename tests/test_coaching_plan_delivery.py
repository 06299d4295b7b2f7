"""
Issue 31, the coaching loop's consequences and REST (ADR 0027, through the outbox of ADR 0019):

- a saved plan tells its learner their focus (edx-ace, their language, their name, the opt-out and
  List-Unsubscribe of every non-essential message), once; the steps stay on their page;
- a saved plan and a confirmed follow-up are announced once (a Django signal, a tracking event with
  ids and indicator keys, never a step's text);
- an outage (the broker, the mail server) never turns the committed save into an error: what could
  not be delivered waits and goes out once later;
- the REST endpoints: 200 / 400 / 403 / 404 for each, never a 500.
"""
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.coaching_plans import CoachingPlan
from miiwrap_fidelity.records.models import Consequence
from miiwrap_fidelity.rules import competency
from sandbox.fake_platform import FakePlatform
from sandbox.models import CourseRole, TrackingEvent

from conftest import COURSE, OTHER_COURSE, assign_coach, make_user

pytestmark = pytest.mark.django_db
REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
STEPS = ("Ask the family what they want first.", "Summarise the family's words before planning.")
NOTE = "I will open with their own words."
SAVED, FOLLOWED_UP = "edx.miiwrap_fidelity.coaching_plan.saved", "edx.miiwrap_fidelity.coaching_plan.followed_up"


@pytest.fixture(autouse=True)
def languages():
    FakePlatform.LANGUAGES.clear()
    yield FakePlatform.LANGUAGES
    FakePlatform.LANGUAGES.clear()


@pytest.fixture
def session(assigned, coach, observe):
    """A home visit where an essential indicator (voice and choice) was missed, and summaries partly."""
    observed = observe(coach, assigned, days_ago=20, miss=("mi-summaries", "eng-voice-choice"))
    later()  # the observation's own consequences are delivered before the plan is saved
    mail.outbox.clear()
    return observed


def focus(*steps):
    return [{"indicator": key, "step": step} for key, step in zip(("eng-voice-choice", "mi-summaries"), steps)]


def sent(to):
    return [message for message in mail.outbox if message.to == [to.email]]


def text_of(message):
    return message.subject + message.body + message.alternatives[0][0]


def events(name):
    return list(TrackingEvent.objects.filter(name=name).order_by("id"))


def pending_kinds():
    return sorted(Consequence.objects.filter(delivered_at__isnull=True).values_list("kind", flat=True))


def later():
    """The periodic pass, an hour on: past any retry delay."""
    return api.deliver_consequences(now=timezone.now() + timedelta(hours=1))


def save(coach, session, *steps, capture):
    mail.outbox.clear()
    with capture(execute=True):
        return api.save_plan(coach, session.pk, focus(*steps))


# --- the learner's message ---------------------------------------------------------------------

def test_a_saved_plan_tells_the_learner_their_focus_once_by_name_with_the_opt_out(
        assigned, coach, session, django_capture_on_commit_callbacks):
    assigned.first_name, assigned.last_name = "Ana", "Reyes"
    assigned.save()
    coach.first_name, coach.last_name = "Casey", "Morgan"
    coach.save()
    save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
    [message] = sent(assigned)
    assert message.subject == "Your focus before your next observed session in MiiWrap: high-fidelity wraparound (sandbox)"
    assert "Hello Ana Reyes," in message.body and "you and Casey Morgan agreed" in message.body
    assert "- Family voice and choice" in message.body and "- Summaries" in message.body
    assert "<li>Family voice and choice</li>" in message.alternatives[0][0]
    assert f"/miiwrap-fidelity/courses/{COURSE}/me/" in message.body, "the steps and the note are on their page"
    assert message.extra_headers["List-Unsubscribe"] == "<http://127.0.0.1:8000/miiwrap-fidelity/messages/>"
    assert "coach" not in message.body.replace("your coach", "").replace("Casey", ""), "a name, not a username"
    for step in STEPS:
        assert step not in text_of(message), "no free text about practice leaves the platform"
    assert sent(coach) == []
    assert later() == 0 and len(mail.outbox) == 1, "delivered once"


def test_the_message_is_in_the_learners_language(assigned, coach, session, languages,
                                                 django_capture_on_commit_callbacks):
    languages[assigned.pk] = "es"
    save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
    [message] = sent(assigned)
    assert "Hola, " in message.body, "rendered in Spanish"
    assert "- Resúmenes" in message.body, "the indicators in the instrument's Spanish"
    english = "Your focus before your next observed session in MiiWrap: high-fidelity wraparound (sandbox)"
    assert message.subject != english, "a Spanish subject (translations/: the plan message's strings)"


def test_the_same_focus_saved_again_tells_nobody_twice_and_a_changed_one_does(
        assigned, coach, session, django_capture_on_commit_callbacks):
    save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
    assert len(sent(assigned)) == 1
    save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)  # a client's retry
    assert sent(assigned) == [] and len(events(SAVED)) == 1
    save(coach, session, STEPS[0], capture=django_capture_on_commit_callbacks)  # one focus now
    [message] = sent(assigned)
    assert "Family voice and choice" in message.body and "Summaries" not in message.body
    assert [event.data["indicator_keys"] for event in events(SAVED)] == [
        ["eng-voice-choice", "mi-summaries"], ["eng-voice-choice"]]


def test_a_learner_who_opted_out_gets_no_message_and_the_event_still_goes(
        assigned, coach, session, django_capture_on_commit_callbacks):
    api.set_non_essential(assigned, False)
    save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
    assert sent(assigned) == [] and len(events(SAVED)) == 1 and pending_kinds() == []


# --- the events --------------------------------------------------------------------------------

def test_a_saved_plan_and_a_confirmed_follow_up_are_announced_once_with_ids_and_keys_only(
        assigned, coach, course_key, session, observe, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):  # pylint: disable=unused-argument
        received.append(kwargs)

    api.coaching_plan_saved.connect(receiver, dispatch_uid="test-plan-saved")
    api.coaching_follow_up_confirmed.connect(receiver, dispatch_uid="test-follow-up")
    try:
        plan = save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            api.add_learner_note(assigned, plan.id, NOTE)  # a note is the learner's: nothing announced
        following = observe(coach, assigned, days_ago=5, miss=("mi-summaries",))
        later()  # the observation's own consequences
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            api.confirm_follow_up(coach, plan.id, "mi-summaries", "slipped")
        with django_capture_on_commit_callbacks(execute=True):
            api.confirm_follow_up(coach, plan.id, "mi-summaries", "slipped")  # the same again: nothing new
    finally:
        api.coaching_plan_saved.disconnect(dispatch_uid="test-plan-saved")
        api.coaching_follow_up_confirmed.disconnect(dispatch_uid="test-follow-up")
    [saved] = events(SAVED)
    assert saved.data == {"user_id": assigned.pk, "course_id": COURSE, "plan_id": plan.id,
                          "observation_id": session.pk, "coach_id": coach.pk,
                          "indicator_keys": ["eng-voice-choice", "mi-summaries"]}
    [followed] = events(FOLLOWED_UP)
    assert followed.data == {"user_id": assigned.pk, "course_id": COURSE, "plan_id": plan.id,
                             "indicator_key": "mi-summaries", "outcome": "slipped", "computed_outcome": "held",
                             "observation_id": following.pk, "coach_id": coach.pk}
    assert [sorted(kwargs) for kwargs in received] == [
        ["coach_id", "course_key", "indicator_keys", "learner_id", "observation_id", "plan_id", "signal"],
        ["coach_id", "computed_outcome", "course_key", "indicator_key", "learner_id", "observation_id", "outcome",
         "plan_id", "signal"]]
    assert sent(assigned) == [], "a follow-up sends no message"
    stored = json.dumps([event.data for event in TrackingEvent.objects.all()]) + json.dumps(
        list(Consequence.objects.values_list("payload", flat=True)))
    for text in (*STEPS, NOTE):
        assert text not in stored, "no step or note in an event or the outbox"
    assert later() == 0 and len(events(SAVED)) == 1 and len(events(FOLLOWED_UP)) == 1


def test_a_failing_receiver_never_fails_the_save_nor_sends_the_others_twice(
        assigned, coach, session, django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise RuntimeError("another plugin's receiver")

    api.coaching_plan_saved.connect(broken, dispatch_uid="test-broken")
    try:
        plan = save(coach, session, *STEPS, capture=django_capture_on_commit_callbacks)
    finally:
        api.coaching_plan_saved.disconnect(dispatch_uid="test-broken")
    assert CoachingPlan.objects.filter(pk=plan.id).exists()
    assert len(events(SAVED)) == 1 and len(sent(assigned)) == 1 and pending_kinds() == []


# --- outages -----------------------------------------------------------------------------------

@pytest.fixture
def mail_server_down(settings):
    """Django's SMTP backend at a closed port (connection refused), not a patched send."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1

    def back_up():
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    return back_up


@pytest.mark.django_db(transaction=True)
def test_with_the_mail_server_down_the_save_answers_200_and_the_message_goes_once_later(
        client, assigned, coach, session, mail_server_down):
    client.force_login(coach)
    mail.outbox.clear()
    response = client.post(f"{REST}/observations/{session.pk}/plan/", json.dumps({"focus": focus(*STEPS)}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert CoachingPlan.objects.filter(pk=response.json()["id"]).exists(), "committed"
    assert len(events(SAVED)) == 1, "the event needs no mail server"
    assert pending_kinds() == [competency.PLAN_MESSAGE] and sent(assigned) == []
    mail_server_down()  # back up
    assert later() == 1 and len(sent(assigned)) == 1
    assert later() == 0 and len(sent(assigned)) == 1 and len(events(SAVED)) == 1




@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_plan_and_follow_up_answer_200_and_their_consequences_go_once(
        client, assigned, coach, session, observe, broker):
    plan_id = api.save_plan(coach, session.pk, focus(*STEPS)).id  # (its consequences delivered at once)
    observe(coach, assigned, days_ago=5)
    mail.outbox.clear()
    TrackingEvent.objects.all().delete()
    CoachingPlan.objects.filter(pk=plan_id).delete()  # a fresh plan, saved while the broker is down
    client.force_login(coach)
    broker.down()
    response = client.post(f"{REST}/observations/{session.pk}/plan/", json.dumps({"focus": focus(*STEPS)}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    plan_id = response.json()["id"]
    confirmed = client.post(f"{REST}/plans/{plan_id}/follow-up/",
                            json.dumps({"indicator": "mi-summaries", "outcome": "improved"}),
                            content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    # The message waits for the broker (a worker sends it, ADR 0008); the events need none.
    assert competency.PLAN_MESSAGE in pending_kinds() and competency.PLAN_SAVED not in pending_kinds()
    assert len(sent(assigned)) == 0 and len(events(SAVED)) == 1 and len(events(FOLLOWED_UP)) == 1
    broker.up()
    later()
    assert len(sent(assigned)) == 1 and len(events(SAVED)) == 1 and len(events(FOLLOWED_UP)) == 1


def test_a_newer_save_waiting_with_an_older_one_tells_the_learner_the_latest_focus_once(
        assigned, coach, session):
    # This test's transaction never commits: nothing is delivered until the periodic pass.
    api.save_plan(coach, session.pk, focus(*STEPS))
    api.save_plan(coach, session.pk, focus(STEPS[0]))
    mail.outbox.clear()
    assert later() == 4
    [message] = sent(assigned)
    assert "Family voice and choice" in message.body and "Summaries" not in message.body
    assert len(events(SAVED)) == 2, "each saved change is announced"


def test_retirement_leaves_nothing_to_deliver(assigned, coach, session):
    api.save_plan(coach, session.pk, focus(*STEPS))
    api.retire_user(assigned.pk)
    mail.outbox.clear()
    later()
    assert sent(assigned) == [] and not Consequence.objects.filter(learner_id=assigned.pk).exists()


# --- REST --------------------------------------------------------------------------------------

def post(client, path, body):
    return client.post(f"{REST}/{path}", json.dumps(body), content_type="application/json")


def test_rest_the_whole_loop(client, assigned, coach, session, observe, django_capture_on_commit_callbacks):
    client.force_login(coach)
    suggested = client.get(f"{REST}/observations/{session.pk}/focus-suggestions/")
    assert suggested.status_code == 200
    assert [row["indicator"] for row in suggested.json()["results"]] == ["eng-voice-choice", "mi-summaries"]
    assert suggested.json()["results"][0]["label"] == "Family voice and choice"
    assert client.get(f"{REST}/plans/current/?learner={assigned.pk}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        saved = post(client, f"observations/{session.pk}/plan/", {"focus": focus(*STEPS)})
    assert saved.status_code == 200, saved.content
    plan = saved.json()
    assert [(row["indicator"], row["step"], row["outcome"]) for row in plan["focus"]] == [
        ("eng-voice-choice", STEPS[0], None), ("mi-summaries", STEPS[1], None)]
    assert plan["observation"] == session.pk and plan["author"]["id"] == coach.pk
    client.force_login(assigned)
    noted = post(client, f"plans/{plan['id']}/note/", {"note": NOTE})
    assert noted.status_code == 200 and noted.json()["learner_note"] == NOTE
    mine = client.get(f"{REST}/plans/current/")
    assert mine.status_code == 200 and mine.json()["id"] == plan["id"]
    following = observe(coach, assigned, days_ago=5, miss=("mi-summaries",))
    client.force_login(coach)
    current = client.get(f"{REST}/plans/current/?learner={assigned.pk}").json()
    assert [(row["computed_outcome"], row["followed_up_by"]) for row in current["focus"]] == [
        ("improved", following.pk), ("held", following.pk)]
    confirmed = post(client, f"plans/{plan['id']}/follow-up/", {"indicator": "mi-summaries", "outcome": "slipped"})
    assert confirmed.status_code == 200
    assert [(row["confirmed_outcome"], row["outcome"]) for row in confirmed.json()["focus"]] == [
        (None, "improved"), ("slipped", "slipped")]


@pytest.mark.parametrize("body, field", [
    ({}, "focus"),
    ({"focus": "voice"}, "focus"),
    ({"focus": []}, "focus"),
    ({"focus": focus("a", "b") + [{"indicator": "mi-reflections", "step": "c"}]}, "focus"),
    ({"focus": [{"indicator": "no-such", "step": "x"}]}, "focus[0].indicator"),
    ({"focus": [{"indicator": "mi-summaries", "step": ""}]}, "focus[0].step"),
    ({"focus": [{"indicator": "mi-summaries", "step": "x" * 5001}]}, "focus[0].step"),
    ({"focus": [{"indicator": "mi-summaries", "step": "Call client Maria Lopez at 555-123-4567."}]}, "focus[0].step"),
    ({"focus": [{"indicator": "mi-summaries"}]}, "focus"),
    ({"focus": [{"indicator": "mi-summaries", "step": "x"}], "privacy_confirmed": "perhaps"}, "privacy_confirmed"),
])
def test_rest_a_bad_plan_is_a_400_with_a_message(client, coach, session, body, field):
    client.force_login(coach)
    response = post(client, f"observations/{session.pk}/plan/", body)
    assert response.status_code == 400, response.content
    assert field in response.json() and response.json()[field]
    assert not CoachingPlan.objects.exists()


def test_rest_bad_notes_and_follow_ups_are_400s(client, assigned, coach, session):
    plan = api.save_plan(coach, session.pk, focus(*STEPS))
    client.force_login(assigned)
    assert post(client, f"plans/{plan.id}/note/", {}).status_code == 400
    assert post(client, f"plans/{plan.id}/note/", {"note": "x" * 5001}).status_code == 400
    client.force_login(coach)
    for body, field in (({"indicator": "mi-summaries", "outcome": "better"}, "outcome"),
                        ({"indicator": "mi-reflections", "outcome": "held"}, "indicator"),
                        ({"indicator": "mi-summaries", "outcome": "held"}, "outcome"),  # not observed since
                        ({"outcome": "held"}, "indicator")):
        response = post(client, f"plans/{plan.id}/follow-up/", body)
        assert response.status_code == 400 and field in response.json(), (body, response.content)
    assert client.get(f"{REST}/plans/current/?learner=abc").status_code == 400
    assert client.get(f"{REST}/plans/current/?learner={assigned.pk}", HTTP_ACCEPT="application/json"
                      ).status_code == 200
    not_submitted = api.save_observation(coach, assigned, COURSE, {
        "practice_date": (timezone.now().date() - timedelta(days=2)).isoformat(), "setting": "home_visit",
        "ratings": {}}).observation  # a draft: no plan after it
    assert client.get(f"{REST}/observations/{not_submitted.pk}/focus-suggestions/").status_code == 400


def test_rest_who_may_do_what(client, assigned, coach, coach2, lead, session):
    plan = api.save_plan(coach, session.pk, focus(*STEPS))
    outsider = make_user("outsider")
    reads = {"current": f"{REST}/plans/current/?learner={assigned.pk}",
             "suggestions": f"{REST}/observations/{session.pk}/focus-suggestions/"}
    writes = {"plan": (f"observations/{session.pk}/plan/", {"focus": focus(*STEPS)}),
              "note": (f"plans/{plan.id}/note/", {"note": NOTE}),
              "follow_up": (f"plans/{plan.id}/follow-up/", {"indicator": "mi-summaries", "outcome": "held"})}
    expected = {  # the learner, an outsider, a second coach, course staff
        "current": [200, 403, 200, 200], "suggestions": [403, 403, 200, 200],
        "plan": [403, 403, 200, 200], "note": [200, 403, 403, 403], "follow_up": [403, 403, 400, 400]}
    for index, person in enumerate((assigned, outsider, coach2, lead)):
        client.force_login(person)
        for name, url in reads.items():
            assert client.get(url).status_code == expected[name][index], (name, person.username)
        for name, (path, body) in writes.items():
            # (a follow-up before the next observation is the allowed people's 400)
            assert post(client, path, body).status_code == expected[name][index], (name, person.username)
    client.logout()
    assert client.get(reads["current"]).status_code == 401


def test_rest_records_of_another_course_or_none_are_404(client, assigned, coach, lead, session, observe):
    plan = api.save_plan(coach, session.pk, focus(*STEPS))
    other = f"/api/miiwrap-fidelity/v1/courses/{OTHER_COURSE}"
    CourseRole.objects.create(course_key=api.parse_course_key(OTHER_COURSE), user=lead, role="staff")
    assign_coach(lead, OTHER_COURSE, coach, assigned)
    client.force_login(coach)
    for path in (f"observations/{session.pk}/focus-suggestions/", f"observations/{10 ** 6}/focus-suggestions/"):
        assert client.get(f"{other}/{path}").status_code == 404
    assert client.post(f"{other}/observations/{session.pk}/plan/", json.dumps({"focus": focus("x")}),
                       content_type="application/json").status_code == 404
    assert client.post(f"{other}/plans/{plan.id}/follow-up/", json.dumps({"indicator": "mi-summaries",
                                                                           "outcome": "held"}),
                       content_type="application/json").status_code == 404
    assert client.post(f"{REST}/plans/{10 ** 6}/follow-up/", json.dumps({"indicator": "mi-summaries",
                                                                          "outcome": "held"}),
                       content_type="application/json").status_code == 404
    client.force_login(assigned)
    assert client.post(f"{other}/plans/{plan.id}/note/", json.dumps({"note": NOTE}),
                       content_type="application/json").status_code == 404
    assert client.get(f"{other}/plans/current/").status_code == 404, "no plan in that course"
    assert client.get(f"{REST}/plans/current/").status_code == 200
    assert CoachingPlan.objects.get().learner_note == ""
