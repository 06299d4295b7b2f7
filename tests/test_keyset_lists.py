"""
The learner list by keyset (issue 17): pages in every order, forward, backward and from the end,
without gaps or repeats (ties and NULL dates included); cursors refused when not ours; the capped
count; the coach column; the coach search; and query counts that stay the same for the first and
the last page of courses of different sizes (workspace page and REST list).
"""
import random
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import coach_flags, roster
from miiwrap_fidelity.records.models import CoachAssignment, LearnerStatus
from miiwrap_fidelity.rules import search_keys
from miiwrap_fidelity.rules.errors import PermissionDenied, ValidationError

from conftest import COURSE, assign_coach, data_queries, make_user

pytestmark = pytest.mark.django_db

STATES = ("not_started", "in_progress", "ready", "certified", "revoked")


def seed_course(course_key, size, coaches=(), seed=7):
    """
    ``size`` learners with status rows written directly (fast): states, qualifying counts and
    practice dates drawn with many ties and some NULL dates; learner i coached by coaches[i % len].
    """
    rng = random.Random(seed)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"k{seed}-{index:04d}", email=f"k{seed}-{index}@example.com")
         for index in range(size)])
    users = list(get_user_model().objects.filter(username__startswith=f"k{seed}-").order_by("pk"))
    now = timezone.now()
    LearnerStatus.objects.bulk_create([LearnerStatus(
        course_key=course_key, learner=user, learner_username=user.username, evaluated_at=now,
        state=rng.choice(STATES), qualifying_count=rng.randint(0, 3),
        last_practice_date=None if rng.random() < 0.3 else date(2026, 1, 1) + timedelta(days=rng.randint(0, 4)),
        has_coach=bool(coaches), username_key=search_keys.fold(user.username),
    ) for user in users])
    if coaches:
        CoachAssignment.objects.bulk_create([CoachAssignment(course_key=course_key, coach=coaches[index % len(coaches)],
                                                             learner=user) for index, user in enumerate(users)])
    return users


def walk(listing, size, backwards=False):
    """Every row id of the listing, following next links (or previous links from the last page)."""
    cursor, seen = (roster.LAST_PAGE if backwards else None), []
    while True:
        page = listing.page(size, cursor)
        ids = [row["learner"].pk for row in page.rows]
        seen = ids + seen if backwards else seen + ids
        cursor = page.previous_cursor if backwards else page.next_cursor
        if cursor is None:
            assert (page.is_first if backwards else page.is_last)
            return seen


@pytest.mark.parametrize("ordering", sorted(roster.ORDERINGS))
def test_keyset_pages_match_the_full_order_both_ways(lead, course_key, ordering):
    seed_course(course_key, 37)
    listing = api.learner_statuses(lead, course_key, ordering=ordering)
    everything = [row["learner"].pk for row in listing[:1000]]
    assert len(everything) == 37
    for size in (1, 5, 36, 37, 50):
        assert walk(listing, size) == everything, size
        assert walk(listing, size, backwards=True) == everything, size
    # The full order is the one users read: the sort key first (NULL dates first when ascending).
    column = {"username": None, "state": "state", "qualifying": "qualifying_count",
              "last_observation": "last_practice_date"}[ordering.lstrip("-")]
    rows = {s.learner_id: s for s in LearnerStatus.objects.filter(course_key=course_key)}
    keys = [((getattr(rows[pk], column) is not None, getattr(rows[pk], column)) if column else (True, 0),
             rows[pk].learner_username) for pk in everything]
    assert keys == sorted(keys, reverse=ordering.startswith("-"))


def test_next_then_previous_returns_to_the_same_page(lead, course_key):
    seed_course(course_key, 23)
    listing = api.learner_statuses(lead, course_key, ordering="-last_observation")
    first = listing.page(10)
    second = listing.page(10, first.next_cursor)
    back = listing.page(10, second.previous_cursor)
    assert back.rows == first.rows and back.is_first and not first.previous_cursor
    last = listing.page(10, roster.LAST_PAGE)
    assert len(last.rows) == 10 and last.is_last and last.next_cursor is None and last.previous_cursor
    third = listing.page(10, second.next_cursor)
    assert [r["learner"].pk for r in third.rows] == [r["learner"].pk for r in last.rows][-3:]


