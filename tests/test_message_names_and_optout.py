"""
Issue 26, our e-mails (edx-ace, django_email channel, Django's in-memory outbox):

- they greet people by the full name they gave the platform, and name the other people in them
  (a digest's learners, an overdue learner, a comment's author) the same way; the username only
  when someone gave no name;
- every one carries ``course_ids``, which the LMS's course e-mail opt-out policy reads
  (``lms/djangoapps/bulk_email/policies.py``: ``CourseEmailOptout``), so a person who opted out of
  a course's e-mail gets none of ours about it;
- they carry a List-Unsubscribe header and the platform's footer (through the platform adapter).
"""
import sys
import types
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from edx_ace import policy as ace_policy
from edx_ace.channel import ChannelType
from edx_ace.policy import Policy, PolicyResult
from opaque_keys.edx.keys import CourseKey

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Certification, Reflection
from miiwrap_fidelity.seams import platform
from miiwrap_fidelity.tasks import messages as notifications
from sandbox.fake_platform import FakePlatform

from conftest import COURSE, OTHER_COURSE, assign_coach, make_user

pytestmark = pytest.mark.django_db(transaction=True)
PREFERENCES = "http://127.0.0.1:8000/miiwrap-fidelity/messages/"


def sent(to=None):
    return [m for m in mail.outbox if to is None or m.to == [to.email]]


def html_of(message):
    return message.alternatives[0][0]


def named(user, first, last):
    """The name a person gave the platform (the sandbox keeps it on first/last name)."""
    get_user_model().objects.filter(pk=user.pk).update(first_name=first, last_name=last)
    user.first_name, user.last_name = first, last
    return user


def submitted_reflection(learner, course_key):
    return Reflection.objects.create(course_key=course_key, learner=learner, block_id="block-1",
                                     status=Reflection.SUBMITTED, answers={"q1": "My answer"},
                                     prompts=[{"key": "q1", "text": "What did you try?"}])


def overdue(lead, course_key, learner, *coaches):
    for person in coaches:
        assign_coach(lead, course_key, person, learner)
    api.set_start_date(lead, course_key, learner, "2025-01-01")
    api.save_policy(lead, course_key, deadline_days=30)
    api.reevaluate_course(course_key)


# --- 1. names, not usernames ------------------------------------------------------------------------

def test_the_greeting_uses_the_recipients_full_name(assigned, coach, observe, django_capture_on_commit_callbacks):
    named(assigned, "Ana", "Reyes")
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    assert "Hello Ana Reyes," in message.body and "Hello Ana Reyes," in html_of(message)
    assert "Hello learner," not in message.body + html_of(message)


