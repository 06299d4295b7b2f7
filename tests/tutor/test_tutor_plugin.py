"""The Tutor plugin, without Docker: enable it, save the configuration, read the rendered files.

Runs in the `tutor` tox env (Tutor's dependencies clash with Celery's, so it has an env of its own)."""
import os
import subprocess
import sys

import pytest
import yaml

TUTOR = [os.path.join(os.path.dirname(sys.executable), "tutor")]
PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_the_image_installs_what_the_operator_names_and_refuses_to_build_without_it(tutor_root, tmp_path):
    root, run = tutor_root
    # Nothing published on a package index: by default the build stops with the way out in its message.
    dockerfile = read(root, "build", "openedx", "Dockerfile")
    assert "pip install 'miiwrap-fidelity'" not in dockerfile
    assert "miiwrap-fidelity is enabled but not installed: run 'tutor mounts add" in dockerfile
    # A checkout mounted the Tutor way is installed by Tutor's own editable install.
    checkout = tmp_path / "src" / "miiwrap-fidelity"
    checkout.mkdir(parents=True)
    run("mounts", "add", str(checkout))
    run("config", "save")
    dockerfile = read(root, "build", "openedx", "Dockerfile")
    assert 'RUN $PIP_COMMAND install -e "/mnt/miiwrap-fidelity"' in dockerfile
    assert "enabled but not installed" not in dockerfile
    run("mounts", "remove", str(checkout))
    # A spec (git URL, wheel): the image's pip command, held to the versions the platform installed.
    spec = "git+https://git.example.org/agency/miiwrap-fidelity.git@v0.1.0"
    run("config", "save", "--set", f"MIIWRAP_FIDELITY_PIP_SPEC={spec}")
    dockerfile = read(root, "build", "openedx", "Dockerfile")
    assert f"$PIP_COMMAND install --constraint /tmp/miiwrap-platform-pins.txt '{spec}'" in dockerfile
    assert "$PIP_COMMAND freeze | grep -v -e '^-e ' -e ' @ ' > /tmp/miiwrap-platform-pins.txt" in dockerfile


def test_the_rendered_install_command_installs_this_package(tutor_root, tmp_path):
    """The RUN line as rendered, run here with this env's pip (dry run, no dependencies: Tutor's clash)."""
    root, run = tutor_root
    run("config", "save", "--set", f"MIIWRAP_FIDELITY_PIP_SPEC={PROJECT}")
    dockerfile = read(root, "build", "openedx", "Dockerfile")
    start = dockerfile.index("$PIP_COMMAND freeze")
    command = dockerfile[start:dockerfile.index("\n", dockerfile.index("install --constraint", start))]
    command = command.replace("\\\n", " ").replace("/tmp/miiwrap-platform-pins.txt", str(tmp_path / "pins.txt"))
    pip = f"{sys.executable} -m pip"
    done = subprocess.run(["bash", "-c", command.replace("install --constraint", "install --dry-run --no-deps --constraint")],
                          env={**os.environ, "PIP_COMMAND": pip}, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Would install miiwrap-fidelity" in done.stdout
    assert "tutor==" in (tmp_path / "pins.txt").read_text(), "the pins are what the image has installed"


def test_celery_beat_runs_the_schedule_local_and_on_kubernetes(tutor_root):
    root, run = tutor_root
    local = yaml.safe_load(read(root, "local", "docker-compose.prod.yml"))
    beat = local["services"]["miiwrap-beat"]
    assert beat["command"][:3] == ["celery", "--app=lms.celery", "beat"]
    assert beat["image"] == local["services"]["lms-worker"]["image"]
    assert beat["environment"]["DJANGO_SETTINGS_MODULE"] == "lms.envs.tutor.production"
    deployments = {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(read(root, "k8s", "deployments.yml"))
                   if doc}
    k8s = deployments["miiwrap-beat"]
    assert k8s["spec"]["replicas"] == 1 and k8s["spec"]["strategy"]["type"] == "Recreate", "one beat, never two"
    assert k8s["spec"]["template"]["spec"]["containers"][0]["args"] == beat["command"]
    lms = read(root, "apps", "openedx", "settings", "lms", "production.py")
    assert "miiwrap_fidelity.tasks.deliver_consequences" in lms
    # An operator who already runs beat for the LMS turns ours off.
    run("config", "save", "--set", "MIIWRAP_FIDELITY_RUN_BEAT=false")
    assert "miiwrap-beat" not in read(root, "local", "docker-compose.prod.yml")
    assert "miiwrap-beat" not in read(root, "k8s", "deployments.yml")


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