@pytest.mark.parametrize("cursor", [
    "!!!", "e30", "WyJhZnRlciJd", "x" * 2000,
    roster.Cursor(False, None).encode(),  # "after" nothing
    roster.Cursor(False, ("a", 3, 4)).encode(),  # wrong length for the username order (username, id)
    roster.Cursor(False, ("a", "3")).encode(),  # id not a number
    roster.Cursor(False, ("a", True)).encode(),  # a boolean is not an id
    roster.Cursor(False, ("a" * 151, 3)).encode(),
    roster.Cursor(False, ("a", 10 ** 20)).encode(),  # beyond any id: was an OverflowError (a 500) on SQLite
    roster.Cursor(False, ("a", -1)).encode(),
])
def test_foreign_cursors_are_a_validation_error(lead, course_key, cursor):
    seed_course(course_key, 3)
    with pytest.raises(ValidationError) as error:
        api.learner_statuses(lead, course_key).page(10, cursor)
    assert "cursor" in error.value.message_dict


def test_a_date_cursor_must_hold_a_date(lead, course_key):
    seed_course(course_key, 3)
    listing = api.learner_statuses(lead, course_key, ordering="last_observation")
    assert len(listing.page(10, roster.Cursor(False, (None, "a", 1)).encode()).rows) >= 0
    for key in (("2026-13-45", "a", 1), (7, "a", 1)):
        with pytest.raises(ValidationError):
            listing.page(10, roster.Cursor(False, key).encode())


def test_count_stops_at_the_limit(lead, course_key):
    seed_course(course_key, 12)
    summary = api.learner_statuses(lead, course_key, count_limit=10).summary
    assert (summary["count"], summary["count_exact"]) == (10, False)
    summary = api.learner_statuses(lead, course_key, count_limit=12).summary
    assert (summary["count"], summary["count_exact"]) == (12, True)
    assert api.learner_statuses(lead, course_key).count() == 12


def test_rows_name_their_coaches(lead, coach, coach2, course_key):
    users = seed_course(course_key, 4, coaches=(coach,))
    CoachAssignment.objects.create(course_key=course_key, coach=coach2, learner=users[0])
    rows = {row["learner"].pk: row for row in api.learner_rows(api.learner_statuses(lead, course_key).page(10).rows)}
    assert [c.username for c in rows[users[0].pk]["coaches"]] == ["coach", "coach2"]
    assert rows[users[1].pk]["coaches"] == (roster.LearnerRef(coach.pk, "coach"),)
    LearnerStatus.objects.create(course_key=course_key, learner=make_user("alone"), evaluated_at=timezone.now())
    alone = api.learner_rows(api.learner_statuses(lead, course_key, search="alone").page(10).rows)
    assert alone[0]["coaches"] == ()


def test_status_rows_keep_the_username_as_sort_key(policy, lead, coach, course_key):
    learner = make_user("zed")
    assign_coach(lead, course_key, coach, learner)  # the status row is created by evaluation
    assert LearnerStatus.objects.get(learner=learner).learner_username == "zed"
    other = make_user("yan")
    api.reevaluate_course(course_key)  # rows of learners without one are created in bulk
    api.note_enrollment(other.pk, course_key)
    assert LearnerStatus.objects.get(learner=other).learner_username == "yan"
    api.retire_user(learner.pk)
    assert LearnerStatus.objects.get(learner=learner).learner_username == ""


def test_the_migration_copies_usernames(lead, course_key):
    import importlib  # pylint: disable=import-outside-toplevel

    from django.apps import apps  # pylint: disable=import-outside-toplevel

    users = seed_course(course_key, 3)
    LearnerStatus.objects.update(learner_username="")
    migration = importlib.import_module("miiwrap_fidelity.migrations.0015_keyset_lists_and_exports")


    class Editor:  # what the migration uses of a schema editor (a real one cannot open inside a test's transaction)
        connection = django_connection

    migration.copy_usernames(apps, Editor())
    assert sorted(LearnerStatus.objects.values_list("learner_username", flat=True)) == sorted(
        user.username for user in users)


