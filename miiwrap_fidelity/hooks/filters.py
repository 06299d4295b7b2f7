"""
openedx-filters pipeline steps: the competency gate on certificates and the render guard.

They only call ``api``; the platform runs them inside its certificate task and view.
"""
import logging

from crum import get_current_user
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from openedx_filters import PipelineStep
from openedx_filters.learning.filters import CertificateCreationRequested, CertificateRenderStarted
from web_fragments.fragment import Fragment

from .. import api

log = logging.getLogger(__name__)


class CompetencyCertificateGate(PipelineStep):
    """Prevent certificate creation until the learner's competency is certified (opted-in courses)."""

    def run_filter(self, user, course_key, mode, status, grade, generation_mode):  # pylint: disable=arguments-differ
        try:
            result = api.gate_decision(user, course_key)
        except Exception as exc:  # pylint: disable=broad-except
            # Fail closed: an error must never turn into an unearned certificate.
            log.exception("Competency gate failed for user %s in %s", getattr(user, "pk", None), course_key)
            raise CertificateCreationRequested.PreventCertificateCreation(
                _("Your certificate cannot be issued right now; please try again later.")
            ) from exc
        if not result.allowed:
            raise CertificateCreationRequested.PreventCertificateCreation(
                _("Your certificate requires demonstrated competency. %(details)s") % {"details": result.message}
            )
        return {
            "user": user, "course_key": course_key, "mode": mode, "status": status,
            "grade": grade, "generation_mode": generation_mode,
        }


class RevokedCertificateRenderGuard(PipelineStep):
    """Refuse to render a certificate whose competency certification was revoked or has expired."""

    def run_filter(self, context, custom_template):  # pylint: disable=arguments-differ
        user_id, course_id = context.get("accomplishment_user_id"), context.get("course_id")
        if user_id and course_id:
            if not api.certificate_still_valid(user_id, course_id):
                raise CertificateRenderStarted.RenderAlternativeInvalidCertificate(
                    _("This certificate is no longer valid: the holder's competency certification was revoked "
                      "or has expired.")
                )
        return {"context": context, "custom_template": custom_template}


TAB_ID = "miiwrap_coaching"
LEGACY_SECTION_TEMPLATE_PREFIX = "/instructor_dashboard/"


def _may_coach(user, course_key):
    """Course staff and assigned coaches see the Coaching tab; errors hide it rather than break the page."""
    try:
        return api.is_course_staff(user, course_key) or bool(api.coached_learner_ids(user, course_key))
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not decide whether to show the Coaching tab in %s", course_key)
        return False


def workspace_url(course_key, absolute=False):
    """The coach workspace's URL; ``absolute`` for the dashboard MFE, which is served from another
    origin (``LMS_ROOT_URL`` + path; the path alone where the setting is absent, as in the sandbox)."""
    path = reverse("miiwrap_fidelity:workspace", args=[str(course_key)])
    return f"{getattr(settings, 'LMS_ROOT_URL', '') or ''}".rstrip("/") + path if absolute else path


class CoachingDashboardTab(PipelineStep):
    """Add the "Coaching" tab to the Instructor Dashboard MFE (InstructorDashboardTabsRequested)."""

    def run_filter(self, tabs, user, course_key):  # pylint: disable=arguments-differ
        tabs = list(tabs or [])
        if _may_coach(user, course_key) and not any(tab.get("tab_id") == TAB_ID for tab in tabs):
            tabs.append({"tab_id": TAB_ID, "title": _("Coaching"), "url": workspace_url(course_key, absolute=True),
                         "sort_order": 90})
        return {"tabs": tabs, "user": user, "course_key": course_key}


class CoachingLegacySection(PipelineStep):
    """Add a "Coaching" section to the legacy instructor dashboard (InstructorDashboardRenderStarted)."""

    def run_filter(self, context, template_name):  # pylint: disable=arguments-differ
        course = context.get("course")
        course_key = getattr(course, "id", None) or context.get("course_id")
        # The legacy dashboard's context has no user: take the request's (django-crum, as the LMS does).
        user = context.get("user") or get_current_user()
        if course_key is None or user is None:
            return {"context": context, "template_name": template_name}
        course_key = api.parse_course_key(course_key)
        if _may_coach(user, course_key):
            html = render_to_string("miiwrap_fidelity/dashboard_section.html",
                                    {"workspace_url": workspace_url(course_key)})
            context.setdefault("sections", []).append({
                "section_key": TAB_ID,
                "section_display_name": _("Coaching"),
                "course_id": str(course_key),
                "template_path_prefix": LEGACY_SECTION_TEMPLATE_PREFIX,
                "fragment": Fragment(html),
            })
        return {"context": context, "template_name": template_name}
