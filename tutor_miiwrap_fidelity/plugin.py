"""
Tutor plugin (``tutor plugins enable miiwrap_fidelity``): adds the package to the Open edX image,
sets the plugin's settings, runs celery beat for its periodic tasks (Tutor 22 runs none, local or
Kubernetes: ADR 0020) and loads the sample instrument at init.

The package is not published on a package index, so the image installs it from what the operator
names: a checkout mounted with ``tutor mounts add /path/to/miiwrap-fidelity`` (Tutor installs it
as an editable package), or ``MIIWRAP_FIDELITY_PIP_SPEC`` (a git URL or a wheel's path or URL),
installed with the image's own pip command and constrained to the platform's installed versions.
With neither, the image build stops with a message saying so.

The Django app itself needs nothing more: once installed it registers as an LMS/Studio plugin and
appends its openedx-filters steps (see the README).
"""
import json

from tutor import hooks

hooks.Filters.CONFIG_DEFAULTS.add_items([
    ("MIIWRAP_FIDELITY_PIP_SPEC", ""),
    ("MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN", 0),
    ("MIIWRAP_FIDELITY_LOAD_SAMPLE_INSTRUMENT", True),
    # Off where the operator already runs celery beat for the LMS (e.g. tutor-contrib-celery).
    ("MIIWRAP_FIDELITY_RUN_BEAT", True),
])

# ``tutor mounts add /path/to/miiwrap-fidelity``: the checkout is installed in the openedx image.
hooks.Filters.MOUNTED_DIRECTORIES.add_item(("openedx", "^miiwrap-fidelity$"))

#: celery beat for the LMS app, with the schedule the settings patch below declares.
BEAT_COMMAND = ["celery", "--app=lms.celery", "beat", "--loglevel=info",
                "--schedule=/tmp/miiwrap-celerybeat-schedule", "--pidfile="]

INSTALL = """# miiwrap-fidelity: observation-based competency certification
{% if MIIWRAP_FIDELITY_PIP_SPEC %}RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared \\
    $PIP_COMMAND freeze | grep -v -e '^-e ' -e ' @ ' > /tmp/miiwrap-platform-pins.txt \\
    && $PIP_COMMAND install --constraint /tmp/miiwrap-platform-pins.txt '{{ MIIWRAP_FIDELITY_PIP_SPEC }}'
{%- elif "miiwrap-fidelity" not in iter_mounted_directories(MOUNTS, "openedx") %}RUN echo "miiwrap-fidelity is enabled but not installed: run 'tutor mounts add /path/to/miiwrap-fidelity' or 'tutor config save --set MIIWRAP_FIDELITY_PIP_SPEC=<git URL or wheel>'" >&2 && false
{%- endif %}"""

BEAT_LOCAL = """{% if MIIWRAP_FIDELITY_RUN_BEAT %}miiwrap-beat:
  image: {{ DOCKER_IMAGE_OPENEDX }}
  environment:
    SERVICE_VARIANT: lms
    DJANGO_SETTINGS_MODULE: lms.envs.tutor.production
  command: BEAT_COMMAND
  restart: unless-stopped
  volumes:
    - ../apps/openedx/settings/lms:/openedx/edx-platform/lms/envs/tutor:roz
    - ../apps/openedx/settings/cms:/openedx/edx-platform/cms/envs/tutor:roz
    - ../apps/openedx/config:/openedx/config:roz
  depends_on:
    - lms-worker{% endif %}""".replace("BEAT_COMMAND", json.dumps(BEAT_COMMAND))

BEAT_K8S = """{% if MIIWRAP_FIDELITY_RUN_BEAT %}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: miiwrap-beat
  labels:
    app.kubernetes.io/name: miiwrap-beat
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app.kubernetes.io/name: miiwrap-beat
  template:
    metadata:
      labels:
        app.kubernetes.io/name: miiwrap-beat
    spec:
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
      containers:
        - name: miiwrap-beat
          image: {{ DOCKER_IMAGE_OPENEDX }}
          args: BEAT_COMMAND
          env:
          - name: SERVICE_VARIANT
            value: lms
          - name: DJANGO_SETTINGS_MODULE
            value: lms.envs.tutor.production
          volumeMounts:
            - mountPath: /openedx/edx-platform/lms/envs/tutor/
              name: settings-lms
            - mountPath: /openedx/edx-platform/cms/envs/tutor/
              name: settings-cms
            - mountPath: /openedx/config
              name: config
          securityContext:
            allowPrivilegeEscalation: false
      volumes:
        - name: settings-lms
          configMap:
            name: openedx-settings-lms
        - name: settings-cms
          configMap:
            name: openedx-settings-cms
        - name: config
          configMap:
            name: openedx-config{% endif %}""".replace("BEAT_COMMAND", json.dumps(BEAT_COMMAND))

hooks.Filters.ENV_PATCHES.add_items([
    ("openedx-dockerfile-post-python-requirements", INSTALL),
    ("local-docker-compose-prod-services", BEAT_LOCAL),
    ("k8s-deployments", BEAT_K8S),
    ("openedx-common-settings",
     "# miiwrap-fidelity\n"
     "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN = {{ MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN }}"),
    ("openedx-lms-common-settings",
     "# miiwrap-fidelity periodic tasks (run by the miiwrap-beat service, or your own celery beat)\n"
     "from celery.schedules import crontab as _miiwrap_crontab\n"
     "CELERYBEAT_SCHEDULE = dict(globals().get('CELERYBEAT_SCHEDULE', {}))\n"
     "CELERYBEAT_SCHEDULE['miiwrap-expire-certifications'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.expire_certifications', 'schedule': _miiwrap_crontab(minute=15, hour=2)}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-deliver-consequences'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.deliver_consequences', 'schedule': 60.0}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-request-pending-certificates'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.request_pending_certificates', 'schedule': 900.0}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-resume-stopped-reevaluations'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.resume_stopped_reevaluations', 'schedule': 600.0}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-refresh-stale-statuses'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.refresh_stale_statuses', 'schedule': 3600.0}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-refresh-search-names'] = {\n"
     "    'task': 'miiwrap_fidelity.tasks.refresh_search_names', 'schedule': _miiwrap_crontab(minute=45, hour=2)}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-invalidate-lapsed-certificates'] = {\n"
     "    'task': 'miiwrap_fidelity.certificate_sync.invalidate_lapsed_certificates', 'schedule': 900.0}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-expiry-reminders'] = {\n"
     "    'task': 'miiwrap_fidelity.notifications.send_expiry_reminders', 'schedule': _miiwrap_crontab(minute=30, hour=7)}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-overdue-notices'] = {\n"
     "    'task': 'miiwrap_fidelity.notifications.send_overdue_notices', 'schedule': _miiwrap_crontab(minute=45, hour=7)}\n"
     "CELERYBEAT_SCHEDULE['miiwrap-coach-digests'] = {\n"
     "    'task': 'miiwrap_fidelity.notifications.send_coach_digests',\n"
     "    'schedule': _miiwrap_crontab(minute=0, hour=7, day_of_week=1)}"),
])

hooks.Filters.CLI_DO_INIT_TASKS.add_item((
    "lms",
    "{% if MIIWRAP_FIDELITY_LOAD_SAMPLE_INSTRUMENT %}./manage.py lms load_instrument{% endif %}",
))
