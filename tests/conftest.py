"""Shared fixtures: the sample instrument, a course with a policy, a coach, a lead and learners."""
import inspect
import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from openedx_filters.learning.filters import CertificateCreationRequested
from workbench import scenarios

from miiwrap_fidelity import api
from miiwrap_fidelity.management.commands.load_instrument import SAMPLE
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CompetencyPolicy
from miiwrap_fidelity.rules import competency
from sandbox.enrollment import enroll
from sandbox.models import CourseRole

# CI runs the same examples every time (a red CI blocks everything; explore locally, where the
# example database keeps what failed); local runs draw new examples each time.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

#: Modules whose every test depends on the database: our SQL and its plans, locks and concurrent
#: writes, killed workers, constraints, migrations, the SQL forms of the rules. The MariaDB env runs
#: these (``-m database``) and, from the other modules, every test that counts or captures statements
#: or touches the connection (``pytest_collection_modifyitems``); the browser tests run once, elsewhere.
DATABASE_MODULES = {
    "test_concurrency", "test_faults", "test_evidence_integrity", "test_keyset_lists", "test_export_keysets",
    "test_learner_list", "test_staff_lists_paged", "test_rule_properties", "test_time_rules", "test_history_pages",
    "test_reevaluation_progress", "test_reevaluation_writes", "test_one_submission_one_record", "test_consequences",
    "test_instrument_migration", "test_deadlines", "test_program_boundaries", "test_stages_and_programs",
    "test_privacy_and_audit", "test_coach_flags", "test_coaching_plans", "test_coaching_plan_delivery",
}
DATABASE_FIXTURES = {"django_assert_num_queries", "django_assert_max_num_queries"}
DATABASE_WORDS = re.compile(r"\b(connection|CaptureQueriesContext|threading|select_for_update|IntegrityError)\b")


