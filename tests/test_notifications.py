"""
Messages through edx-ace's django_email channel (Django's in-memory outbox): who receives what, in
their language, with links and without any note, reason or feedback text; the opt-out; the schedules.
"""
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from miiwrap_fidelity import api
from miiwrap_fidelity.api import messaging
from miiwrap_fidelity.records.models import Certification, ExpiryReminder, LearnerStatus
from miiwrap_fidelity.tasks import messages as notifications
from sandbox.fake_platform import FakePlatform

from conftest import assign_coach, make_user

pytestmark = pytest.mark.django_db(transaction=True)
PRIVATE = ("Observed a home visit.", "Private reasoning", "Private revocation reason", "Great use of reflections")


@pytest.fixture(autouse=True)
def languages():
    FakePlatform.LANGUAGES.clear()
    yield FakePlatform.LANGUAGES
    FakePlatform.LANGUAGES.clear()


def sent(to=None):
    return [m for m in mail.outbox if to is None or m.to == [to.email]]


def text_of(message):
    return message.subject + message.body + message.alternatives[0][0]


def assert_nothing_private(message):
    for private in PRIVATE:
        assert private not in text_of(message)


def test_observation_reaches_the_learner_with_a_link_and_no_feedback_text(assigned, coach, observe,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    assert message.subject == "A coach observed your practice in MiiWrap: high-fidelity wraparound (sandbox)"
    assert "http://127.0.0.1:8000/miiwrap-fidelity/courses/course-v1:MiiWrap+FID101+2026/me/" in message.body
    assert "http://127.0.0.1:8000/miiwrap-fidelity/messages/" in message.body  # non-essential: the opt-out
    assert message.from_email == "coaching@sandbox.example.org"
    assert_nothing_private(message)
    assert sent(coach) == []


def test_certified_and_revoked_are_essential_and_sent_in_the_learners_language(
        ready_learner, coach, course_key, languages, django_capture_on_commit_callbacks):
    languages[ready_learner.pk] = "es"
    api.set_non_essential(ready_learner, False)  # opted out: essential ones still come
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key, reason="Private reasoning")
    with django_capture_on_commit_callbacks(execute=True):
        api.revoke(coach, ready_learner, course_key, "Private revocation reason")
    certified, revoked = sent(ready_learner)
    assert certified.subject.startswith("Tienes la certificación en ")
    assert revoked.subject.startswith("Se ha revocado la aprobación de tu competencia en ")
    for message in (certified, revoked):
        assert "salvo que desactives el correo de este curso" in message.body  # our preferences cannot stop it
        assert "/miiwrap-fidelity/messages/" not in message.body
        assert_nothing_private(message)


def test_opting_out_stops_the_non_essential_ones(assigned, coach, observe, client,
                                                 django_capture_on_commit_callbacks):
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:message_preferences")).content.decode()
    assert 'name="non_essential" checked' in page
    client.post(reverse("miiwrap_fidelity:message_preferences"), {})
    assert api.receives_non_essential(assigned) is False
    assert api.receives_non_essential(coach) is True  # only their own choice
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    assert sent(assigned) == []
    client.post(reverse("miiwrap_fidelity:message_preferences"), {"non_essential": "on"})
    assert api.receives_non_essential(assigned) is True


def test_preferences_page_needs_a_login(client):
    response = client.get(reverse("miiwrap_fidelity:message_preferences"))
    assert response.status_code == 302
    assert client.put(reverse("miiwrap_fidelity:message_preferences")).status_code in (302, 405)


def test_a_comment_on_a_reflection_tells_the_learner_without_the_comment(assigned, coach, course_key,
                                                                         django_capture_on_commit_callbacks):
    from miiwrap_fidelity.records.models import Reflection  # pylint: disable=import-outside-toplevel

    reflection = Reflection.objects.create(course_key=course_key, learner=assigned, block_id="block-1",
                                           status=Reflection.SUBMITTED, answers={"q1": "My answer"},
                                           prompts=[{"key": "q1", "text": "What did you try?"}])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api.comment_on_reflection(coach, reflection.pk, "Great use of reflections")
    [message] = sent(assigned)
    assert "commented on one of your reflections" in message.body
    assert_nothing_private(message)


