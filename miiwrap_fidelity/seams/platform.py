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

DEFAULT_BACKEND = "miiwrap_fidelity.seams.platform.EdxPlatform"
#: Our certificate invalidations are recognised by this note prefix (we lift only our own).
INVALIDATION_NOTE_PREFIX = "miiwrap-fidelity:"
#: ``source`` of the platform's ``edx.certificate.revoked`` tracking event when we invalidate.
INVALIDATION_SOURCE = "miiwrap_fidelity"
#: The notes of the allowlist entries we make ("replace grade" mode): we disable and restore only these.
ALLOWLIST_NOTE = "miiwrap-fidelity: competency signed off"
#: The platform's real answers to a certificate request (``request_certificate``): a generation task
#: was queued; the platform only marked the certificate (not passing, invalidated, unverified); a
#: filter refused it (``CertificateGenerationNotAllowed``); nothing was done (not eligible).
REQUESTED, NOT_PASSING, UNAVAILABLE, UNVERIFIED, NOT_ALLOWED, NOT_ELIGIBLE = (
    "requested", "notpassing", "unavailable", "unverified", "not_allowed", "not_eligible")
#: Certificate statuses the platform sets instead of generating (``_set_regular_cert_status``).
MARKED_STATUSES = {NOT_PASSING: NOT_PASSING, UNAVAILABLE: UNAVAILABLE, UNVERIFIED: UNVERIFIED}
#: What our e-mails' footer shows of the platform's own (ace_common's ``get_base_template_context``).
FOOTER_KEYS = ("platform_name", "contact_mailing_address", "homepage_url")


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
        Ask the platform to generate the learner's certificate; returns the platform's real answer
        (``REQUESTED`` when a generation task was queued, else what it did instead).

        A prevented request writes nothing and nothing retries it, so we call this after approval.
        In "replace grade" mode the learner is first allowlisted (or our disabled entry enabled
        again), which makes the platform skip its passing-grade check; an allowlist entry course
        staff made is left as they set it. ``generate_certificate_task`` answers True also when it
        only marked the certificate (``notpassing``, ``unavailable``, ``unverified``): the
        certificate's status, changed by this call, tells which. A refusal by a filter
        (``CertificateGenerationNotAllowed``) will not change by itself: it is an answer, not an error.
        """
        from django.utils import timezone  # pylint: disable=import-outside-toplevel
        from lms.djangoapps.certificates import api as certs_api  # pylint: disable=import-error,import-outside-toplevel
        from lms.djangoapps.certificates.generation_handler import (  # pylint: disable=import-error,import-outside-toplevel
            CertificateGenerationNotAllowed,
        )

        if allowlist:
            entry = certs_api.get_allowlist_entry(user, course_key)
            if entry is None or (entry.notes or "") == ALLOWLIST_NOTE:
                certs_api.create_or_update_certificate_allowlist_entry(user, course_key, notes=ALLOWLIST_NOTE)
        self._lift_own_invalidation(certs_api, user, course_key)
        started = timezone.now()
        try:
            queued = certs_api.generate_certificate_task(user, course_key, generation_mode="batch")
        except CertificateGenerationNotAllowed:
            return NOT_ALLOWED
        if not queued:
            return NOT_ELIGIBLE
        certificate = certs_api.get_certificate_for_user_id(user, course_key)
        marked = certificate is not None and (getattr(certificate, "modified_date", None) or started) >= started
        return MARKED_STATUSES.get(getattr(certificate, "status", None), REQUESTED) if marked else REQUESTED

    def invalidate_certificate(self, user, course_key, note, invalidated_by=None):
        """
        Take back the learner's platform certificate; True if there was one to take back.

        The render guard alone leaves the certificate "downloadable" on the learner dashboard, the
        Progress page and in Credentials. The platform's own way (what the instructor dashboard's
        "Invalidate certificate" does) is an invalidation entry plus ``GeneratedCertificate.invalidate``:
        the status becomes "unavailable", ``CERTIFICATE_REVOKED`` is sent (Credentials revokes the
        credential and its badges) and the entry keeps the platform from generating it again until
        we lift it (``request_certificate``). ``note`` starts with ``INVALIDATION_NOTE_PREFIX`` so we
        only ever lift our own entries, never one course staff made. The entry needs a user:
        the revoker, or (expiry has no actor) the learner.

        As the instructor dashboard: only a downloadable certificate is invalidated, and never for a
        learner on the allowlist, so our own allowlist entry is disabled first (staff's stay).
        """
        from lms.djangoapps.certificates import api as certs_api  # pylint: disable=import-error,import-outside-toplevel

        # Our allowlist entry goes first, whatever the certificate: it must not outlive the competency
        # (a later regeneration, e.g. after ID verification, would skip the grade check).
        entry = certs_api.get_allowlist_entry(user, course_key)
        if entry is not None and (entry.notes or "") == ALLOWLIST_NOTE and entry.allowlist:
            certs_api.create_or_update_certificate_allowlist_entry(user, course_key, notes=ALLOWLIST_NOTE,
                                                                   enabled=False)
        certificate = certs_api.get_certificate_for_user_id(user, course_key)
        if certificate is None or getattr(certificate, "status", None) != "downloadable":
            return False
        # One entry per certificate (update_or_create): an active one, course staff's or ours, stays as it is.
        if certs_api.get_certificate_invalidation_entry(certificate, active=True) is None:
            certs_api.create_certificate_invalidation_entry(certificate, invalidated_by or user,
                                                            f"{INVALIDATION_NOTE_PREFIX} {note}")
        certificate.invalidate(source=INVALIDATION_SOURCE)
        return True

    @staticmethod
    def _lift_own_invalidation(certs_api, user, course_key):
        """Deactivate an active invalidation we made (it blocks generation); leave staff's alone."""
        certificate = certs_api.get_certificate_for_user_id(user, course_key)
        if certificate is None:
            return
        entry = certs_api.get_certificate_invalidation_entry(certificate, active=True)
        if entry is not None and (entry.notes or "").startswith(INVALIDATION_NOTE_PREFIX):
            entry.deactivate()

    def enrolled_learner_ids(self, course_key):
        """The ids of the users actively enrolled in the course."""
        from common.djangoapps.student.models import (  # pylint: disable=import-error,import-outside-toplevel
            CourseEnrollment,
        )

        return list(CourseEnrollment.objects.filter(course_id=course_key, is_active=True)
                    .values_list("user_id", flat=True))

    def enrolled_ids(self, course_key, user_ids):
        """The ids among ``user_ids`` actively enrolled in the course (one query)."""
        from common.djangoapps.student.models import (  # pylint: disable=import-error,import-outside-toplevel
            CourseEnrollment,
        )

        return set(CourseEnrollment.objects.filter(course_id=course_key, user_id__in=list(user_ids), is_active=True)
                   .values_list("user_id", flat=True))

    def enrollment_dates(self, course_key, user_ids):
        """``{user_id: when they enrolled}`` (aware datetimes) for those enrolled in the course, in one query."""
        from common.djangoapps.student.models import (  # pylint: disable=import-error,import-outside-toplevel
            CourseEnrollment,
        )

        return dict(CourseEnrollment.objects.filter(course_id=course_key, user_id__in=list(user_ids))
                    .values_list("user_id", "created"))

    def time_zones(self, user_ids):
        """``{user_id: IANA time zone name}`` the users chose in their account settings (one query)."""
        from openedx.core.djangoapps.user_api.models import (  # pylint: disable=import-error,import-outside-toplevel
            UserPreference,
        )

        return dict(UserPreference.objects.filter(user_id__in=list(user_ids), key="time_zone")
                    .values_list("user_id", "value"))

    def full_names(self, user_ids):
        """The full names people gave in their account profile: ``{user_id: name}`` (one query; blanks left out)."""
        from common.djangoapps.student.models import UserProfile  # pylint: disable=import-error,import-outside-toplevel

        return {user_id: name for user_id, name in UserProfile.objects.filter(user_id__in=user_ids)
                .values_list("user_id", "name") if name and name.strip()}

    def course_progress(self, user, course_key):
        """
        The learner's progress through the course's content, for their coach.

        ``{"units": {"complete", "incomplete", "locked"}, "sections": [{"id", "title", "tags",
        "subsections": [{"id", "title", "earned", "possible"}]}]}``: units completed as the
        Progress page counts them (the completion API through the course's block structure, cached
        by the platform), knowledge-check scores from the persisted subsection grades (one query),
        the outline from learning_sequences (cached) and sections' Studio tags (one query).
        """
        # pylint: disable=import-error,import-outside-toplevel
        from lms.djangoapps.courseware.courses import get_course_blocks_completion_summary
        from lms.djangoapps.grades.api import get_subsection_grades
        from openedx.core.djangoapps.content.learning_sequences.api import get_course_outline
        from openedx.core.djangoapps.content_tagging.api import get_all_object_tags

        summary = get_course_blocks_completion_summary(course_key, user) or {}
        grades = get_subsection_grades(user.pk, course_key)
        tags, _taxonomies = get_all_object_tags(course_key)
        sections = []
        for section in get_course_outline(course_key).sections:
            subsections = []
            for sequence in section.sequences:
                grade = grades.get(sequence.usage_key)
                subsections.append({"id": str(sequence.usage_key), "title": sequence.title,
                                    "earned": float(grade.earned_all) if grade else 0.0,
                                    "possible": float(grade.possible_all) if grade else 0.0})
            section_tags = tags.get(str(section.usage_key), {})
            sections.append({"id": str(section.usage_key), "title": section.title, "subsections": subsections,
                             # newer platforms give tag values, older ObjectTag rows
                             "tags": [getattr(tag, "value", tag) for values in section_tags.values() for tag in values]})
        return {"units": {"complete": summary.get("complete_count", 0), "incomplete": summary.get("incomplete_count", 0),
                          "locked": summary.get("locked_count", 0)},
                "sections": sections}

    def course_name(self, course_key):
        """The course's display name, for messages (the key when the platform does not know it)."""
        from openedx.core.djangoapps.content.course_overviews.api import (  # pylint: disable=import-error,import-outside-toplevel
            get_course_overview_or_none,
        )

        overview = get_course_overview_or_none(course_key)
        return overview.display_name if overview is not None and overview.display_name else str(course_key)

    def preferred_language(self, user):
        """The language the user chose in their account settings (the site's default otherwise)."""
        # pylint: disable=import-error,import-outside-toplevel
        from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
        from openedx.core.djangoapps.user_api.preferences.api import get_user_preference

        return get_user_preference(user, LANGUAGE_KEY) or settings.LANGUAGE_CODE

    def message_footer(self):
        """
        The platform's own e-mail footer values: ``{"platform_name", "contact_mailing_address",
        "homepage_url"}`` (blanks left out; the home page made absolute).

        They are what ace_common's ``get_base_template_context(site)`` gives the LMS's base e-mail
        template (``ace_common/edx_ace/common/base_body.html``), for the current site as the LMS's own
        ACE tasks ask for it (``Site.objects.get_current()``): the site configuration's platform name
        and mailing address (else the settings') and the marketing site's home page. That template
        itself needs a request and the ACE message in its context (its link-tracking tags), so our
        templates show the values.
        """
        # pylint: disable=import-error,import-outside-toplevel
        from django.contrib.sites.models import Site
        from openedx.core.djangoapps.ace_common.template_context import get_base_template_context

        context = get_base_template_context(Site.objects.get_current())
        footer = {key: str(context.get(key) or "").strip() for key in FOOTER_KEYS}
        if footer["homepage_url"].startswith("/"):  # marketing_link("ROOT") may be a path of the LMS
            footer["homepage_url"] = getattr(settings, "LMS_ROOT_URL", "").rstrip("/") + footer["homepage_url"]
        return {key: value for key, value in footer.items() if value}

    def course_email_optout_url(self, user, course_key):
        """
        The platform's link to stop a course's e-mail for ``user`` (bulk_email's ``get_unsubscribed_link``:
        a page that asks to confirm, then records the ``Optout`` its ``CourseEmailOptout`` ACE policy
        reads, which our messages honour through their ``course_ids``); None on a platform without it.
        """
        try:
            from lms.djangoapps.bulk_email.api import (  # pylint: disable=import-error,import-outside-toplevel
                get_unsubscribed_link,
            )
        except ImportError:
            return None
        return get_unsubscribed_link(user.username, str(course_key))

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

    def users_named(self, name, limit, prefix=False):
        """
        The ids of up to ``limit`` users whose account profile's full name is ``name`` (``prefix``:
        starts with it), case ignored, lowest id first (one query on ``UserProfile.name``, which the
        platform indexes: a prefix is a range of it).
        """
        from common.djangoapps.student.models import UserProfile  # pylint: disable=import-error,import-outside-toplevel

        condition = {"name__istartswith" if prefix else "name__iexact": name}
        return list(UserProfile.objects.filter(**condition).order_by("user_id")
                    .values_list("user_id", flat=True)[:limit])


def get_platform():
    """The configured platform backend (the real one unless settings name a fake)."""
    path = getattr(settings, "MIIWRAP_FIDELITY_PLATFORM_BACKEND", DEFAULT_BACKEND)
    return import_string(path)()
