"""
Benchmarks printed by `make bench` (figures, not pass/fail): seeds a course shaped like a real one
(benchmarks/dataset.py) in a throwaway SQLite database through bulk inserts, then times the
certificate gate, the learner list, the course re-evaluation and exports. MIIWRAP_BENCH_LEARNERS
sets the size (1000, default 10000; 100000, about 14 million rating rows, seeds in minutes: raw
inserts in large batches). Re-evaluation is timed three times, each in a fresh process (its peak
RSS is the run's): the first run (creates every status row), after a policy change (the UPDATE
path: every row exists) and a run that changes nothing. Targets (issue "production readiness"):
gate <= 2 queries and within 3x of bare SQL; learners page <= 6 queries and within 3x of bare SQL;
re-evaluation >= 1,000 learners/s within 150 MB; export memory flat with size. On MariaDB
(`make bench-mariadb`) also: approve and revoke p50/p95 under 20 concurrent observation writers,
with 0 failures (issue "evidence integrity").
MIIWRAP_BENCH_RULES=multi-set seeds policy rules v2 instead (two requirement sets with summary-score
conditions, summary scores on every observation; ADR 0013): the same figures under those rules.
"""
import functools
import os
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "demo"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_project.settings")
os.environ["MIIWRAP_DEMO_DEBUG"] = "0"  # as in production: no per-query logging
REEVALUATE_ONLY = len(sys.argv) == 4 and sys.argv[1] == "--reevaluate"
MULTI_SET = os.environ.get("MIIWRAP_BENCH_RULES") == "multi-set"
MYSQL = os.environ.get("MIIWRAP_DB_ENGINE") == "mysql"  # `make bench-mariadb`: the server of scripts/mariadb.sh
if REEVALUATE_ONLY:
    os.environ["MIIWRAP_DB_NAME"] = sys.argv[2]
elif MYSQL:
    os.environ["MIIWRAP_DB_NAME"] = "miiwrap_bench"
