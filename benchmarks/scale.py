"""
Figures of issue 17 that compare sizes (printed by benchmarks/run.py): the staff and coach learner
lists (workspace page and REST, first and last page) on courses of 1,000 to 100,000 learners, the
learner histories at 10 and 500 observations (coach's page, learner's page, REST), and exports per
100,000 rows from the first to the last rows of the course.

The list courses hold what the lists read: status rows (a state, counts, a last practice date, the
username sort key), users, coach assignments (about 100 learners per coach) and certifications
(15 % of the learners, expiring over the next two years), seeded through bulk inserts in seconds
even at 100,000 learners. They have no observations: no list statement reads one.
"""
import os
import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import exports, roster
from miiwrap_fidelity.records.models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    Indicator,
    IndicatorRating,
    LearnerStatus,
    Observation,
)
from miiwrap_fidelity.rules import competency, search_keys
from sandbox.models import CourseRole

STATES = ("not_started", "in_progress", "ready", "certified", "revoked")
BATCH = 5000
#: One learner in this many waits for a coach (the "No coach yet" filter's rows; the 7th of each
#: run of 50, so that every coach keeps learners: coach k has the learners k, k + coaches, ...).
NO_COACH_EVERY = 50
#: The certified among the first learners this many expire within 30 days at every size, so that the
#: expiring filter's first page is a full page (25 rows) at 1,000 learners too: the same page compared.
SOON_AT_EVERY_SIZE = 250
#: Coaches of the smallest list course: more than a page of the leader page's cadence table.
MIN_COACHES = 30
#: One learner in this many (never certified) is past the course's due date (the "Overdue" filter's rows).
OVERDUE_EVERY = 40
#: The staff list's filters compared with every sort (REST, first page): each filter's own order and
#: the other sorts. ``search`` is filled in per size: a prefix of a tenth of the course's usernames.
COMBINATION_FILTERS = {"no filter": {}, "In progress": {"state": "in_progress"}, "Ready": {"state": "ready"},
                       "Certified": {"state": "certified"}, "Expiring within 30 days": {"state": "expiring_30"},
                       "Expired": {"state": "expired"}, "Overdue": {"state": "overdue"},
                       "No coach yet": {"coach": roster.NO_COACH}, "search, a tenth of the course": {"search": None}}


