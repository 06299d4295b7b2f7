"""
The one adapter between this plugin and edx-platform internals.

Every platform import happens inside a method, so this module imports cleanly outside the LMS.
The backend in use is named by the ``MIIWRAP_FIDELITY_PLATFORM_BACKEND`` setting; tests and the demo
point it at a fake with the same methods.
"""
import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "miiwrap_fidelity.platform.EdxPlatform"


class EdxPlatform:
    """edx-platform's roles, certificates, tracking and retirement signals."""

    def is_course_staff(self, user, course_key):
        """Course staff, course instructors and global staff administer competency."""
        from common.djangoapps.student.roles import (  # pylint: disable=import-error,import-outside-toplevel
            CourseInstructorRole,
            CourseStaffRole,
            GlobalStaff,
        )

        if not getattr(user, "is_authenticated", False):
            return False
        return (
            GlobalStaff().has_user(user)
            or CourseStaffRole(course_key).has_user(user)
            or CourseInstructorRole(course_key).has_user(user)
        )

    def request_certificate(self, user, course_key, allowlist=False):
        """
        Ask the platform to generate the learner's certificate.

        A prevented request writes nothing and nothing retries it, so we call this after approval.
        In "replace grade" mode the learner is first allowlisted, which makes the platform skip
        its passing-grade check.
        """
        from lms.djangoapps.certificates import api as certs_api  # pylint: disable=import-error,import-outside-toplevel

        if allowlist:
            certs_api.create_or_update_certificate_allowlist_entry(
                user, course_key, notes="miiwrap-fidelity: competency signed off"
            )
        return certs_api.generate_certificate_task(user, course_key, generation_mode="batch")

    def enrolled_learner_ids(self, course_key):
        """The ids of the users actively enrolled in the course."""
        from common.djangoapps.student.models import (  # pylint: disable=import-error,import-outside-toplevel
            CourseEnrollment,
        )

        return list(CourseEnrollment.objects.filter(course_id=course_key, is_active=True)
                    .values_list("user_id", flat=True))

    def emit_event(self, name, data):
        from eventtracking import tracker  # pylint: disable=import-error,import-outside-toplevel

        tracker.emit(name, data)

    def retirement_signals(self):
        """The platform's user-retirement signals, or none outside the LMS."""
        try:
            from openedx.core.djangoapps.user_api.accounts.signals import (  # pylint: disable=import-error,import-outside-toplevel
                USER_RETIRE_LMS_CRITICAL,
                USER_RETIRE_LMS_MISC,
            )
        except ImportError:
            return []
        return [USER_RETIRE_LMS_CRITICAL, USER_RETIRE_LMS_MISC]


def get_platform():
    """The configured platform backend (the real one unless settings name a fake)."""
    path = getattr(settings, "MIIWRAP_FIDELITY_PLATFORM_BACKEND", DEFAULT_BACKEND)
    return import_string(path)()