else:
    os.environ["MIIWRAP_DB_NAME"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")


def create_mysql_database():
    """A new, empty benchmark database on the MySQL/MariaDB server the settings point at."""
    import MySQLdb  # pylint: disable=import-error,import-outside-toplevel

    server = MySQLdb.connect(host=os.environ.get("MIIWRAP_DB_HOST", "127.0.0.1"),
                             port=int(os.environ.get("MIIWRAP_DB_PORT", "3306")),
                             user=os.environ.get("MIIWRAP_DB_USER", "root"),
                             password=os.environ.get("MIIWRAP_DB_PASSWORD", ""))
    name = os.environ["MIIWRAP_DB_NAME"]
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    server.close()


if MYSQL and not REEVALUATE_ONLY:
    create_mysql_database()

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

import dataset  # noqa: E402  (benchmarks/dataset.py: this script's folder is on sys.path)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from miiwrap_fidelity import api  # noqa: E402
from miiwrap_fidelity.management.commands.load_instrument import SAMPLE  # noqa: E402
from miiwrap_fidelity.records import evaluation, gate_query  # noqa: E402
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CoachAssignment, CompetencyPolicy, DriftAlert, LearnerStatus, Observation
from miiwrap_fidelity.rules import competency  # noqa: E402
from sandbox.models import CourseRole, Enrollment  # noqa: E402

LEARNERS = int(os.environ.get("MIIWRAP_BENCH_LEARNERS", "10000"))
#: Sizes of the courses the learner lists are compared on (issue 17), and which parts run.
LIST_SIZES = [int(size) for size in os.environ.get("MIIWRAP_BENCH_LIST_SIZES", "1000,10000,100000").split(",")]
PARTS = set(os.environ.get("MIIWRAP_BENCH_PARTS",
                           "reevaluation,reads,preview,lists,histories,exports,large-exports,concurrency").split(","))
EXPORT_ROWS = int(os.environ.get("MIIWRAP_BENCH_EXPORT_ROWS", "1000000"))  # observations of the large-export course
SMALL_COURSE = api.parse_course_key("course-v1:Bench+SMALL+2026")
COACHES = max(1, LEARNERS // 100)  # a coach with about 100 learners
COURSE = api.parse_course_key("course-v1:Bench+FID+2026")


def seed():
    call_command("migrate", run_syncdb=True, verbosity=0)
    with open(SAMPLE, encoding="utf-8") as handle:
        version, _ = instruments.load(handle.read())
    staff = get_user_model().objects.create_user("bench_staff")
    CourseRole.objects.create(course_key=COURSE, user=staff, role="staff")
    with dataset.bulk_loading():  # raw inserts in large batches (dataset.py), the connection set back after
        coaches, learners = dataset.users("coach", COACHES), dataset.users("b", LEARNERS)
        coach = coaches[0]
        dataset.insert(Enrollment, ["user"], ((learner.pk,) for learner in learners), {"course_key": COURSE})
        today = timezone.now().date()
        _policy, counts = dataset.seed_course(COURSE, version, learners, coaches, staff, today, multi_set=MULTI_SET)
        # A small course with 1,000 observations, to compare export memory with the large one.
        Observation.objects.bulk_create(
            (Observation(course_key=SMALL_COURSE, learner=learners[i % 100], observer=coach,
                         instrument_version=version, practice_date=today, setting="home_visit", status="submitted",
                         met_count=18, applicable_count=21, critical_missed=[], submitted_at=timezone.now())
             for i in range(1000)), batch_size=5000)
    return staff, coach, learners, counts


def export_peak(course_key):
    """Peak Python memory (tracemalloc) while streaming the observations export of a course."""
    import tracemalloc  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import exports  # pylint: disable=import-outside-toplevel

    tracemalloc.start()
    rows = sum(1 for _ in exports.rows("observations", course_key)) - 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return rows, peak


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def query_count(function):
    """Statements that read or write data (not BEGIN/COMMIT, which ATOMIC_REQUESTS adds on MySQL)."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        function()
    return sum(1 for query in queries.captured_queries if not query["sql"].upper().startswith(TRANSACTION_CONTROL))


def timed(function, repeat=1, rounds=1):
    """Seconds per call: the best of ``rounds`` runs of ``repeat`` calls (the least disturbed run)."""
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            result = function()
        seconds = (time.perf_counter() - start) / repeat
        best = seconds if best is None else min(best, seconds)
    return best, result


def bare_list_page(coach=None):
    """The learner list's figures straight from SQL: 25 rows (status, user, certification; keyset) and the count."""
    mine = ("AND s.learner_id IN (SELECT a.learner_id FROM miiwrap_fidelity_coachassignment a "
            "WHERE a.course_key = %s AND a.coach_id = %s) ") if coach else ""
    args = [str(COURSE)] + ([str(COURSE), coach.pk] if coach else [])
    rows = ("SELECT s.id, u.username, s.state, s.qualifying_count, s.last_percent, s.reasons, c.expires_at, s.enrolled "
            "FROM miiwrap_fidelity_learnerstatus s JOIN auth_user u ON u.id = s.learner_id "
            "LEFT JOIN miiwrap_fidelity_certification c ON c.id = s.certification_id "
            f"WHERE s.course_key = %s {mine}ORDER BY s.learner_username, s.id LIMIT 26")
    count = (f"SELECT COUNT(*) FROM (SELECT 1 FROM miiwrap_fidelity_learnerstatus s WHERE s.course_key = %s {mine}"
             f"LIMIT {api.COUNT_LIMIT + 1}) q")
    seconds, _ = timed(lambda: bare_sql([(rows, args), (count, args)]), repeat=50, rounds=5)
    return seconds


def bare_sql(statements):
    """Statements run as any code without the ORM runs them: a cursor of Django's connection, no models."""
    with connection.cursor() as cursor:
        for sql, args in statements:
            cursor.execute(sql, args)
            cursor.fetchall()


def list_page(user):
    """What a page of the learner list needs from ``api``: the (capped) count and 25 display rows."""
    listing = api.learner_statuses(user, COURSE, count_limit=api.COUNT_LIMIT)
    return listing.count(), api.learner_rows(listing.page(25).rows)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def decisions_under_load(staff, coach, rounds=30, writers=20):
    """
    Approve and revoke latency while ``writers`` coaches keep submitting observations for the same
    learner (the traffic that deadlocked before ADR 0006). Each round: a ready learner, the writers
    start, the coach approves, the lead revokes, the writers stop. Every failure is counted.
    """
    import threading  # pylint: disable=import-outside-toplevel

    from django.db import connections  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import write_retry  # pylint: disable=import-outside-toplevel
    from miiwrap_fidelity.records.models import Indicator  # pylint: disable=import-outside-toplevel

    policy = CompetencyPolicy.objects.get(course_key=COURSE)
    ratings = {key: {"level": "met"} for key in Indicator.objects.filter(
        version_id=policy.instrument_version_id).values_list("key", flat=True)}
    users = get_user_model().objects
    crowd = users.bulk_create([get_user_model()(username=f"writer{i:02d}") for i in range(writers)])
    today = timezone.now().date()
    timings, failures = {"approve": [], "revoke": []}, []

    def write_until(stop, writer, learner):
        try:
            while not stop.is_set():
                try:
                    write_retry.run(api.save_observation, writer, learner, COURSE, {
                        "practice_date": today.isoformat(), "setting": "home_visit", "ratings": ratings}, submit=True)
                except Exception as exc:  # pylint: disable=broad-except
                    failures.append(f"observation: {exc!r}")
        finally:
            connections.close_all()

    for number in range(rounds):
        learner = users.create(username=f"loaded{number:03d}")
        CoachAssignment.objects.bulk_create(CoachAssignment(course_key=COURSE, coach=person, learner=learner)
                                            for person in [coach, *crowd])
        Observation.objects.bulk_create(
            Observation(course_key=COURSE, learner=learner, observer=coach, instrument_version_id=policy.instrument_version_id,
                        practice_date=today - timedelta(days=days), setting="home_visit", status="submitted",
                        met_count=21, applicable_count=21, critical_missed=[], submitted_at=timezone.now())
            for days in (30, 20, 10))
        api.reevaluate(learner, COURSE)
        stop = threading.Event()
        threads = [threading.Thread(target=write_until, args=(stop, person, learner)) for person in crowd]
        for thread in threads:
            thread.start()
        time.sleep(0.05)  # the writers are at it
        for action, decide in (("approve", lambda: api.sign_off(coach, learner, COURSE)),
                               ("revoke", lambda: api.revoke(staff, learner, COURSE, "Benchmark round."))):
            start = time.perf_counter()
            try:
                write_retry.run(decide)
            except Exception as exc:  # pylint: disable=broad-except
                failures.append(f"{action}: {exc!r}")
            timings[action].append(time.perf_counter() - start)
        stop.set()
        for thread in threads:
            thread.join()
    for action, seconds in timings.items():
        print(f"{action} under {writers} concurrent observation writers: p50 {percentile(seconds, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(seconds, 0.95) * 1000:.0f} ms ({rounds} rounds)")
    print(f"failures under concurrent writes: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))


def reevaluate_only(label):
    """Run in a fresh process on the seeded database, so that its peak RSS is the re-evaluation's."""
    policy = CompetencyPolicy.objects.select_related("instrument_version").get(course_key=COURSE)
    started = timezone.now()
    seconds, count = timed(lambda: evaluation.reevaluate_course(policy, COURSE))
    written = LearnerStatus.objects.filter(course_key=COURSE, evaluated_at__gte=started).count()
    print(f"re-evaluation, {label}: {count:,} learners in {seconds:.1f}s = {count / seconds:,.0f} learners/s, "
          f"{written:,} status rows written; peak RSS of the process {peak_rss_mb():.0f} MB")


def reevaluate_in_child(label):
    import subprocess  # pylint: disable=import-outside-toplevel

    connection.close()
    subprocess.run([sys.executable, __file__, "--reevaluate", os.environ["MIIWRAP_DB_NAME"], label], check=True)


def reevaluations():
    """The first run (creates the rows), the UPDATE path after a policy change, and a run with no change."""
    reevaluate_in_child("first run (creates every status row)")
    states = dict(LearnerStatus.objects.filter(course_key=COURSE).values_list("state").annotate(
        n=Count("id")))
    alerts = DriftAlert.objects.filter(course_key=COURSE, resolved_at__isnull=True).count()
    print(f"states after the first run: {states}; open drift alerts {alerts:,}")
    policy = CompetencyPolicy.objects.get(course_key=COURSE)
    CompetencyPolicy.objects.filter(course_key=COURSE).update(
        requirement_sets=dataset.multi_set_rules(policy.instrument_version, 3) if MULTI_SET else [
            competency.simple_set(policy.instrument_version_id, min_observations=4, min_percent=75).as_dict()])
    reevaluate_in_child("after a policy change (UPDATE path, every row exists)")
    reevaluate_in_child("again, nothing changed")


def peak_rss_mb():
    """This process's resident high-water mark. (getrusage's ru_maxrss survives exec on Linux and
    would report the parent's peak from seeding.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    started = time.perf_counter()
    staff, coach, learners, counts = seed()
    seconds = time.perf_counter() - started
    rows = counts["observations"] + counts["co_ratings"] + counts["ratings"]
    print(f"rules: {'policy rules v2, two requirement sets with summary-score conditions' if MULTI_SET else 'one set'}")
    print(f"database: {connection.vendor} {connection.Database.__name__}; seeded {LEARNERS:,} learners, "
          f"{COACHES} coaches, {counts['observations']:,} observations (+{counts['co_ratings']:,} co-ratings), "
          f"{counts['ratings']:,} indicator ratings, {counts['certified']:,} certified and {counts['revoked']:,} "
          f"revoked in {seconds:.1f}s ({rows / seconds:,.0f} observation and rating rows/s); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if "reevaluation" in PARTS:
        reevaluations()
    if "reads" in PARTS:
        reads(staff, coach, learners)
    if "preview" in PARTS:
        policy_preview(staff)
    import scale  # pylint: disable=import-outside-toplevel  (benchmarks/scale.py: issue 17's figures by size)

    if "lists" in PARTS:
        print(f"-- learner lists by course size {LIST_SIZES}; load average {os.getloadavg()[0]:.1f}")
        scale.list_figures(LIST_SIZES, CompetencyPolicy.objects.get(course_key=COURSE).instrument_version, staff,
                           query_count)
        scale.explain_lists_and_exports(api.parse_course_key(f"course-v1:Bench+LIST{max(LIST_SIZES)}+2026"), COURSE,
                                        staff)
    if "histories" in PARTS:
        print(f"-- histories; load average {os.getloadavg()[0]:.1f}")
        scale.history_figures(COURSE, staff, query_count)
    if "exports" in PARTS:
        print(f"-- exports; load average {os.getloadavg()[0]:.1f}")
        scale.export_figures(COURSE)
    if "large-exports" in PARTS:
        print(f"-- exports of a course of {EXPORT_ROWS:,} observations (the first 100,000 rated: about 2 million "
              f"ratings); load average {os.getloadavg()[0]:.1f}")
        scale.large_export_figures(CompetencyPolicy.objects.get(course_key=COURSE).instrument_version, EXPORT_ROWS)
    if MYSQL and "concurrency" in PARTS:  # SQLite serialises every write: concurrency is measured on the server
        decisions_under_load(staff, coach)


def policy_preview(staff):
    """A policy change's preview (issue 25): the course's first ``PREVIEW_LEARNERS`` decided again, unsaved."""
    policy = CompetencyPolicy.objects.get(course_key=COURSE)
    if not LearnerStatus.objects.filter(course_key=COURSE).exists():  # the states it compares with
        evaluation.reevaluate_course(policy, COURSE)
    stricter = [competency.simple_set(policy.instrument_version_id, min_observations=30).as_dict()]
    queries = query_count(lambda: api.preview_policy(staff, COURSE, requirement_sets=stricter))
    seconds, preview = timed(lambda: api.preview_policy(staff, COURSE, requirement_sets=stricter), rounds=3)
    print(f"-- policy preview: {preview.evaluated:,} of {preview.total:,} learners decided again in "
          f"{seconds * 1000:,.0f} ms ({preview.evaluated / seconds:,.0f}/s), {queries} queries; "
          f"{preview.moved_back:,} would move back; load average {os.getloadavg()[0]:.1f}")


def reads(staff, coach, learners):
    """The gate, the learner list through ``api`` against bare SQL, pages and exports of the course."""
    learner = learners[LEARNERS // 2]
    gate_queries = query_count(lambda: api.gate_decision(learner, COURSE))
    gate_s, _ = timed(lambda: api.gate_decision(learner, COURSE), repeat=500, rounds=5)
    # The fair baseline (issue 17): the gate's own statement through a bare cursor, nothing decoded.
    own = gate_query._sql(connection.vendor)  # pylint: disable=protected-access
    bare_s, _ = timed(lambda: bare_sql([(own, [learner.pk, str(COURSE), True])]), repeat=500, rounds=5)
    sql = ("SELECT COUNT(*), MAX(practice_date) FROM miiwrap_fidelity_observation "
           "WHERE learner_id = %s AND course_key = %s AND status = 'submitted'")
    aggregate_s, _ = timed(lambda: bare_sql([(sql, [learner.pk, str(COURSE)])]), repeat=500, rounds=5)
    print(f"gate decision: {gate_s * 1e6:.0f} µs, {gate_queries} queries; its own statement through a bare cursor "
          f"{bare_s * 1e6:.0f} µs, ratio {gate_s / bare_s:.1f}x (for scale: the bare aggregate of the learner's "
          f"observations {aggregate_s * 1e6:.0f} µs)")
    from django.test import Client  # pylint: disable=import-outside-toplevel

    for user, name in ((staff, "staff"), (coach, "coach")):
        bare_list_s = bare_list_page(user if name == "coach" else None)
        print(f"bare SQL for a learner list page ({name}; rows + count): {bare_list_s * 1000:.2f} ms")
        # A fresh user object, as in a request: its first role check queries, later ones are answered
        # from the roles kept on the user (edx-platform's RoleCache; the fake does the same).
        user = get_user_model().objects.get(pk=user.pk)
        page = functools.partial(list_page, user)
        list_queries = query_count(page)
        list_s, _ = timed(page, repeat=50, rounds=5)
        print(f"learner list, api (25 rows and the count, {name}): {list_s * 1000:.2f} ms, {list_queries} queries "
              f"(role lookup included), {list_s / bare_list_s:.1f}x bare SQL")
        client = Client()
        client.force_login(user)
        for label, url in (("workspace page", f"/miiwrap-fidelity/courses/{COURSE}/coaching/"),
                           ("REST API", f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/")):
            request = lambda: client.get(url)  # noqa: E731
            count = query_count(request)
            seconds, response = timed(request, repeat=10, rounds=3)
            assert response.status_code == 200, response.status_code
            print(f"learner list, {label} ({name}): {seconds * 1000:.1f} ms per request, {count} queries")
    # The leader view: every figure aggregates the whole course; a task computes them, the page reads them.
    compute_s, _ = timed(lambda: api.leader_view(staff, COURSE), repeat=1, rounds=2)
    client = Client()
    client.force_login(staff)
    url = f"/miiwrap-fidelity/courses/{COURSE}/coaching/leaders/"
    page_queries = query_count(lambda: client.get(url))
    page_s, response = timed(lambda: client.get(url), repeat=10, rounds=3)
    assert response.status_code == 200 and b"Figures as of" in response.content
    print(f"leader view: computing the figures (the task) {compute_s:.2f} s; the page reading them "
          f"{page_s * 1000:.1f} ms, {page_queries} queries")
    for course, label in ((SMALL_COURSE, "small"), (COURSE, "large")):
        rows, peak = export_peak(course)
        print(f"observations export, {label}: {rows:,} rows, peak Python memory {peak / 1024:.0f} KiB")


def remove_sqlite_database():
    """The throwaway SQLite database goes with the run (several of them filled /tmp by gigabytes)."""
    import shutil  # pylint: disable=import-outside-toplevel

    connection.close()
    shutil.rmtree(os.path.dirname(os.environ["MIIWRAP_DB_NAME"]), ignore_errors=True)


if __name__ == "__main__":
    if REEVALUATE_ONLY:
        reevaluate_only(sys.argv[3])
    else:
        try:
            main()
        finally:
            if not MYSQL:
                remove_sqlite_database()
