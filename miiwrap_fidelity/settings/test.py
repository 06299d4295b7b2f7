"""Test settings: the common ones (the platform's own test settings choose the fake backend)."""
from .common import plugin_settings as common_plugin_settings


def plugin_settings(settings):
    common_plugin_settings(settings)
