"""Production settings: the common ones, then operator overrides from ``ENV_TOKENS``."""
from .common import DEFAULTS
from .common import plugin_settings as common_plugin_settings


def plugin_settings(settings):
    common_plugin_settings(settings)
    env_tokens = getattr(settings, "ENV_TOKENS", {}) or {}
    for name in DEFAULTS:
        if name in env_tokens:
            setattr(settings, name, env_tokens[name])
