"""
Tutor plugin (``tutor plugins enable miiwrap_fidelity``): adds the package to the Open edX image,
sets the plugin's settings, schedules its periodic tasks and loads the sample instrument at init.

The Django app itself needs nothing more: once installed it registers as an LMS/Studio plugin and
appends its openedx-filters steps (see the README).
"""
from tutor import hooks

hooks.Filters.CONFIG_DEFAULTS.add_items([
    ("MIIWRAP_FIDELITY_PIP_SPEC", "miiwrap-fidelity"),
    ("MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN", 0),
    ("MIIWRAP_FIDELITY_LOAD_SAMPLE_INSTRUMENT", True),
])

hooks.Filters.ENV_PATCHES.add_items([
    ("openedx-dockerfile-post-python-requirements",
     "# miiwrap-fidelity: observation-based competency certification\n"
     "RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared "
     "pip install '{{ MIIWRAP_FIDELITY_PIP_SPEC }}'"),
    ("openedx-common-settings",
     "# miiwrap-fidelity\n"
     "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN = {{ MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN }}"),
    ("openedx-lms-common-settings",
     "# miiwrap-fidelity periodic tasks (run by celery beat where it is enabled)\n"
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
