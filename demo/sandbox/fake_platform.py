"""
A fake of ``miiwrap_fidelity.seams.platform.EdxPlatform`` for the sandbox and the tests.

Certificate generation mirrors edx-platform's ``_generate_certificate_task``: it runs the real
``CertificateCreationRequested`` filter pipeline, and a ``PreventCertificateCreation`` stops it
without writing a certificate. A generated certificate sends openedx-events' ``CERTIFICATE_CREATED``
and an invalidated one ``CERTIFICATE_REVOKED``, with the data ``GeneratedCertificate`` sends.
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import Signal
from openedx_events.learning.data import CertificateData, CourseData, UserData, UserPersonalData
from openedx_events.learning.signals import CERTIFICATE_CREATED, CERTIFICATE_REVOKED
from openedx_filters.learning.filters import CertificateCreationRequested

from miiwrap_fidelity.seams.platform import INVALIDATION_NOTE_PREFIX

from . import course_content
from .models import CertificateRequest, CourseRole, Enrollment, TrackingEvent

#: Stand-in for the platform's USER_RETIRE_LMS_MISC signal (kwargs: user).
USER_RETIRE_LMS_MISC = Signal()


class FakePlatform:
    def is_course_staff(self, user, course_key):
        """
        Like edx-platform's ``RoleCache``: a user's course roles are read in one query the first time
        they are needed and kept on that user object (a request's user lives for the request).
        """
        if not getattr(user, "is_authenticated", False):
            return False
        if user.is_superuser:
            return True
        if "_sandbox_staff_courses" not in user.__dict__:
            user._sandbox_staff_courses = {  # pylint: disable=protected-access
                str(key) for key in CourseRole.objects.filter(user_id=user.pk).values_list("course_key", flat=True)}
        return str(course_key) in user._sandbox_staff_courses  # pylint: disable=protected-access

    def request_certificate(self, user, course_key, allowlist=False):
        # A generation after an invalidation supersedes it (the real adapter lifts ours first).
        try:
            CertificateCreationRequested.run_filter(
                user=user, course_key=course_key, mode="verified", status="downloadable", grade=1.0,
                generation_mode="batch",
            )
        except CertificateCreationRequested.PreventCertificateCreation as exc:
            CertificateRequest.objects.create(course_key=course_key, user=user, outcome="prevented",
                                              message=str(exc), allowlisted=allowlist)
            return False
        CertificateRequest.objects.create(course_key=course_key, user=user, outcome="generated",
                                          allowlisted=allowlist)
        CERTIFICATE_CREATED.send_event(certificate=_certificate_data(user, course_key, "downloadable"))
        return True

    def invalidate_certificate(self, user, course_key, note, invalidated_by=None):
        """Like the platform's invalidation: only a generated certificate can be taken back."""
        latest = CertificateRequest.objects.filter(user=user, course_key=course_key).exclude(
            outcome="prevented").first()
        if latest is None or latest.outcome != "generated":
            return False
        CertificateRequest.objects.create(course_key=course_key, user=user, outcome="invalidated",
                                          message=f"{INVALIDATION_NOTE_PREFIX} {note}",
                                          allowlisted=latest.allowlisted)
        CERTIFICATE_REVOKED.send_event(certificate=_certificate_data(user, course_key, "unavailable"))
        return True

    def course_progress(self, user, course_key):
        return course_content.progress_for(user, course_key)

    #: user id -> language code, as the account settings would hold it (tests set it).
    LANGUAGES = {}

    def course_name(self, course_key):
        return "MiiWrap: high-fidelity wraparound (sandbox)" if str(course_key) == settings.DEMO_COURSE_ID \
            else str(course_key)

    def preferred_language(self, user):
        return self.LANGUAGES.get(user.pk) or settings.LANGUAGE_CODE

    def enrolled_learner_ids(self, course_key):
        return list(Enrollment.objects.filter(course_key=course_key, is_active=True).values_list("user_id", flat=True))

    def enrolled_ids(self, course_key, user_ids):
        return set(Enrollment.objects.filter(course_key=course_key, user_id__in=list(user_ids), is_active=True)
                   .values_list("user_id", flat=True))

    def enrollment_dates(self, course_key, user_ids):
        return dict(Enrollment.objects.filter(course_key=course_key, user_id__in=list(user_ids))
                    .values_list("user_id", "created"))

    #: user id -> IANA time zone name, as the account settings would hold it (tests set it).
    TIME_ZONES = {}

    def time_zones(self, user_ids):
        return {user_id: self.TIME_ZONES[user_id] for user_id in user_ids if user_id in self.TIME_ZONES}

    def full_names(self, user_ids):
        # The platform keeps the full name on UserProfile.name; the sandbox on the user's first/last name.
        return {user.pk: user.get_full_name() for user in get_user_model().objects.filter(pk__in=user_ids)
                .only("pk", "first_name", "last_name") if user.get_full_name().strip()}

    def message_footer(self):
        """A simple footer where the LMS gives its site's (ace_common's ``get_base_template_context``)."""
        return {"platform_name": "MiiWrap sandbox", "contact_mailing_address": "1 Sandbox Way, Demo City",
                "homepage_url": settings.LMS_ROOT_URL}

    def course_email_optout_url(self, user, course_key):
        """The sandbox has no course e-mail opt-out page (the LMS's bulk_email one)."""
        return None

    def emit_event(self, name, data):
        TrackingEvent.objects.create(name=name, data=data)

    def retirement_signals(self):
        return [USER_RETIRE_LMS_MISC]

    def users_named(self, name, limit, prefix=False):
        # The platform matches UserProfile.name; the sandbox the first and last name as get_full_name joins them.
        from django.db.models import CharField, Value  # pylint: disable=import-outside-toplevel
        from django.db.models.functions import Concat, Trim  # pylint: disable=import-outside-toplevel

        full_name = Trim(Concat("first_name", Value(" "), "last_name", output_field=CharField()))
        condition = {"miiwrap_full_name__istartswith" if prefix else "miiwrap_full_name__iexact": name}
        return list(get_user_model().objects.annotate(miiwrap_full_name=full_name)
                    .filter(**condition).order_by("pk").values_list("pk", flat=True)[:limit])


def _certificate_data(user, course_key, status):
    """``CertificateData`` as ``GeneratedCertificate.save`` / ``_revoke_certificate`` build it."""
    return CertificateData(
        user=UserData(id=user.pk, is_active=user.is_active,
                      pii=UserPersonalData(username=user.username, email=user.email, name=user.get_full_name())),
        course=CourseData(course_key=course_key), mode="verified", grade="1.0" if status == "downloadable" else "",
        current_status=status, download_url="", name=user.get_full_name(),
    )
