"""
Benchmarks printed by `make bench` (figures, not pass/fail): seeds a course in a throwaway SQLite
database through bulk inserts, then times the certificate gate, the learner list and the course
re-evaluation. MIIWRAP_BENCH_LEARNERS / MIIWRAP_BENCH_OBSERVATIONS scale it (default 2,000 / 20,000).
"""
import os
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "demo"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_project.settings")
os.environ["MIIWRAP_DB_NAME"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from miiwrap_fidelity import api, evaluation, instruments  # noqa: E402
from miiwrap_fidelity.management.commands.load_instrument import SAMPLE  # noqa: E402
from miiwrap_fidelity.models import CoachAssignment, CompetencyPolicy, Observation  # noqa: E402
from sandbox.models import CourseRole  # noqa: E402

LEARNERS = int(os.environ.get("MIIWRAP_BENCH_LEARNERS", "2000"))
OBSERVATIONS = int(os.environ.get("MIIWRAP_BENCH_OBSERVATIONS", "20000"))
COURSE = api.parse_course_key("course-v1:Bench+FID+2026")


def seed():
    call_command("migrate", run_syncdb=True, verbosity=0)
    with open(SAMPLE, encoding="utf-8") as handle:
        version, _ = instruments.load(handle.read())
    users = get_user_model().objects
    staff = users.create_user("bench_staff")
    CourseRole.objects.create(course_key=COURSE, user=staff, role="staff")
    coach = users.create_user("bench_coach")
    CompetencyPolicy.objects.create(course_key=COURSE, instrument_version=version, min_observations=3)
    learners = users.bulk_create([get_user_model()(username=f"b{i:06d}") for i in range(LEARNERS)])
    CoachAssignment.objects.bulk_create(CoachAssignment(course_key=COURSE, coach=coach, learner=learner)
                                        for learner in learners)
    today = timezone.now().date()
    Observation.objects.bulk_create(
        (Observation(course_key=COURSE, learner=learners[i % LEARNERS], observer=coach, instrument_version=version,
                     practice_date=today - timedelta(days=i % 150), setting="home_visit", status="submitted",
                     met_count=16 + i % 6, applicable_count=21, critical_missed=[], submitted_at=timezone.now())
         for i in range(OBSERVATIONS)), batch_size=5000)
    return staff, coach, learners


def query_count(function):
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


def timed(function, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        result = function()
    return (time.perf_counter() - start) / repeat, result


def main():
    started = time.perf_counter()
    staff, coach, learners = seed()
    print(f"seeded {LEARNERS} learners / {OBSERVATIONS} observations in {time.perf_counter() - started:.1f}s")
    policy = CompetencyPolicy.objects.select_related("instrument_version").get(course_key=COURSE)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, count = timed(lambda: evaluation.reevaluate_course(policy, COURSE))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"re-evaluation: {count} learners in {seconds:.1f}s = {count / seconds:,.0f} learners/s; "
          f"peak RSS {rss_after / 1024:.0f} MB (before {rss_before / 1024:.0f} MB)")
    learner = learners[LEARNERS // 2]
    gate_queries = query_count(lambda: api.gate_decision(learner, COURSE))
    gate_s, _ = timed(lambda: api.gate_decision(learner, COURSE), repeat=200)
    with connection.cursor() as cursor:
        sql = ("SELECT COUNT(*), MAX(practice_date) FROM miiwrap_fidelity_observation "
               "WHERE learner_id = %s AND course_key = %s AND status = 'submitted'")
        bare_s, _ = timed(lambda: cursor.execute(sql, [learner.pk, str(COURSE)]) or cursor.fetchall(), repeat=200)
    print(f"gate decision: {gate_s * 1000:.2f} ms, {gate_queries} queries; bare SQL aggregate "
          f"{bare_s * 1000:.2f} ms; ratio {gate_s / bare_s:.1f}x")
    for user, name in ((staff, "staff"), (coach, "coach")):
        page = lambda: api.learner_rows(api.learner_statuses(user, COURSE)[:25])  # noqa: E731
        list_queries = query_count(page)
        list_s, _ = timed(page, repeat=20)
        print(f"learner list page (25 rows, {name}): {list_s * 1000:.1f} ms, {list_queries} queries")


if __name__ == "__main__":
    main()
