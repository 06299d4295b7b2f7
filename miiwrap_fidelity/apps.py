"""Django app configuration, registered with the LMS and Studio as an edx-django-utils plugin."""
import importlib.util

from django.apps import AppConfig

LMS = "lms.djangoapp"
CMS = "cms.djangoapp"


def _settings_for_project():
    return {
        "common": {"relative_path": "settings.common"},
        "test": {"relative_path": "settings.test"},
        "production": {"relative_path": "settings.production"},
        "devstack": {"relative_path": "settings.common"},
    }


class MiiwrapFidelityConfig(AppConfig):
    """The plugin app: models, the certificate gate and the coach workspace."""

    name = "miiwrap_fidelity"
    label = "miiwrap_fidelity"
    verbose_name = "MiiWrap fidelity and competency"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_app = {
        "url_config": {
            LMS: {"namespace": "miiwrap_fidelity", "regex": r"^", "relative_path": "urls"},
            CMS: {"namespace": "miiwrap_fidelity", "regex": r"^", "relative_path": "urls"},
        },
        "settings_config": {LMS: _settings_for_project(), CMS: _settings_for_project()},
        "signals_config": {
            LMS: {
                "relative_path": "hooks.receivers",
                "receivers": [
                    {
                        "receiver_func_name": "emit_competency_event",
                        "signal_path": "miiwrap_fidelity.api.signals.competency_changed",
                    },
                    {
                        "receiver_func_name": "enrollment_created",
                        "signal_path": "openedx_events.learning.signals.COURSE_ENROLLMENT_CREATED",
                    },
                    {
                        "receiver_func_name": "unenrollment_completed",
                        "signal_path": "openedx_events.learning.signals.COURSE_UNENROLLMENT_COMPLETED",
                    },
                ],
            },
        },
    }

    def ready(self):
        # Our own receivers (task queueing, certificate sync, messages), retirement receivers where the
        # platform defines the signals, and the xAPI transformers where event-routing-backends is installed.
        from .hooks import log_filters, receivers  # pylint: disable=import-outside-toplevel

        receivers.connect_internal_receivers()
        log_filters.install()  # our gate's refusals: one log line, not a traceback
        if importlib.util.find_spec("event_routing_backends") is not None:  # xAPI transformers (ADR 0008)
            from .seams import xapi  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
