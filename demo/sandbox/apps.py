from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Stand-ins for the edx-platform pieces the plugin talks to (roles, certificates, events)."""

    name = "sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The LMS connects every plugin's signals_config receivers at start-up; so does the sandbox.
        from edx_django_utils.plugins import connect_plugin_receivers  # pylint: disable=import-outside-toplevel

        connect_plugin_receivers("lms.djangoapp")

        from .workbench_scenarios import list_only_ours  # pylint: disable=import-outside-toplevel

        list_only_ours()