def pytest_collection_modifyitems(items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
        if item.get_closest_marker("browser"):
            continue
        if (module in DATABASE_MODULES or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
                or DATABASE_WORDS.search(_source(item))):
            item.add_marker(pytest.mark.database)


def _source(item):
    try:
        return inspect.getsource(inspect.unwrap(item.function))
    except (AttributeError, OSError, TypeError):
        return ""


COURSE = "course-v1:MiiWrap+FID101+2026"
OTHER_COURSE = "course-v1:MiiWrap+OTHER+2026"


@pytest.fixture(autouse=True)
def default_language():
    """A request in Spanish leaves Spanish active in the thread; every test starts in English."""
    from django.utils import translation  # pylint: disable=import-outside-toplevel

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def task_results_may_be_read():
    """
    Celery 5.7 runs an eagerly applied task inside ``denied_join_result()``, which sets a
    process-wide flag and restores the value it found: two threads delaying tasks at once (the
    concurrency tests) can leave it set, and every later ``.get()`` of the process then raises
    "Never call result.get() within a task!". Each test starts with it clear, as a worker would.
    """
    from celery.result import allow_join_result  # pylint: disable=import-outside-toplevel

    with allow_join_result():
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Figures kept in the cache (the leader view's) belong to the test that computed them."""
    from django.core.cache import cache  # pylint: disable=import-outside-toplevel

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are created by the dozen in tests; a slow password hash only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def course_key():
    return api.parse_course_key(COURSE)


@pytest.fixture
def version(db):
    with open(SAMPLE, encoding="utf-8") as handle:
        loaded, _ = instruments.load(handle.read())
    return loaded


@pytest.fixture
def indicators(version):
    return list(version.indicators.order_by("position"))


def make_user(username, **extra):
    return get_user_model().objects.create_user(username, f"{username}@example.com", "pw", **extra)


@pytest.fixture
def lead(db, course_key):
    user = make_user("lead")
    CourseRole.objects.create(course_key=course_key, user=user, role="staff")
    return user


@pytest.fixture
def coach(db):
    return make_user("coach")


@pytest.fixture
def coach2(db):
    return make_user("coach2")


@pytest.fixture
def learner(db):
    return make_user("learner")


@pytest.fixture
def stranger(db):
    return make_user("stranger")


@pytest.fixture
def second_version(db):
    """A second instrument: the sample's indicators under another name."""
    with open(SAMPLE, encoding="utf-8") as handle:
        text = handle.read().replace("slug: miiwrap-core", "slug: second-test").replace(
            "name: MiiWrap practice fidelity (sample)", "name: Second instrument (test)")
    return instruments.load(text)[0]


def one_set(version, **rule):
    """A policy's requirement sets of one ``competency.simple_set`` (``rule``: its keywords)."""
    return [competency.simple_set(getattr(version, "pk", version), **rule).as_dict()]


@pytest.fixture
def policy(lead, version, course_key):
    """The course's policy row (tests build records on it; the api itself hands out ``data.PolicyData``)."""
    api.save_policy(lead, course_key, requirement_sets=[competency.simple_set(version.pk).as_dict()],
                    validity_months=24)
    return CompetencyPolicy.objects.get(course_key=course_key)


def assign_coach(actor, course_key, coach, learner):
    """``api.assign_coach`` after enrolling the learner, as the platform would have (ADR 0018: coaches
    are assigned to learners of the course)."""
    if hasattr(learner, "pk"):
        enroll(learner, api.parse_course_key(course_key))
    return api.assign_coach(actor, course_key, coach, learner)


@pytest.fixture
def assigned(policy, lead, coach, coach2, learner, course_key):
    enroll(learner, course_key)  # coaches are assigned to learners of the course (ADR 0018)
    api.assign_coach(lead, course_key, coach, learner)
    api.assign_coach(lead, course_key, coach2, learner)
    return learner


def ratings_for(indicators, miss=(), not_applicable=(), level_for_miss="partly"):
    return {
        ind.key: {"level": level_for_miss if ind.key in miss else "na" if ind.key in not_applicable else "met",
                  "strength": "Good example.", "next_step": ""}
        for ind in indicators
    }


@pytest.fixture
def observe(indicators, course_key):
    """Submit an observation through the api; ``days_ago`` sets the practice date."""

    def _observe(observer, learner, days_ago=1, miss=(), not_applicable=(), submit=True, course=None):
        data = {
            "practice_date": (timezone.now().date() - timedelta(days=days_ago)).isoformat(),
            "setting": "home_visit",
            "overall_note": "Observed a home visit.",
            "ratings": ratings_for(indicators, miss, not_applicable),
        }
        return api.save_observation(observer, learner, course or course_key, data, submit=submit).observation

    return _observe


@pytest.fixture
def ready_learner(assigned, coach, observe):
    for days in (50, 20, 5):
        observe(coach, assigned, days_ago=days)
    return assigned


@pytest.fixture
def workbench(db):
    """Scenarios are (re)loaded inside each test's database, as the workbench does at start-up."""
    scenarios.SCENARIOS.clear()
    scenarios.get_scenarios.initialized = False
    scenarios.get_scenarios()
    yield scenarios.SCENARIOS
    scenarios.SCENARIOS.clear()
    scenarios.get_scenarios.initialized = False


def data_queries(captured):
    """The captured SQL statements that read or write data (transaction savepoints are not queries
    in the budget; with ATOMIC_REQUESTS, as on MySQL, every request adds them)."""
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]


def run_gate(user, course_key):
    """The certificate gate as the platform runs it: openedx-filters' real pipeline."""
    return CertificateCreationRequested.run_filter(
        user=user, course_key=course_key, mode="verified", status="downloadable", grade=0.9,
        generation_mode="batch")


def gate_refusal(user, course_key):
    """The gate's refusal message for the learner, or None when the certificate may be created."""
    try:
        run_gate(user, course_key)
    except CertificateCreationRequested.PreventCertificateCreation as refused:
        return str(refused)
    return None


@pytest.fixture
def broker(settings):
    """``broker.down()`` points Celery at a closed port (no retries); ``broker.up()`` restores eager tasks."""
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    app = tasks.reevaluate_dependents.app  # the app our tasks publish through, whichever Celery this is

    # Each option under both of its names: the sandbox configures Celery from Django settings with the
    # CELERY_ namespace, and some Celery releases read the namespaced key first.
    down = {"task_always_eager": False, "broker_url": "amqp://guest:guest@127.0.0.1:9//",
            "broker_connection_retry": False, "broker_connection_max_retries": 0,
            "broker_connection_timeout": 1, "task_publish_retry": False}
    keys = [key for name in down for key in (name, f"CELERY_{name.upper()}")]
    saved = {key: app.conf.get(key) for key in keys}

    def fresh_pool():  # connections are made again from the configuration (none was opened: refused)
        app._pool = None  # pylint: disable=protected-access
        app.amqp._producer_pool = None  # pylint: disable=protected-access

    class Broker:
        @staticmethod
        def down():
            app.conf.update({key: value for name, value in down.items()
                             for key in (name, f"CELERY_{name.upper()}")})
            fresh_pool()

        @staticmethod
        def up():
            app.conf.update(saved)
            fresh_pool()

    yield Broker
    Broker.up()
