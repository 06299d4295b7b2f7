from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Stand-ins for the edx-platform pieces the plugin talks to (roles, certificates, events)."""

    name = "sandbox"
    default_auto_field = "django.db.models.BigAutoField"