def certify(ready_learner, coach, course_key, days_left):
    api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(expires_at=timezone.now() + timedelta(days=days_left))
    mail.outbox.clear()


def test_expiry_reminders_at_90_and_30_days_once_each(ready_learner, coach, course_key):
    certify(ready_learner, coach, course_key, days_left=120)
    assert notifications.send_expiry_reminders.apply().get() == 0
    now = timezone.now()
    assert notifications.send_expiry_reminders.apply(kwargs={"now": now + timedelta(days=31)}).get() == 1
    assert notifications.send_expiry_reminders.apply(kwargs={"now": now + timedelta(days=32)}).get() == 0
    assert notifications.send_expiry_reminders.apply(kwargs={"now": now + timedelta(days=91)}).get() == 1
    assert notifications.send_expiry_reminders.apply(kwargs={"now": now + timedelta(days=95)}).get() == 0
    first, second = sent(ready_learner)
    expires = date_format(Certification.objects.get().expires_at.date())  # in the recipient's language
    assert first.subject.endswith(f"expires on {expires}") and second.subject.endswith(f"expires on {expires}")
    assert sorted(ExpiryReminder.objects.values_list("days_before", flat=True)) == [30, 90]


def test_a_late_run_sends_only_the_nearest_reminder(ready_learner, coach, course_key):
    certify(ready_learner, coach, course_key, days_left=20)
    assert notifications.send_expiry_reminders.apply().get() == 1
    assert list(ExpiryReminder.objects.values_list("days_before", flat=True)) == [30]
    assert notifications.send_expiry_reminders.apply().get() == 0


def test_revoked_or_expired_certifications_get_no_reminder(ready_learner, coach, course_key):
    certify(ready_learner, coach, course_key, days_left=20)
    api.revoke(coach, ready_learner, course_key, "Private revocation reason")
    mail.outbox.clear()
    assert notifications.send_expiry_reminders.apply().get() == 0
    assert sent(ready_learner) == []


def test_coach_digest_lists_due_and_overdue_learners_of_that_coach_only(policy, lead, coach, coach2, course_key,
                                                                       observe):
    due, overdue, fresh, never = (make_user(name) for name in ("due_dana", "late_lou", "fresh_fay", "new_ned"))
    for learner in (due, overdue, fresh, never):
        assign_coach(lead, course_key, coach, learner)
        api.note_enrollment(learner.pk, course_key)
    other = make_user("other_olga")
    assign_coach(lead, course_key, coach2, other)
    api.note_enrollment(other.pk, course_key)
    cadence = messaging.cadence_days(policy)  # the sample policy: 180 days / 3 observations = 60
    observe(coach, due, days_ago=cadence + 1)
    observe(coach, overdue, days_ago=2 * cadence + 1)
    observe(coach, fresh, days_ago=1)
    mail.outbox.clear()
    assert notifications.send_coach_digests.apply().get() == 2  # coach, and coach2 for olga (never observed)
    [digest] = sent(coach)
    body = digest.body
    assert digest.subject.startswith("Learners due for observation in ")
    overdue_part, due_part = body.split("Due for observation:")
    assert "Long due for observation (twice that long, or never observed):" in overdue_part
    assert "late_lou" in overdue_part and "new_ned: never observed" in overdue_part
    assert "due_dana" in due_part and "fresh_fay" not in body and "other_olga" not in body
    assert "/coaching/" in body and "/miiwrap-fidelity/messages/" in body
    assert_nothing_private(digest)
    assert LearnerStatus.objects.filter(learner=never).exists()


def test_a_coach_who_opted_out_gets_no_digest(policy, lead, coach, course_key):
    learner = make_user("new_nia")
    assign_coach(lead, course_key, coach, learner)
    api.note_enrollment(learner.pk, course_key)
    api.set_non_essential(coach, False)
    mail.outbox.clear()
    assert notifications.send_coach_digests.apply().get() == 0


def test_retirement_removes_the_message_preference(learner):
    from miiwrap_fidelity.records import retirement  # pylint: disable=import-outside-toplevel
    from miiwrap_fidelity.records.models import MessagePreference  # pylint: disable=import-outside-toplevel

    api.set_non_essential(learner, False)
    retirement.scrub_user(learner.pk)
    assert not MessagePreference.objects.filter(user=learner).exists()
