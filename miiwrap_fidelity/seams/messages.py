"""
Messages through edx-ace, the platform's messaging framework (templates under
``templates/miiwrap_fidelity/edx_ace/<name>/email/``, rendered in the recipient's language).

This module only renders and hands a message to ACE; who gets which message, and whether they
want it, is decided in ``api/messaging.py``. See ADR 0008.

What every message carries for the platform (issue 26):

- ``course_ids`` in its context, the course's id: the LMS's course e-mail opt-out, an ACE policy
  (``CourseEmailOptout`` in lms/djangoapps/bulk_email/policies.py, ``bulk_email_optout`` in the
  LMS's ``ACE_ENABLED_POLICIES``), reads it and holds the e-mail back when the recipient opted out
  of that course's e-mail (the ``Optout`` rows the learner dashboard's e-mail settings write);
- a List-Unsubscribe header (edx-ace's ``Message.headers``, sent by its django_email channel): our
  preferences page for the non-essential messages; the platform's course e-mail opt-out link for
  the essential ones, which our preferences cannot stop (none when the platform has no such link).
  Neither page takes a one-click POST (RFC 8058), so there is no List-Unsubscribe-Post;
- the platform's footer (its name, home page and mailing address, from the platform adapter);
- people named by the full name they gave the platform, their username when they gave none.
"""
import logging

from django.conf import settings
from django.urls import reverse
from edx_ace import MessageType, Recipient, ace

from .platform import get_platform

log = logging.getLogger(__name__)


class MiiwrapMessage(MessageType):
    APP_LABEL = "miiwrap_fidelity"
    ESSENTIAL = False


class ObservationRecorded(MiiwrapMessage):
    NAME = "observation_recorded"


class ReflectionFeedback(MiiwrapMessage):
    NAME = "reflection_feedback"


class Certified(MiiwrapMessage):
    NAME = "certified"
    ESSENTIAL = True


class Revoked(MiiwrapMessage):
    NAME = "revoked"
    ESSENTIAL = True


class CertificationExpiring(MiiwrapMessage):
    NAME = "certification_expiring"
    ESSENTIAL = True


class CoachDigest(MiiwrapMessage):
    NAME = "coach_digest"


class LearnerOverdue(MiiwrapMessage):
    NAME = "learner_overdue"


def absolute(path):
    """A path of ours as a link in a message (``LMS_ROOT_URL`` + path)."""
    return getattr(settings, "LMS_ROOT_URL", "").rstrip("/") + path


def names_of(users, platform=None):
    """
    What our messages call people: ``{user id: the full name they gave the platform}``, their
    username when they gave none (one question to the platform for them all).
    """
    users = list(users)
    if not users:
        return {}
    full_names = (platform or get_platform()).full_names(sorted({user.pk for user in users}))
    return {user.pk: str(full_names.get(user.pk) or "").strip() or user.username for user in users}


def send(message_type, user, course_key, **context):
    """Render one message for ``user`` in their language and hand it to ACE; False when they have no e-mail."""
    if not user.email:
        return False
    platform = get_platform()
    course_id = str(course_key)
    preferences_url = absolute(reverse("miiwrap_fidelity:message_preferences"))
    context.update(
        course_id=course_id, course_ids=[course_id], course_name=platform.course_name(course_key),
        status_url=absolute(reverse("miiwrap_fidelity:my_competency", args=[course_id])),
        preferences_url=preferences_url, essential=message_type.ESSENTIAL,
        name=names_of([user], platform)[user.pk], footer=_footer(platform),
    )
    message = message_type(context=context).personalize(
        recipient=Recipient(lms_user_id=user.pk, email_address=user.email),
        language=platform.preferred_language(user), user_context={},
    )
    # personalize() leaves a message's headers empty: they are set on the message itself.
    unsubscribe_url = _course_optout_url(platform, user, course_key) if message_type.ESSENTIAL else preferences_url
    if unsubscribe_url:
        message.headers = {"List-Unsubscribe": f"<{unsubscribe_url}>"}
    ace.send(message)
    return True


def _footer(platform):
    """The platform's footer values; none (the message still goes) when the platform cannot say."""
    try:
        return platform.message_footer()
    except Exception:  # pylint: disable=broad-except  # a footer never costs a message
        log.warning("Our message goes without the platform's footer", exc_info=True)
        return {}


def _course_optout_url(platform, user, course_key):
    """The platform's course e-mail opt-out link; none (the message still goes) when it cannot give one."""
    try:
        return platform.course_email_optout_url(user, course_key)
    except Exception:  # pylint: disable=broad-except  # a header never costs a message
        log.warning("Our message goes without a List-Unsubscribe header", exc_info=True)
        return None
