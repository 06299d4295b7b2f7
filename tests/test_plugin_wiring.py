"""The plugin is found and wired the way the LMS finds plugins: entry points via edx-django-utils."""
from types import SimpleNamespace

from django.conf import settings
from django.urls import reverse
from edx_django_utils.plugins import get_plugin_apps, get_plugin_url_patterns
from edx_django_utils.plugins.plugin_settings import add_plugins

from miiwrap_fidelity.settings.common import (
    CERTIFICATE_CREATION,
    CERTIFICATE_RENDER,
    merge_filter_config,
    plugin_settings,
)

GATE = "miiwrap_fidelity.hooks.filters.CompetencyCertificateGate"
GUARD = "miiwrap_fidelity.hooks.filters.RevokedCertificateRenderGuard"


def test_entry_points_register_the_app_for_lms_and_studio():
    for project in ("lms.djangoapp", "cms.djangoapp"):
        assert "miiwrap_fidelity.apps.MiiwrapFidelityConfig" in get_plugin_apps(project)
    assert "miiwrap_fidelity.apps.MiiwrapFidelityConfig" in settings.INSTALLED_APPS


def test_plugin_urls_are_mounted_with_namespace():
    patterns = [str(p.pattern) for p in get_plugin_url_patterns("lms.djangoapp")]
    assert "^" in patterns
    assert reverse("miiwrap_fidelity:workspace", args=["course-v1:A+B+C"]) == \
        "/miiwrap-fidelity/courses/course-v1:A+B+C/coaching/"


def test_live_settings_append_our_steps_after_the_other_plugins():
    config = settings.OPEN_EDX_FILTERS_CONFIG
    assert config[CERTIFICATE_CREATION]["pipeline"] == ["sandbox.filters.OtherPluginCertificateStep", GATE]
    assert config[CERTIFICATE_CREATION]["fail_silently"] is False
    assert config[CERTIFICATE_RENDER]["pipeline"] == [GUARD]
    assert settings.MIIWRAP_FIDELITY_PLATFORM_BACKEND == "sandbox.fake_platform.FakePlatform"
    assert any(path.endswith("translations") for path in settings.LOCALE_PATHS)


def test_merge_keeps_other_filters_and_every_shorthand():
    existing = {
        "org.openedx.learning.course.enrollment.started.v1": {"pipeline": ["x.Step"], "fail_silently": True},
        CERTIFICATE_CREATION: "other.Step",
        CERTIFICATE_RENDER: ["render.One", "render.Two"],
    }
    merged = merge_filter_config(existing)
    assert merged["org.openedx.learning.course.enrollment.started.v1"] == existing[
        "org.openedx.learning.course.enrollment.started.v1"]
    assert merged[CERTIFICATE_CREATION]["pipeline"] == ["other.Step", GATE]
    assert merged[CERTIFICATE_RENDER]["pipeline"] == ["render.One", "render.Two", GUARD]
    assert existing[CERTIFICATE_RENDER] == ["render.One", "render.Two"], "the input is not mutated"


def test_merge_is_idempotent_and_respects_an_explicit_fail_silently():
    once = merge_filter_config({CERTIFICATE_CREATION: {"pipeline": ["a.B"], "fail_silently": True}})
    twice = merge_filter_config(once)
    assert twice == once
    assert once[CERTIFICATE_CREATION] == {"pipeline": ["a.B", GATE], "fail_silently": True}


def test_plugin_settings_on_a_prefilled_settings_object():
    fake = SimpleNamespace(OPEN_EDX_FILTERS_CONFIG={CERTIFICATE_CREATION: {"pipeline": ["x.Y"]}},
                           MIIWRAP_FIDELITY_PLATFORM_BACKEND="custom.Backend", LOCALE_PATHS=["/elsewhere"])
    plugin_settings(fake)
    assert fake.OPEN_EDX_FILTERS_CONFIG[CERTIFICATE_CREATION]["pipeline"] == ["x.Y", GATE]
    assert fake.MIIWRAP_FIDELITY_PLATFORM_BACKEND == "custom.Backend", "operator settings win"
    assert fake.LOCALE_PATHS[0] == "/elsewhere" and len(fake.LOCALE_PATHS) == 2


def test_add_plugins_production_reads_env_tokens(tmp_path, monkeypatch):
    module = tmp_path / "fake_lms_settings.py"
    module.write_text("ENV_TOKENS = {'MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN': 30}\nOPEN_EDX_FILTERS_CONFIG = {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    add_plugins("fake_lms_settings", "lms.djangoapp", "production")
    import fake_lms_settings  # pylint: disable=import-error,import-outside-toplevel

    assert fake_lms_settings.MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN == 30
    assert fake_lms_settings.OPEN_EDX_FILTERS_CONFIG[CERTIFICATE_CREATION]["pipeline"] == [GATE]


def test_signal_receivers_are_connected_through_signals_config(db):
    """The sandbox connects plugin receivers at start-up as the LMS does; the event reaches the platform."""
    from miiwrap_fidelity.api.signals import competency_changed  # pylint: disable=import-outside-toplevel
    from sandbox.models import TrackingEvent  # pylint: disable=import-outside-toplevel

    competency_changed.send(sender=None, learner_id=5, course_key="course-v1:A+B+C", state="ready", cause="test")
    event = TrackingEvent.objects.get(name="edx.miiwrap_fidelity.competency.changed")
    assert event.data == {"user_id": 5, "course_id": "course-v1:A+B+C", "state": "ready", "cause": "test"}