def test_the_migration_copies_certification_expiries(policy, course_key):
    import importlib  # pylint: disable=import-outside-toplevel

    from django.apps import apps  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records.models import Certification  # pylint: disable=import-outside-toplevel

    users = seed_course(course_key, 3)
    expiries = [timezone.now() + timedelta(days=days) for days in (5, 500)] + [None]
    for user, expires_at in zip(users, expiries):
        certification = Certification.objects.create(course_key=course_key, learner=user, policy=policy,
                                                     issued_at=timezone.now(), expires_at=expires_at, evidence_digest="x")
        LearnerStatus.objects.filter(learner=user).update(certification=certification, certified_until=None)
    migration = importlib.import_module("miiwrap_fidelity.migrations.0016_status_certified_until")

    class Editor:  # what the migration uses of a schema editor
        connection = django_connection

    migration.copy_expiries(apps, Editor())
    assert [LearnerStatus.objects.get(learner=user).certified_until for user in users] == expiries


def test_coach_search_is_a_bounded_prefix_search_for_staff(lead, coach, coach2, stranger, course_key):
    seed_course(course_key, 3, coaches=(coach, coach2))
    make_user("coachless")  # coaches no one here
    assert [c.username for c in api.search_coaches(lead, course_key, "COA")] == ["coach", "coach2"]
    assert [c.username for c in api.search_coaches(lead, course_key, "coach", limit=1)] == ["coach"]
    assert api.search_coaches(lead, course_key, "  ") == [] and api.search_coaches(lead, course_key, "%") == []
    assert api.course_coach(lead, course_key, coach2.pk).username == "coach2"
    assert api.course_coach(lead, course_key, stranger.pk) is None
    with pytest.raises(ValidationError):
        api.search_coaches(lead, course_key, "x" * 151)
    with pytest.raises(PermissionDenied):
        api.search_coaches(coach, course_key, "coach")
    with CaptureQueriesContext(connection) as queries:
        api.search_coaches(lead, course_key, "c")
    assert len(data_queries(queries)) <= 2  # the staff role (cached per request) and the search


def workspace(client, **params):
    return client.get(reverse("miiwrap_fidelity:workspace", args=[COURSE]), params)


def test_workspace_pages_by_cursor_with_a_coach_column(client, lead, coach, coach2, course_key):
    users = seed_course(course_key, 30, coaches=(coach, coach2))
    client.force_login(lead)
    page = workspace(client).content.decode()
    assert "30 learners" in page and users[0].username in page and users[25].username not in page
    assert "<th scope=\"col\">Coach</th>" in page and "coach2" in page
    last = workspace(client, cursor=roster.LAST_PAGE).content.decode()
    assert users[29].username in last and users[0].username not in last and 'rel="next"' not in last
    assert workspace(client, cursor="garbage").status_code == 400


