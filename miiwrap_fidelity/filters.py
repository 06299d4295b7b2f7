"""
openedx-filters pipeline steps: the competency gate on certificates and the render guard.

They only call ``api``; the platform runs them inside its certificate task and view.
"""
import logging

from django.utils.translation import gettext as _
from openedx_filters import PipelineStep
from openedx_filters.learning.filters import CertificateCreationRequested, CertificateRenderStarted

from . import api

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
            certification = api.certification_status(user_id, course_id)
            if certification is not None and not certification["active"]:
                raise CertificateRenderStarted.RenderAlternativeInvalidCertificate(
                    _("This certificate is no longer valid: the holder's competency certification was revoked "
                      "or has expired.")
                )
        return {"context": context, "custom_template": custom_template}
