"""
Settings of the sandbox, assembled the way the LMS assembles its own: plugin apps, plugin settings
and plugin URLs are discovered through edx-django-utils from the installed package's entry points.
Tests use these settings too.
"""
import os

from edx_django_utils.plugins import add_plugins, get_plugin_apps

PROJECT_TYPE = "lms.djangoapp"
BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = os.environ.get("MIIWRAP_DEMO_SECRET_KEY", "sandbox-only-not-a-secret")
DEBUG = os.environ.get("MIIWRAP_DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "djpyfs",
    "workbench",
    "sandbox",
] + get_plugin_apps(PROJECT_TYPE)

MIDDLEWARE = [
    # As the LMS: the request cache (api/memo.py) is emptied at each request's start and end.
    "edx_django_utils.cache.middleware.RequestCacheMiddleware",
    "crum.CurrentRequestUserMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sandbox_project.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]


def _database():
    engine = os.environ.get("MIIWRAP_DB_ENGINE", "sqlite")
    if engine == "mysql":
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("MIIWRAP_DB_NAME", "miiwrap"),
            "USER": os.environ.get("MIIWRAP_DB_USER", "root"),
            "PASSWORD": os.environ.get("MIIWRAP_DB_PASSWORD", ""),
            "HOST": os.environ.get("MIIWRAP_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("MIIWRAP_DB_PORT", "3306"),
            "ATOMIC_REQUESTS": True,
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    return {"ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("MIIWRAP_DB_NAME", os.path.join(BASE_DIR, "db.sqlite3"))}


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]

STATIC_URL = "/static/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Another plugin's pipeline step is already configured here, as it may be on a real LMS: ours
# must be appended after it, not replace it.
OPEN_EDX_FILTERS_CONFIG = {
    "org.openedx.learning.certificate.creation.requested.v1": {
        "pipeline": ["sandbox.filters.OtherPluginCertificateStep"],
        "fail_silently": False,
    },
}

MIIWRAP_FIDELITY_PLATFORM_BACKEND = "sandbox.fake_platform.FakePlatform"
# The sandbox's own frame stands in for the LMS's main_django.html (same blocks).
MIIWRAP_FIDELITY_BASE_TEMPLATE = "sandbox/base.html"
# The sandbox has no site header naming the page or who is signed in: our pages draw their band
# (inside the LMS they do not: its header does; issue 26).
MIIWRAP_FIDELITY_FRAME_HEADER = True
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

DEMO_COURSE_ID = "course-v1:MiiWrap+FID101+2026"
# The LMS's own address; other LMS plugins read it (event-routing-backends, in the xapi tox env).
LMS_ROOT_URL = "http://127.0.0.1:8000"

# Messages go through edx-ace as in the LMS (its django_email channel); the sandbox writes each email
# to a file under demo/sent_emails/ instead of sending it (the tests use Django's in-memory outbox).
ACE_ENABLED_CHANNELS = ["django_email"]
ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
ACE_ENABLED_POLICIES = []
DEFAULT_FROM_EMAIL = "coaching@sandbox.example.org"
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.path.join(BASE_DIR, "sent_emails")

# The XBlock workbench (xblock-sdk) runs our blocks. Its user service is replaced by one that, like
# the LMS's, names the signed-in Django user (never the ?student= query parameter).
WORKBENCH = {
    "reset_state_on_restart": False,
    "services": {
        "user": "sandbox.xblock_services.SessionUserService",
        "settings": "workbench.services.SettingsService",
    },
}
MIIWRAP_FIDELITY_WORKBENCH_COURSE_ID = DEMO_COURSE_ID
EXCLUDED_XBLOCKS = []

# JWT as the LMS issues it to MFEs (edx-drf-extensions); a symmetric key is enough for the sandbox.
JWT_AUTH = {
    "JWT_ISSUERS": [{"ISSUER": "http://127.0.0.1:8000/oauth2", "AUDIENCE": "miiwrap-sandbox",
                     "SECRET_KEY": os.environ.get("MIIWRAP_DEMO_JWT_SECRET", "sandbox-only-jwt-secret-not-for-production-use")}],
    "JWT_ISSUER": "http://127.0.0.1:8000/oauth2",
    "JWT_AUDIENCE": "miiwrap-sandbox",
    "JWT_SECRET_KEY": os.environ.get("MIIWRAP_DEMO_JWT_SECRET", "sandbox-only-jwt-secret-not-for-production-use"),
    "JWT_ALGORITHM": "HS256",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    "JWT_VERIFY_AUDIENCE": True,
}
XBLOCK_SETTINGS = {}
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
MEDIA_URL = "/media/"

add_plugins(__name__, PROJECT_TYPE, "common")