def test_the_coach_column_names_coaches_by_full_name(client, lead, coach, coach2, course_key):
    """Reviewer's finding: the Coach column showed usernames where every other list shows full names."""
    coach.first_name, coach.last_name = "Casey", "Coach"
    coach.save()
    users = seed_course(course_key, 2, coaches=(coach,))
    CoachAssignment.objects.create(course_key=course_key, coach=coach2, learner=users[0])
    client.force_login(lead)
    page = workspace(client).content.decode()
    assert '<td>Casey Coach <small class="mwf-hint">coach</small>, coach2</td>' in page
    rest = client.get(f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/").json()
    assert rest["results"][0]["coaches"] == ["coach", "coach2"], "REST keeps usernames"


def test_workspace_coach_filter_searches(client, lead, coach, coach2, course_key):
    users = seed_course(course_key, 6, coaches=(coach, coach2))
    client.force_login(lead)
    several = workspace(client, coach_search="coa").content.decode()
    assert "Several coaches match" in several and f"coach={coach2.pk}" in several
    exact = workspace(client, coach_search="Coach").content.decode()  # an exact name wins over longer ones
    assert users[0].username in exact and users[1].username not in exact
    chosen = workspace(client, coach=coach2.pk).content.decode()
    assert users[1].username in chosen and users[0].username not in chosen and 'value="coach2"' in chosen
    nobody = workspace(client, coach_search="nobody")  # the whole list, and what to correct (not a 400 page)
    assert nobody.status_code == 200 and "No coach in this course has a name or username" in nobody.content.decode()
    assert workspace(client, coach=999999).status_code == 400


@pytest.mark.parametrize("viewer", ["lead", "coach"])
def test_query_counts_do_not_grow_with_the_course_or_the_page(client, request, coach, course_key, viewer):
    """The first and the last page of a small and a larger course read the same number of statements."""
    user = request.getfixturevalue(viewer)
    counts = set()
    for seed, size in ((1, 5), (2, 120)):
        seed_course(course_key, size, coaches=(coach,), seed=seed)
        client.force_login(user)
        for cursor in (None, roster.LAST_PAGE):
            for url, params in ((reverse("miiwrap_fidelity:workspace", args=[COURSE]), {"ordering": "-state"}),
                                (f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/", {"state": "ready"})):
                params = {**params, **({"cursor": cursor} if cursor else {})}
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url, params)
                assert response.status_code == 200
                counts.add((url, len(data_queries(queries))))
    assert len(counts) == 2, counts  # one figure per URL, whatever the size and page
    # The page also reads the people's full names once (``platform.full_names``); REST sends usernames.
    budget = {"/api/": 6 if viewer == "lead" else 5, "/miiwrap-fidelity/": 7 if viewer == "lead" else 6}
    assert all(count <= next(n for prefix, n in budget.items() if url.startswith(prefix)) for url, count in counts), \
        counts


def test_rest_list_keeps_its_shape_and_adds_cursor_links(client, lead, coach, course_key):
    seed_course(course_key, 12, coaches=(coach,))
    client.force_login(lead)
    base = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/"
    first = client.get(base, {"page_size": 5}).json()
    assert set(first) == {"count", "count_exact", "next", "previous", "last", "results"}
    assert first["count"] == 12 and first["count_exact"] and first["previous"] is None
    assert first["results"][0]["coaches"] == ["coach"]
    names, url = [], base + "?page_size=5"
    while url:
        body = client.get(url).json()
        names += [row["learner"]["username"] for row in body["results"]]
        url = body["next"]
    assert names == sorted(names) and len(names) == 12
    last = client.get(first["last"]).json()
    assert last["next"] is None and [r["learner"]["username"] for r in last["results"]] == names[-5:]
    assert client.get(last["previous"]).json()["results"][-1]["learner"]["username"] == names[-6]
    assert client.get(base, {"page": 2}).status_code == 400
    assert client.get(base, {"cursor": "nope"}).status_code == 400
    coaches = client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/coaches/", {"search": "co"}).json()
    assert coaches == {"results": [{"id": coach.pk, "username": "coach"}]}
    client.force_login(coach)
    assert client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/coaches/", {"search": "co"}).status_code == 403


def explain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql, params)
        return " | ".join(" ".join(str(value) for value in row) for row in cursor.fetchall())


def chosen_indexes(sql, params):
    """The index each table of the plan is read by (not the candidates): "ca:mwf_assign_learner | ..."."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " | ".join(str(row[3]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, params)
        return " | ".join(f"{row[2]}:{row[5]}" for row in cursor.fetchall())


@pytest.mark.parametrize("coach_filter", [None, roster.NO_COACH])
def test_a_rows_coaches_are_read_by_learner_when_one_course_fills_the_table(lead, course_key, coach_filter):
    """
    MariaDB read the Coach column through the (course, coach, learner) index on the course alone when
    one course held every status row: each listed row read every assignment of the course (52 ms a
    page at 10,000 learners, the bench's course).
    """
    coaches = tuple(make_user(f"c{index}") for index in range(20))
    users = seed_course(course_key, 2000, coaches=coaches)
    CoachAssignment.objects.filter(learner__in=users[::50]).delete()  # some without a coach
    coach_flags.repair(course_key)  # as the course's re-evaluation does after direct writes
    listing = api.learner_statuses(lead, course_key, coach=coach_filter)
    plan = chosen_indexes(*listing.page_sql(25, roster.Cursor.parse(None, listing.sort_columns)))
    wanted = "INDEX mwf_assign_learner" if connection.vendor == "sqlite" else ":mwf_assign_learner"
    assert plan.count(wanted) == 1, plan  # the Coach column; "No coach yet" reads the row's kept flag
    if coach_filter:
        assert "mwf_status_coached" in plan, plan
    assert len(listing.page(100).rows) == (40 if coach_filter else 100)


@pytest.mark.parametrize("ordering", sorted(roster.ORDERINGS))
def test_every_sort_order_is_read_from_an_index(lead, course_key, ordering):
    """No sort of the course's rows: the first page, a middle page and the last page, both ways."""
    seed_course(course_key, 300, coaches=(lead,))
    seed_course(api.parse_course_key("course-v1:MiiWrap+OTHER+2026"), 300, seed=3)
    listing = api.learner_statuses(lead, course_key, ordering=ordering)
    middle = listing.page(25, listing.page(25).next_cursor)
    for cursor in (None, middle.next_cursor, middle.previous_cursor, roster.LAST_PAGE):
        plan = explain(*listing.page_sql(25, roster.Cursor.parse(cursor, listing.sort_columns)))
        assert "TEMP B-TREE" not in plan and "filesort" not in plan.lower(), (ordering, cursor, plan)
        # the Coach column: each row's assignments by (course, learner), not the course's by course
        assert "mwf_assign_learner" in chosen_indexes(*listing.page_sql(
            25, roster.Cursor.parse(cursor, listing.sort_columns))), plan


def test_a_caseload_is_read_by_the_assignment_index(lead, coach, course_key):
    """A coach's ~100 learners are found through their assignments, not by walking the course in order."""
    seed_course(course_key, 400, coaches=(coach, lead, *(make_user(f"c{index}") for index in range(8))))
    for viewer, coach_filter in ((coach, None), (lead, coach.pk)):
        listing = api.learner_statuses(viewer, course_key, coach=coach_filter)
        first = listing.page(25)
        for cursor in (None, first.next_cursor, roster.LAST_PAGE):
            sql, params = listing.page_sql(25, roster.Cursor.parse(cursor, listing.sort_columns))
            with connection.cursor() as cursor_:
                cursor_.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql, params)
                plan = cursor_.fetchall()
            status_reads = [str(row[3]) if connection.vendor == "sqlite" else str(row[5]) for row in plan
                            if (" s " in f" {row[3]} ") or (connection.vendor != "sqlite" and row[2] == "s")]
            sort_indexes = ("mwf_status_username", "mwf_status_state", "mwf_status_qualifying", "mwf_status_practice")
            assert status_reads and not any(name in read for name in sort_indexes for read in status_reads), plan
        assert walk(listing, 7) == [row["learner"].pk for row in listing[:1000]]


def test_the_expiring_counts_read_one_status_index_only(lead, course_key):
    """The staff page's header counts: an index-only range of the status rows, no certification read."""
    seed_course(course_key, 50)
    sql, params = roster._expiring_sums(roster._tables(connection.vendor), timezone.now(), str(course_key))  # pylint: disable=protected-access
    plan = explain(sql, params)
    assert "mwf_status_expiry" in plan, plan
    assert "certification" not in plan.lower(), plan
    if connection.vendor == "sqlite":
        assert "COVERING INDEX" in plan, plan
    else:
        assert "Using index" in plan, plan


def test_a_search_counts_from_the_status_rows_alone(lead, coach, course_key):
    # The search compared the users table's username: every row of the course joined to its user to
    # count the matches. The status row's copy (its sort key) is read from the course's index.
    seed_course(course_key, 6, coaches=(coach,))
    statuses = api.learner_statuses(lead, course_key, search="K7-000")
    with CaptureQueriesContext(connection) as queries:
        summary = statuses.summary
    counted = [sql for sql in data_queries(queries) if "COUNT(" in sql]
    assert summary["count"] > 0 and counted
    assert all(get_user_model()._meta.db_table not in sql for sql in counted), counted


def test_a_search_reads_two_ranges_of_the_search_key_indexes(lead, coach, course_key):
    """Issue 30: a search that matched no one read every row's username in the course's index."""
    seed_course(course_key, 600, coaches=(coach,))
    listing = api.learner_statuses(lead, course_key, search="k7-001")
    assert listing.page(25).rows and len(listing.page(100).rows) == 10
    plan = chosen_indexes(*listing.page_sql(25, roster.Cursor.parse(None, listing.sort_columns)))
    assert "mwf_status_username_key" in plan and "mwf_status_name_key" in plan, plan


def seed_certified(course_key, size, seed=11):
    """``size`` certified learners expiring over the next 120 days (ties on the day, some the same instant)."""
    rng, now = random.Random(seed), timezone.now()
    users = seed_course(course_key, size, seed=seed)
    same_instant = now + timedelta(days=10)
    for user in users:
        expiry = same_instant if rng.random() < 0.2 else now + timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
        LearnerStatus.objects.filter(learner=user).update(state="certified", certified_until=expiry)
    return users


@pytest.mark.parametrize("state", ["expiring_30", "expiring_60", "expiring"])
def test_an_expiring_filter_reads_the_soonest_first_from_the_expiry_index(lead, course_key, state):
    """
    Issue 30: an expiring filter's page grew with the course's expiring certifications (read by
    username: every certified row walked, or all of them sorted). Soonest first, it reads the
    expiry index in its own order, page after page, both ways.
    """
    seed_certified(course_key, 60)
    listing = api.learner_statuses(lead, course_key, state=state)
    assert listing.sort_columns == roster.EXPIRY_ORDER
    rows = {s.learner_id: s for s in LearnerStatus.objects.filter(course_key=course_key)}
    window = {"expiring_30": 30, "expiring_60": 60, "expiring": 90}[state]
    expected = sorted((pk for pk, s in rows.items() if s.certified_until <= timezone.now() + timedelta(days=window)),
                      key=lambda pk: (rows[pk].certified_until, rows[pk].learner_username, rows[pk].id))
    assert expected and [row["learner"].pk for row in listing[:1000]] == expected
    for size in (1, 4, len(expected), 50):
        assert walk(listing, size) == expected, size
        assert walk(listing, size, backwards=True) == expected, size
    middle = listing.page(3, listing.page(3).next_cursor)
    for cursor in (None, middle.next_cursor, middle.previous_cursor, roster.LAST_PAGE):
        plan = explain(*listing.page_sql(3, roster.Cursor.parse(cursor, listing.sort_columns)))
        assert "TEMP B-TREE" not in plan and "filesort" not in plan.lower(), (cursor, plan)
    # by username, a page read every expiring row and sorted them: the filter keeps its own order
    with pytest.raises(ValidationError, match="soonest expiry first"):
        api.learner_statuses(lead, course_key, state=state, ordering="username")


def test_a_forged_expiry_cursor_is_a_400(lead, course_key):
    seed_certified(course_key, 5)
    listing = api.learner_statuses(lead, course_key, state="expiring")
    for key in (["not a time", "a", 1], [5, "a", 1], [None, "a", 1]):
        forged = roster.Cursor(False, tuple(key)).encode()
        with pytest.raises(ValidationError):
            listing.page(2, forged)


@pytest.mark.parametrize("limit", [5, "the narrowest window's count", 1000])
def test_the_expiring_counts_stop_at_their_limit_and_say_so(lead, course_key, monkeypatch, limit):
    """
    Issue 30: the staff page's expiring counts counted every expiring certification (0.7 ms at 1,000
    learners, 4.1 ms at 100,000 on MariaDB). They read at most ``limit + 1`` entries of the expiry
    index, soonest first, and a window holding more says "more than".
    """
    seed_certified(course_key, 60)
    now = timezone.now()
    expiries = [s.certified_until for s in LearnerStatus.objects.filter(course_key=course_key)]
    narrow = sum(1 for expiry in expiries if now < expiry <= now + timedelta(days=30))
    limit = narrow if isinstance(limit, str) else limit
    monkeypatch.setattr(roster, "EXPIRING_COUNT_LIMIT", limit)
    summary = api.learner_statuses(lead, course_key, header=True).summary
    for name, days in roster.EXPIRING_FILTERS:
        within = sum(1 for expiry in expiries if now < expiry <= now + timedelta(days=days))
        assert (summary[name], summary[f"{name}_exact"]) == (min(within, limit), within <= limit), name
    if limit == narrow:  # exact for the narrowest window (the limit itself), "more than" for the widest
        assert summary["expiring_30_exact"] and not summary["expiring_exact"]
    sql, params = roster._expiring_sums(roster._tables(connection.vendor), now, str(course_key))  # pylint: disable=protected-access
    plan = explain(sql, params)
    assert "TEMP B-TREE" not in plan and "filesort" not in plan.lower(), plan


def test_the_staff_page_says_more_than_for_a_capped_expiring_count(lead, course_key, monkeypatch, client):
    monkeypatch.setattr(roster, "EXPIRING_COUNT_LIMIT", 5)
    seed_certified(course_key, 60)
    client.force_login(lead)
    page = client.get(f"/miiwrap-fidelity/courses/{course_key}/coaching/").content.decode()
    assert "more than 5 within 30 days" in page and "more than 5 within 90 days" in page


def seed_names(course_key, size, seed=7):
    """``size`` learners whose full names start with letters their usernames do not (name keys as the lists read them)."""
    users = seed_course(course_key, size, seed=seed)
    for index, user in enumerate(users):
        name = f"{'Kim' if index % 3 == 0 else 'Ana'} {index:04d}"
        LearnerStatus.objects.filter(learner=user).update(name_key=search_keys.fold(name))
    return users


@pytest.mark.parametrize("search", ["k", "k7-00", "kim", "ana 001", "a"])
def test_a_search_is_read_in_its_own_order_from_two_ranges(lead, course_key, search):
    """
    Issue 30: a search matching a tenth of a state-wide course read and sorted all its matches
    (3-11x from 1,000 to 100,000 learners). It lists usernames that start with the words, then full
    names that do (each learner once), in the order of the two search key indexes, page by page.
    """
    seed_names(course_key, 90)
    rows = list(LearnerStatus.objects.filter(course_key=course_key))
    key = search_keys.fold(search)
    by_username = sorted((s for s in rows if s.username_key.startswith(key)), key=lambda s: (s.username_key, s.id))
    by_name = sorted((s for s in rows if s.name_key.startswith(key) and not s.username_key.startswith(key)),
                     key=lambda s: (s.name_key, s.id))
    expected = sorted([(s.username_key, s.id, s.learner_id) for s in by_username]
                      + [(s.name_key, s.id, s.learner_id) for s in by_name])
    expected = [learner for _, _, learner in expected]
    listing = api.learner_statuses(lead, course_key, search=search)
    assert listing.own_order is roster.OWN_ORDERS["search"]
    assert sorted(row["learner"].pk for row in listing[:1000]) == sorted(expected)
    for size in (1, 7, 25, 100):
        assert walk(listing, size) == expected, size
        assert walk(listing, size, backwards=True) == expected, size
    assert listing.summary["count"] == len(expected)


def test_each_search_branch_reads_its_index_in_order(lead, coach, course_key):
    seed_names(course_key, 600, seed=8)
    listing = api.learner_statuses(lead, course_key, search="k8-0")
    middle = listing.page(5, listing.page(5).next_cursor)
    for cursor in (None, middle.next_cursor, middle.previous_cursor, roster.LAST_PAGE):
        plan = explain(*listing.page_sql(5, roster.Cursor.parse(cursor, listing.sort_columns)))
        assert "mwf_status_username_key" in plan and "mwf_status_name_key" in plan, plan
        if connection.vendor == "sqlite":  # each branch in index order: the only sort is the union's 2 x 6 rows
            assert plan.count("TEMP B-TREE") <= 1, plan
        else:
            assert plan.lower().count("filesort") <= 1, plan


@pytest.mark.parametrize("state", ["expiring_30", "expired", "overdue", "search", "none"])
def test_a_filter_of_a_small_part_of_the_course_keeps_its_own_order(lead, course_key, state, client):
    """
    A filter that picks a small part of a course is read from its index in that index's order;
    another sort would read and sort all its rows (issue 30): refused with a message on every path.
    """
    seed_course(course_key, 10)
    filters = {"search": {"search": "k7"}, "none": {"coach": roster.NO_COACH}}.get(state, {"state": state})
    with pytest.raises(ValidationError, match="cannot be sorted by another column"):
        api.learner_statuses(lead, course_key, ordering="-qualifying", **filters)
    client.force_login(lead)
    rest = client.get(f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/", {**filters, "ordering": "state"})
    assert rest.status_code == 400 and "cannot be sorted by another column" in rest.json()["ordering"][0]
    page = client.get(reverse("miiwrap_fidelity:workspace", args=[str(course_key)]), filters)
    assert page.status_code == 200 and "ordering=-qualifying" not in page.content.decode()
    # the page drops a sort the filter does not take (a bookmark from before): its own order
    bookmarked = client.get(reverse("miiwrap_fidelity:workspace", args=[str(course_key)]),
                            {**filters, "ordering": "-qualifying"})
    own = str(api.learner_statuses(lead, course_key, **filters).own_order.label)
    assert bookmarked.status_code == 200 and f", {own}</caption>" in bookmarked.content.decode()


@pytest.mark.parametrize("ordering", ["username", "-username"])
def test_expired_and_overdue_rows_are_read_by_username_from_their_indexes(lead, course_key, ordering):
    """
    Issue 30: "Expired" (stored so, or certified past the expiry until the daily pass) and
    "Overdue" read the whole course (13-56x from 1,000 to 100,000 learners).
    """
    users = seed_course(course_key, 80)
    now = timezone.now()
    for index, user in enumerate(users):
        if index % 5 == 0:
            LearnerStatus.objects.filter(learner=user).update(state="expired", certified_until=now - timedelta(days=9))
        elif index % 7 == 0:  # lapsed since the last pass
            LearnerStatus.objects.filter(learner=user).update(state="certified", certified_until=now - timedelta(hours=2))
        elif index % 11 == 0:
            LearnerStatus.objects.filter(learner=user).update(state="certified", certified_until=now + timedelta(days=2))
        if index % 4 == 1:
            LearnerStatus.objects.filter(learner=user).update(overdue=True, state="in_progress")
    rows = list(LearnerStatus.objects.filter(course_key=course_key))
    for state, matches in (("expired", lambda s: s.state == "expired" or (s.state == "certified"
                                                                           and s.certified_until is not None
                                                                           and s.certified_until <= now)),
                           ("overdue", lambda s: s.overdue)):
        expected = [s.learner_id for s in sorted((s for s in rows if matches(s)), key=lambda s: (s.learner_username, s.id),
                                                 reverse=ordering.startswith("-"))]
        listing = api.learner_statuses(lead, course_key, state=state, ordering=ordering)
        assert expected and walk(listing, 4) == expected and walk(listing, 4, backwards=True) == expected, state
        assert (listing.summary["count"], listing.summary["count_exact"]) == (len(expected), True)
        capped = api.learner_statuses(lead, course_key, state=state, count_limit=3).summary
        assert (capped["count"], capped["count_exact"]) == (3, False)
        plan = explain(*listing.page_sql(4, roster.Cursor.parse(listing.page(4).next_cursor, listing.sort_columns)))
        assert ("mwf_status_state" if state == "expired" else "mwf_status_overdue") in plan, plan


@pytest.mark.parametrize("state", ["in_progress", "ready", "certified"])
@pytest.mark.parametrize("ordering", sorted(roster.ORDERINGS))
def test_a_stored_state_filter_is_read_in_every_sort_order_from_an_index(lead, course_key, state, ordering):
    """
    Issue 30: on MariaDB a state filter sorted by the state (one value: the sort is the username's)
    sorted the filter's rows (4-6x from 1,000 to 100,000 learners).
    """
    seed_course(course_key, 300)
    listing = api.learner_statuses(lead, course_key, state=state, ordering=ordering)
    expected = [row["learner"].pk for row in listing[:1000]]
    assert expected and walk(listing, 7) == expected and walk(listing, 7, backwards=True) == expected
    middle = listing.page(5, listing.page(5).next_cursor)
    for cursor in (None, middle.next_cursor, middle.previous_cursor, roster.LAST_PAGE):
        plan = explain(*listing.page_sql(5, roster.Cursor.parse(cursor, listing.sort_columns)))
        assert "TEMP B-TREE" not in plan and "filesort" not in plan.lower(), (cursor, plan)


@pytest.mark.parametrize("search", ["\U0010ffff", "a\U0010ffff", "\ud7ff"[:0] + "x\ud7ff", "\U0010ffff\U0010ffff"])
def test_a_search_ending_in_the_last_characters_is_answered(lead, course_key, search, client):
    """The review of issue 30's search: U+10FFFF has no next character (SQLite's range: a 500)."""
    seed_course(course_key, 5)
    client.force_login(lead)
    answer = client.get(f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/", {"search": search})
    assert answer.status_code == 200 and answer.json()["results"] == []
    low, high = search_keys.prefix_bounds(search_keys.fold(search))
    assert low < high and not any(0xD800 <= ord(c) <= 0xDFFF for c in high)


@pytest.mark.parametrize("name", ["Zed " + "a" * 251, "Zed " + "\u6f22" * 251, "Zed " + "\U0001f600" * 251])
def test_a_search_pages_past_a_learner_with_a_long_name_in_any_script(lead, course_key, name):
    """The review of issue 30: a cursor refused a name key over 150 characters (nobody paged past it)."""
    users = seed_course(course_key, 6)
    LearnerStatus.objects.filter(learner=users[2]).update(name_key=search_keys.fold(name))
    for user in users[3:]:
        LearnerStatus.objects.filter(learner=user).update(name_key=search_keys.fold(f"Zed {user.username}"))
    listing = api.learner_statuses(lead, course_key, search="zed")
    expected = [s.learner_id for s in sorted(LearnerStatus.objects.filter(course_key=course_key, name_key__startswith="zed"),
                                             key=lambda s: (s.name_key, s.id))]
    assert len(expected) == 4 and walk(listing, 1) == expected and walk(listing, 1, backwards=True) == expected
