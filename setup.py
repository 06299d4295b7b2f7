"""Packaging for miiwrap-fidelity: the Open edX plugin app and its companion XBlocks."""
import os

from setuptools import find_namespace_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as handle:
        return handle.read()


setup(
    name="miiwrap-fidelity",
    version="0.1.0",
    description=(
        "Open edX plugin: observation-based fidelity monitoring, embedded coaching and "
        "competency-based certification for MiiWrap-style wraparound practice."
    ),
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0",
    python_requires=">=3.12",
    # Folders holding only data (templates, static files, catalogs) are listed too, as namespace
    # packages: setuptools otherwise warns on every install that each one is "absent".
    packages=find_namespace_packages(include=["miiwrap_fidelity", "miiwrap_fidelity.*", "tutor_miiwrap_fidelity",
                                              "tutor_miiwrap_fidelity.*"], exclude=["*__pycache__*"])
    + find_namespace_packages("xblocks", include=["miiwrap_xblocks", "miiwrap_xblocks.*"], exclude=["*__pycache__*"])
    + ["miiwrap_xblocks.translations", "miiwrap_xblocks.translations.es",
       "miiwrap_xblocks.translations.es.LC_MESSAGES"],
    # The XBlocks live under xblocks/; the message catalogs under translations/ ship inside the
    # XBlock package, where the XBlock i18n fallback looks (<package>/translations/<locale>/...),
    # and the plugin's settings point Django's LOCALE_PATHS at the same folder.
    package_dir={
        "miiwrap_xblocks": "xblocks/miiwrap_xblocks",
        "miiwrap_xblocks.translations": "translations",
    },
    include_package_data=True,
    package_data={
        "miiwrap_fidelity": [
            "templates/miiwrap_fidelity/*.html",
            "templates/miiwrap_fidelity/**/*.html",
            "templates/miiwrap_fidelity/**/*.txt",
            "templates/instructor_dashboard/*.html",
            "static/miiwrap_fidelity/*",
            "data/*.yaml",
        ],
        "miiwrap_xblocks": ["templates/*.html", "static/*", "scenarios/*.xml"],
        "miiwrap_xblocks.translations": ["*/LC_MESSAGES/*.mo", "*/LC_MESSAGES/*.po"],
    },
    install_requires=[
        "Django>=5.2,<6",
        "openedx-filters>=1.6",
        "openedx-events>=9.0",
        "edx-django-utils>=5.0",  # plugin discovery, the request cache (api/memo.py)
        "django-crum>=0.7",  # the current request and user, as the LMS keeps them
        "edx-opaque-keys[django]>=2.5",
        "XBlock>=5.0",
        "djangorestframework>=3.14",
        "edx-drf-extensions>=8.0",
        "drf-spectacular>=0.27",  # the REST API's OpenAPI schema (rest_api/v1/schema.py); the platform ships it
        "celery>=5.2",
        "PyYAML>=6.0",
        "edx-ace>=1.11",
        # Names for the identifier check (client_names.py): Faker's person lists, read at run time, no download.
        "Faker>=30",
    ],
    entry_points={
        "lms.djangoapp": ["miiwrap_fidelity = miiwrap_fidelity.apps:MiiwrapFidelityConfig"],
        "cms.djangoapp": ["miiwrap_fidelity = miiwrap_fidelity.apps:MiiwrapFidelityConfig"],
        "tutor.plugin.v1": ["miiwrap_fidelity = tutor_miiwrap_fidelity.plugin"],
        "xblock.v1": [
            "miiwrap_reflection = miiwrap_xblocks.reflection:ReflectionXBlock",
            "miiwrap_coach_signoff = miiwrap_xblocks.coach_signoff:CoachSignOffXBlock",
        ],
    },
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 5.2",
        "Programming Language :: Python :: 3.12",
    ],
)