def test_someone_without_a_name_is_greeted_by_username(assigned, coach, observe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    assert "Hello learner," in message.body and "Hello learner," in html_of(message)


def test_the_coach_digest_names_learners_by_full_name(policy, lead, coach, course_key):
    named(coach, "Cora", "Castillo")
    dana, lou = named(make_user("due_dana"), "Dana", "Díaz"), named(make_user("late_lou"), "Lou", "O'Neil")
    ned = make_user("new_ned")  # no name given: the username
    for learner in (dana, lou, ned):
        assign_coach(lead, course_key, coach, learner)
        api.note_enrollment(learner.pk, course_key)
    mail.outbox.clear()
    assert notifications.send_coach_digests.apply().get() == 1
    [digest] = sent(coach)
    assert "Hello Cora Castillo," in digest.body
    for line in ("Dana Díaz: never observed", "Lou O'Neil: never observed", "new_ned: never observed"):
        assert line in digest.body
    assert "due_dana" not in digest.body and "late_lou" not in digest.body
    assert "Lou O&#x27;Neil" in html_of(digest) and "Dana Díaz" in html_of(digest)  # escaped in HTML only


def test_the_overdue_notice_names_the_learner(policy, lead, coach, course_key):
    learner = named(make_user("late_lou"), "Lou", "Lara")
    overdue(lead, course_key, learner, coach)
    mail.outbox.clear()
    assert notifications.send_overdue_notices.apply().get() == 1
    [notice] = sent(coach)
    assert "Lou Lara passed their due date" in notice.subject
    assert notice.body.count("Lou Lara, whom you coach") == 1 and "Lou Lara, whom you coach" in html_of(notice)
    assert learner.username not in notice.subject + notice.body


def test_the_reflection_message_names_the_comments_author(assigned, coach, course_key,
                                                          django_capture_on_commit_callbacks):
    named(coach, "Cora", "Castillo")
    reflection = submitted_reflection(assigned, course_key)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api.comment_on_reflection(coach, reflection.pk, "Great use of reflections")
    [message] = sent(assigned)
    assert "Cora Castillo commented on one of your reflections" in message.body
    assert "Cora Castillo commented on one of your reflections" in html_of(message)
    assert "Cora Castillo" in message.subject
    assert "Great use of reflections" not in message.subject + message.body + html_of(message)


# --- 2. the LMS's course e-mail opt-out ---------------------------------------------------------------

class CourseEmailOptout(Policy):
    """
    The LMS's policy (openedx-platform, lms/djangoapps/bulk_email/policies.py) as it is, with a set
    of ``(user id, course key)`` for its ``Optout`` rows; ``seen`` records what it was asked.
    """

    def __init__(self, optouts, seen):
        self.optouts, self.seen = optouts, seen

    def check(self, message):
        self.seen.append((message.name, message.context.get("course_ids")))
        course_ids = message.context.get("course_ids")
        if not course_ids:
            return PolicyResult(deny=frozenset())
        course_keys = [CourseKey.from_string(course_id) for course_id in course_ids]
        if sum((message.recipient.lms_user_id, key) in self.optouts for key in course_keys) == len(course_keys):
            return PolicyResult(deny={ChannelType.EMAIL})
        return PolicyResult(deny=frozenset())


class Optouts(set):
    seen: list


@pytest.fixture
def optout_rows(monkeypatch):
    """The LMS's ACE policies (``ACE_ENABLED_POLICIES = ['bulk_email_optout']``) in place of the sandbox's none."""
    rows = Optouts()
    rows.seen = []
    monkeypatch.setattr(ace_policy, "policies", lambda: [CourseEmailOptout(rows, rows.seen)])
    return rows


def test_a_learner_who_opted_out_of_the_courses_email_gets_none_of_ours(optout_rows, ready_learner, coach,
                                                                       course_key, observe,
                                                                       django_capture_on_commit_callbacks):
    optout_rows.add((ready_learner.pk, course_key))
    reflection = submitted_reflection(ready_learner, course_key)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, ready_learner, days_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        api.comment_on_reflection(coach, reflection.pk, "Great use of reflections")
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    Certification.objects.update(expires_at=timezone.now() + timedelta(days=20))
    notifications.send_expiry_reminders.apply().get()
    with django_capture_on_commit_callbacks(execute=True):
        api.revoke(coach, ready_learner, course_key, "Private revocation reason")
    assert sent(ready_learner) == []
    assert {name for name, _ in optout_rows.seen} == {
        "observation_recorded", "reflection_feedback", "certified", "certification_expiring", "revoked"}
    assert {tuple(course_ids) for _, course_ids in optout_rows.seen} == {(COURSE,)}


def test_a_coach_who_opted_out_of_the_courses_email_gets_no_digest_or_notice(optout_rows, policy, lead, coach,
                                                                            coach2, learner, course_key):
    overdue(lead, course_key, learner, coach, coach2)
    optout_rows.add((coach.pk, course_key))
    mail.outbox.clear()
    notifications.send_overdue_notices.apply().get()
    notifications.send_coach_digests.apply().get()
    assert sent(coach) == []
    assert sorted(m.subject.split(" ")[0] for m in sent(coach2)) == ["Learners", learner.username]
    assert {name for name, _ in optout_rows.seen} == {"learner_overdue", "coach_digest"}
    assert {tuple(course_ids) for _, course_ids in optout_rows.seen} == {(COURSE,)}


def test_an_opt_out_of_another_course_stops_nothing(optout_rows, assigned, coach, observe,
                                                    django_capture_on_commit_callbacks):
    optout_rows.add((assigned.pk, CourseKey.from_string(OTHER_COURSE)))
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    assert len(sent(assigned)) == 1


# --- 3. List-Unsubscribe and the platform's footer -------------------------------------------------------

def test_a_non_essential_message_has_list_unsubscribe_to_the_preferences_page(assigned, coach, observe,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    mime = message.message()
    assert mime["List-Unsubscribe"] == f"<{PREFERENCES}>"
    assert mime["List-Unsubscribe-Post"] is None  # no one-click endpoint: the link opens the page


def test_an_essential_message_points_list_unsubscribe_at_the_platforms_course_opt_out(
        ready_learner, coach, course_key, monkeypatch, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    [certified] = sent(ready_learner)
    assert certified.message()["List-Unsubscribe"] is None  # the sandbox has no course opt-out page
    monkeypatch.setattr(FakePlatform, "course_email_optout_url", raising=False,
                        value=lambda self, user, course_key: f"http://lms.test/email/optout/t-{user.pk}/{course_key}/")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api.revoke(coach, ready_learner, course_key, "Private revocation reason")
    [revoked] = sent(ready_learner)
    assert revoked.message()["List-Unsubscribe"] == f"<http://lms.test/email/optout/t-{ready_learner.pk}/{COURSE}/>"
    assert PREFERENCES not in revoked.body  # essential: our preferences cannot stop it


def test_every_message_ends_with_the_platforms_footer(assigned, coach, observe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    year = timezone.now().year
    for body in (message.body, html_of(message)):
        assert f"© {year} MiiWrap sandbox. All rights reserved." in body
        assert "Our mailing address is:" in body and "1 Sandbox Way" in body
        assert body.index("Sandbox Way") > body.index("observation of your practice")
    assert 'href="http://127.0.0.1:8000"' in html_of(message)  # the platform's home page


def test_a_footer_that_fails_loses_no_message(assigned, coach, observe, monkeypatch,
                                               django_capture_on_commit_callbacks):
    def broken(self):
        raise RuntimeError("site configuration unavailable")

    monkeypatch.setattr(FakePlatform, "message_footer", broken, raising=False)
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, assigned, days_ago=1)
    [message] = sent(assigned)
    assert "Sandbox Way" not in message.body and "observation of your practice" in message.body


# --- the real adapter, against stand-ins of the edx-platform modules it imports ---------------------------

@pytest.fixture
def edx_messaging(monkeypatch):
    """Stand-ins with edx-platform's signatures (openedx-platform master): ace_common's
    ``get_base_template_context(site)``, bulk_email's ``get_unsubscribed_link(username, course_id)``,
    Django's ``Site`` (not installed in the sandbox)."""
    calls = []

    def module(name, **attributes):
        stand_in = types.ModuleType(name)
        stand_in.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, stand_in)

    site = types.SimpleNamespace(domain="lms.example.org")

    def get_base_template_context(given_site):
        calls.append(("context", given_site))
        return {"homepage_url": "/", "dashboard_url": "/dashboard", "template_revision": None,
                "platform_name": "Example Academy", "contact_email": "help@example.org",
                "contact_mailing_address": "2 Main St\nSpringfield", "social_media_urls": {},
                "mobile_store_urls": {}, "logo_url": "https://lms.example.org/logo.png",
                "site_configuration_values": {}}

    def get_unsubscribed_link(username, course_id):
        calls.append(("optout", username, course_id))
        return f"https://lms.example.org/email/optout/TOKEN/{course_id}/"

    module("django.contrib.sites.models", Site=types.SimpleNamespace(
        objects=types.SimpleNamespace(get_current=lambda request=None: site)))
    module("openedx.core.djangoapps.ace_common.template_context", get_base_template_context=get_base_template_context)
    module("lms.djangoapps.bulk_email.api", get_unsubscribed_link=get_unsubscribed_link)
    for parent in ("lms", "lms.djangoapps", "lms.djangoapps.bulk_email", "openedx", "openedx.core",
                   "openedx.core.djangoapps", "openedx.core.djangoapps.ace_common"):
        if parent not in sys.modules:
            module(parent)
    return types.SimpleNamespace(calls=calls, site=site)


def test_the_real_footer_is_the_platforms_base_template_context(edx_messaging, settings):
    settings.LMS_ROOT_URL = "https://lms.example.org"
    footer = platform.EdxPlatform().message_footer()
    assert edx_messaging.calls == [("context", edx_messaging.site)]
    assert footer == {"platform_name": "Example Academy", "contact_mailing_address": "2 Main St\nSpringfield",
                      "homepage_url": "https://lms.example.org/"}


def test_the_real_course_opt_out_link_is_bulk_emails(edx_messaging, monkeypatch):
    user = types.SimpleNamespace(pk=7, username="ana")
    assert platform.EdxPlatform().course_email_optout_url(user, CourseKey.from_string(COURSE)) == \
        f"https://lms.example.org/email/optout/TOKEN/{COURSE}/"
    assert edx_messaging.calls == [("optout", "ana", COURSE)]
    monkeypatch.setitem(sys.modules, "lms.djangoapps.bulk_email.api", None)  # a platform without it
    assert platform.EdxPlatform().course_email_optout_url(user, COURSE) is None