def seed_list_course(size, version, staff):
    """A course of ``size`` status rows; returns ``(course_key, a coach of about 100 of them)``."""
    rng, now = random.Random(size), timezone.now()
    course_key = api.parse_course_key(f"course-v1:Bench+LIST{size}+2026")
    CourseRole.objects.create(course_key=course_key, user=staff, role="staff")
    policy = CompetencyPolicy.objects.create(course_key=course_key, instrument_version=version,
                                             requirement_sets=[competency.simple_set(version.pk).as_dict()])
    users = get_user_model().objects
    # about 100 learners a coach, and at least a page of coaches (the leader page's cadence table
    # shows 25 a page: the same page compared at every size)
    coaches = users.bulk_create([get_user_model()(username=f"l{size}coach{i:04d}")
                                 for i in range(max(MIN_COACHES, size // 100))])
    for start in range(0, size, BATCH):
        with transaction.atomic():
            learners = users.bulk_create([get_user_model()(username=f"l{size}u{i:06d}")
                                          for i in range(start, min(size, start + BATCH))])
            certified = {learner.pk for learner in learners if rng.random() < 0.15}
            certifications = {c.learner_id: c for c in Certification.objects.bulk_create([Certification(
                course_key=course_key, learner=learner, policy=policy, issued_at=now - timedelta(days=30),
                expires_at=now + timedelta(days=rng.randrange(1, 30 if start + i < SOON_AT_EVERY_SIZE else 730)),
                evidence_digest="bench") for i, learner in enumerate(learners) if learner.pk in certified])}
            LearnerStatus.objects.bulk_create([LearnerStatus(
                course_key=course_key, learner=learner, learner_username=learner.username, evaluated_at=now,
                state="certified" if learner.pk in certifications else rng.choice(STATES[:3] + STATES[4:]),
                certification=certifications.get(learner.pk),
                certified_until=certifications[learner.pk].expires_at if learner.pk in certifications else None,
                qualifying_count=rng.randrange(6), required_count=3,
                last_practice_date=None if rng.random() < 0.2 else now.date() - timedelta(days=rng.randrange(400)),
                last_percent=rng.randrange(60, 100), has_coach=(start + i) % NO_COACH_EVERY != 7,
                overdue=learner.pk not in certifications and (start + i) % OVERDUE_EVERY == 11,
                username_key=search_keys.fold(learner.username)) for i, learner in enumerate(learners)])
            CoachAssignment.objects.bulk_create([CoachAssignment(
                course_key=course_key, coach=coaches[(start + i) % len(coaches)], learner=learner)
                for i, learner in enumerate(learners) if (start + i) % NO_COACH_EVERY != 7])
    return course_key, coaches[0]


def best_of(call, repeat=10, rounds=3):
    """The best of ``rounds`` mean times of ``repeat`` calls, in ms; and the last call's result."""
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            result = call()
        seconds = (time.perf_counter() - start) / repeat
        best = seconds if best is None else min(best, seconds)
    return best * 1000, result


def best_ms(request, repeat=10, rounds=3):
    milliseconds, response = best_of(request, repeat, rounds)
    assert response.status_code == 200, response.status_code
    return milliseconds


def _ratio(figures, first, last):
    return figures[last] / figures[first] if figures.get(first) else float("nan")


def list_figures(sizes, version, staff, query_count):
    """Per size: each list's first and last page, per request, and the ratio largest / smallest."""
    figures = {}
    for size in sizes:
        started = time.perf_counter()
        course_key, coach = seed_list_course(size, version, staff)
        seeded = time.perf_counter() - started
        expiring_ms, _ = best_of(lambda: api.learner_statuses(staff, course_key, header=True,
                                                              count_limit=api.COUNT_LIMIT).summary)
        figures[("staff", "header counts", "-", size)] = expiring_ms
        print(f"{size:>7,} learners: the staff page's summary statement alone (count up to {api.COUNT_LIMIT:,}, "
              f"expiring counts up to {roster.EXPIRING_COUNT_LIMIT}): {expiring_ms:.2f} ms, 1 query")
        client = Client()
        client.force_login(get_user_model().objects.get(pk=staff.pk))
        leaders = f"/miiwrap-fidelity/courses/{course_key}/coaching/leaders/"
        computing_ms, _ = best_of(lambda: api.leader_view(staff, course_key), repeat=1, rounds=1)
        reading = lambda: client.get(leaders)  # noqa: E731  (the figures kept by the computation above)
        count, milliseconds = query_count(reading), best_ms(reading)
        figures[("staff", "leader page (kept figures)", "-", size)] = milliseconds
        print(f"{size:>7,} learners: leader page reading kept figures {milliseconds:.1f} ms, {count} queries "
              f"(computing them: {computing_ms:.0f} ms)")
        searching = lambda: client.get(f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/",  # noqa: E731
                                       {"search": "no-such-learner"})
        count, milliseconds = query_count(searching), best_ms(searching, repeat=3)
        figures[("staff", "REST search, no match", "-", size)] = milliseconds
        print(f"{size:>7,} learners: REST search matching no one "
              f"(two empty ranges of the search key indexes): {milliseconds:.1f} ms, {count} queries")
        for label, params in (("No coach yet", {"coach": roster.NO_COACH}), ("expiring within 30 days",
                                                                          {"state": "expiring_30"}),
                              ("search by a name's beginning, no match", {"search": "zz no such name"})):
            for where, url in (("workspace page", f"/miiwrap-fidelity/courses/{course_key}/coaching/"),
                               ("REST list", f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/")):
                request = lambda: client.get(url, params)  # noqa: E731
                count, milliseconds = query_count(request), best_ms(request, repeat=3)
                figures[("staff", f"{where}, {label}", "first", size)] = milliseconds
                print(f"{size:>7,} learners: {where} (staff), {label}: {milliseconds:.1f} ms, {count} queries")
        combination_figures(figures, size, course_key, client, query_count)
        for name, user in (("staff", staff), ("coach", coach)):
            client = Client()
            client.force_login(get_user_model().objects.get(pk=user.pk))
            for label, url in (("workspace page", f"/miiwrap-fidelity/courses/{course_key}/coaching/"),
                               ("REST list", f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/")):
                for page, params in (("first", {}), ("last", {"cursor": api.LAST_PAGE})):
                    request = lambda: client.get(url, params)  # noqa: E731
                    count = query_count(request)
                    milliseconds = best_ms(request)
                    figures[(name, label, page, size)] = milliseconds
                    print(f"{size:>7,} learners (seeded in {seeded:.0f}s): {label} ({name}), {page} page: "
                          f"{milliseconds:.1f} ms, {count} queries")
    smallest, largest = min(sizes), max(sizes)
    for (name, label, page, size), _ in sorted(figures.items()):
        if size == largest and largest != smallest:
            print(f"ratio {largest:,} / {smallest:,} learners, {label} ({name}), {page} page: "
                  f"{_ratio(figures, (name, label, page, smallest), (name, label, page, largest)):.2f}x")


def combination_figures(figures, size, course_key, client, query_count):
    """Every filter of the staff list with its own order and with every sort (REST, first page)."""
    url = f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/"
    tenth = f"l{size}u" + "0" * (6 - len(str(size // 10)) + 1)  # usernames l<size>u000000...: a tenth of them
    for label, filters in COMBINATION_FILTERS.items():
        params = {**filters, "search": tenth} if "search" in filters else dict(filters)
        for ordering in ("", *roster.ORDERINGS):
            request = lambda: client.get(url, {**params, "ordering": ordering} if ordering else params)  # noqa: E731
            response = request()
            if response.status_code == 400:  # a filter listed in its own order only
                continue
            count, milliseconds = query_count(request), best_ms(request, repeat=3)
            figures[("staff", f"REST, {label}, sorted by {ordering or 'its own order'}", "first", size)] = milliseconds
            print(f"{size:>7,} learners: REST (staff), {label}, sorted by {ordering or 'its own order'}: "
                  f"{milliseconds:.1f} ms, {count} queries, {response.json()['count']} rows")


def history_figures(course_key, staff, query_count):
    """The coach's learner page, the learner's page and REST observations for 10 and 500 observations."""
    counts = dict(Observation.objects.filter(course_key=course_key, status="submitted", co_observation_of__isnull=True)
                  .values("learner_id").annotate(n=Count("id")).values_list("learner_id", "n"))
    learners = {}
    for target in (10, 500):
        learner_id = min(counts, key=lambda pk: (abs(counts[pk] - target), pk))
        learners[counts[learner_id]] = get_user_model().objects.get(pk=learner_id)
    figures = {}
    for total, learner in sorted(learners.items()):
        api.reevaluate(learner, course_key)
        for label, user, url, params in (
                ("coach's learner page", staff,
                 f"/miiwrap-fidelity/courses/{course_key}/coaching/learners/{learner.pk}/", {}),
                ("learner's own page", learner, f"/miiwrap-fidelity/courses/{course_key}/me/", {}),
                ("REST observations", staff, f"/api/miiwrap-fidelity/v1/courses/{course_key}/observations/",
                 {"learner": learner.pk, "page_size": 10})):
            client = Client()
            client.force_login(user)
            for page in ("first", "last"):
                number = 1 if page == "first" else max(1, -(-total // 10))
                paged = {**params, ("page" if "api" in url else "history"): number}
                request = lambda: client.get(url, paged)  # noqa: E731
                count = query_count(request)
                milliseconds = best_ms(request)
                size = len(request().content)
                figures[(label, page, total)] = milliseconds
                print(f"history of {total} observations: {label}, {page} page: {milliseconds:.1f} ms, {count} queries, "
                      f"{size / 1024:.0f} KiB")
    small, large = min(learners), max(learners)
    for label, page, total in sorted(figures):
        if total == large:
            print(f"ratio {large} / {small} observations, {label}, {page} page: "
                  f"{_ratio(figures, (label, page, small), (label, page, large)):.2f}x")


def export_figures(course_key, every=100_000, observations_every=None):
    """
    Seconds per ``every`` rows along each export (observations: per ``observations_every``, a tenth
    by default), first and last stretch, and the whole export's time (memory: the observations
    export's peak is printed with the other reads; tracemalloc would slow this run several times).
    """
    for kind, stretch in (("ratings", every), ("observations", observations_every or every // 10)):
        began = time.perf_counter()
        stretches, rows, started = [], 0, time.perf_counter()
        resident = []
        for _line in exports.rows(kind, course_key):
            rows += 1
            if rows % stretch == 0:
                now = time.perf_counter()
                stretches.append(now - started)
                resident.append(resident_mb())
                started = now
        if not stretches:
            print(f"{kind} export: {rows:,} rows, fewer than {stretch:,}: no figure per {stretch:,} rows")
            continue
        print(f"{kind} export: {rows:,} rows; per {stretch:,} rows: first {stretches[0]:.2f}s, last "
              f"{stretches[-1]:.2f}s, slowest {max(stretches):.2f}s (ratio last / first "
              f"{stretches[-1] / stretches[0]:.2f}x); "
              f"whole export {time.perf_counter() - began:.0f}s, {rows / sum(stretches) * 60:,.0f} rows per minute; "
              f"resident memory after the first stretch {resident[0]:.0f} MB, after the last {resident[-1]:.0f} MB")


def resident_mb():
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def seed_export_course(observations, rated, version):
    """
    A course of ``observations`` submitted observations by 1,000 learners and 10 observers, the
    first ``rated`` of them with a rating of each of the version's indicators (about 20): what the
    two exports read, bulk-inserted. Returns its course key.
    """
    course_key = api.parse_course_key(f"course-v1:Bench+EXPORT{observations}+2026")
    users = get_user_model().objects
    people = users.bulk_create([get_user_model()(username=f"x{observations}u{i:04d}") for i in range(1010)])
    learners, observers = people[:1000], people[1000:]
    indicators = list(Indicator.objects.filter(version=version).order_by("position"))
    levels = [indicator.levels[0]["key"] for indicator in indicators]
    today, submitted_at = timezone.now().date(), timezone.now()
    for start in range(0, observations, BATCH):
        with transaction.atomic():
            made = Observation.objects.bulk_create([Observation(
                course_key=course_key, learner=learners[i % 1000], observer=observers[i % 10], instrument_version=version,
                practice_date=today - timedelta(days=i % 700), setting="home_visit", status=Observation.SUBMITTED,
                overall_note=f"Observed session {i}.", met_count=18, applicable_count=20, submitted_at=submitted_at)
                for i in range(start, min(observations, start + BATCH))])
            IndicatorRating.objects.bulk_create([
                IndicatorRating(observation=observation, indicator=indicator, level=level, strength="Open questions.")
                for offset, observation in enumerate(made) if start + offset < rated
                for indicator, level in zip(indicators, levels)], batch_size=BATCH)
    return course_key


def large_export_figures(version, observations=1_000_000, rated=100_000):
    """Issue 17's export sizes: observations per 100,000 rows up to ``observations``; ~2M ratings in all."""
    started = time.perf_counter()
    course_key = seed_export_course(observations, rated, version)
    print(f"export course: {observations:,} observations, the first {rated:,} rated "
          f"({IndicatorRating.objects.filter(observation__course_key=course_key).count():,} ratings), "
          f"seeded in {time.perf_counter() - started:.0f}s")
    export_figures(course_key, every=100_000, observations_every=100_000)


def explain_lists_and_exports(course_key, export_course_key, staff):
    """
    The plans of a keyset page (staff list of ``course_key``, each order) and of each export's
    chunk (of ``export_course_key``, which has observations: on a course without any, an optimizer
    may rightly "sort" nothing): any sort?
    """
    vendor_sorts = ("temp b-tree",) if connection.vendor == "sqlite" else ("filesort", "temporary")
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    sorts = []
    for ordering in sorted(roster.ORDERINGS):
        listing = api.learner_statuses(staff, course_key, ordering=ordering)
        last = listing.page(25, api.LAST_PAGE)
        sql, params = listing.page_sql(25, roster.Cursor.parse(last.previous_cursor, listing.sort_columns))
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plan = str(cursor.fetchall())
        if any(word in plan.lower() for word in vendor_sorts):
            sorts.append(f"list {ordering}")
    for kind in sorted(exports.EXPORTS):
        for query in exports.chunk_queries(kind, export_course_key, last=1000):
            if any(word in query.explain().lower() for word in vendor_sorts):
                sorts.append(f"export {kind}")
    print(f"plans with a sort or temporary table ({', '.join(vendor_sorts)}) among the lists' keyset pages and "
          "the exports' chunks: "
          f"{', '.join(sorts) or 'none'}")
