"""
Messages through edx-ace, the platform's messaging framework (templates under
``templates/miiwrap_fidelity/edx_ace/<name>/email/``, rendered in the recipient's language).

This module only renders and hands a message to ACE; who gets which message, and whether they
want it, is decided in ``api/messaging.py``. See ADR 0008.
"""
from django.conf import settings
from django.urls import reverse
from edx_ace import MessageType, Recipient, ace

from .platform import get_platform


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


def send(message_type, user, course_key, **context):
    """Render one message for ``user`` in their language and hand it to ACE; False when they have no e-mail."""
    if not user.email:
        return False
    platform = get_platform()
    context.update(
        course_id=str(course_key), course_name=platform.course_name(course_key),
        status_url=absolute(reverse("miiwrap_fidelity:my_competency", args=[str(course_key)])),
        preferences_url=absolute(reverse("miiwrap_fidelity:message_preferences")),
        essential=message_type.ESSENTIAL, username=user.username,
    )
    message = message_type(context=context).personalize(
        recipient=Recipient(lms_user_id=user.pk, email_address=user.email),
        language=platform.preferred_language(user), user_context={},
    )
    ace.send(message)
    return True
