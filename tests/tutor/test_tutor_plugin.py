"""The Tutor plugin, without Docker: enable it, save the configuration, read the rendered files.

Runs in the `tutor` tox env (Tutor's dependencies clash with Celery's, so it has an env of its own)."""
import os
import subprocess
import sys

import pytest

TUTOR = [os.path.join(os.path.dirname(sys.executable), "tutor")]


@pytest.fixture
def tutor_root(tmp_path):
    env = {**os.environ, "TUTOR_ROOT": str(tmp_path), "TUTOR_PLUGINS_ROOT": str(tmp_path / "plugins")}

    def run(*args):
        return subprocess.run(TUTOR + list(args), env=env, check=True, capture_output=True, text=True).stdout

    run("plugins", "enable", "miiwrap_fidelity")
    run("config", "save")
    return tmp_path, run


def read(root, *parts):
    with open(os.path.join(root, "env", *parts), encoding="utf-8") as handle:
        return handle.read()


def test_plugin_is_listed_and_enabled(tutor_root):
    _root, run = tutor_root
    listing = run("plugins", "list")
    assert "miiwrap_fidelity" in listing and "enabled" in listing.split("miiwrap_fidelity", 1)[1].splitlines()[0]


def test_image_installs_the_package(tutor_root):
    root, run = tutor_root
    dockerfile = read(root, "build", "openedx", "Dockerfile")
    assert "pip install 'miiwrap-fidelity'" in dockerfile
    run("config", "save", "--set", "MIIWRAP_FIDELITY_PIP_SPEC=miiwrap-fidelity==0.1.0")
    assert "pip install 'miiwrap-fidelity==0.1.0'" in read(root, "build", "openedx", "Dockerfile")


def test_rendered_settings_contain_our_configuration(tutor_root):
    root, run = tutor_root
    lms = read(root, "apps", "openedx", "settings", "lms", "production.py")
    assert "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN = 0" in lms
    assert "miiwrap_fidelity.tasks.expire_certifications" in lms
    assert "miiwrap_fidelity.certificate_sync.invalidate_lapsed_certificates" in lms
    assert "miiwrap_fidelity.notifications.send_expiry_reminders" in lms
    assert "miiwrap_fidelity.notifications.send_coach_digests" in lms
    cms = read(root, "apps", "openedx", "settings", "cms", "production.py")
    assert "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN = 0" in cms
    assert run("config", "printvalue", "MIIWRAP_FIDELITY_LOAD_SAMPLE_INSTRUMENT").strip() == "true"
