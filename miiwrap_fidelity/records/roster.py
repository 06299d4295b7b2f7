"""
The learner list of a course: filtering, searching, sorting and counting status rows.

This is the page coaches open most. Through the ORM, building and compiling its statements cost
several times the database's own work (docs/benchmarks.md), so its few statement shapes are written
here from fixed fragments and rows are read as plain values: a page is one summary statement (the
count, plus what the page header shows) and one statement for the rows, whatever the page size or a
learner's history. Every figure shown is on the status row. Internal to ``api``.
"""
import base64
import binascii
import functools
import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ..rules import competency, search_keys
from ..rules.errors import ValidationError
from ..rules.validation import MAX_ID, as_id
from ..wording import reason_sentences
from .database_values import aware_datetime, date_value, datetime_param, quote
from .models import CoachAssignment, CompetencyPolicy, LearnerStatus


def _expiring_label(days):
    return _("Expiring within %(days)s days") % {"days": days}


#: Filter values, in ``competency.STATE_FILTERS``' order (the stored states plus the ones that depend
#: on today's date), and their labels.
STATE_FILTERS = {
    name: dict(LearnerStatus.STATE_CHOICES).get(name) or (gettext_lazy("Overdue") if name == competency.OVERDUE else lazy(
        _expiring_label, str)(next(days for days in competency.EXPIRING_WINDOWS
                                   if competency.expiring_filter(days) == name)))
    for name in competency.STATE_FILTERS
}
#: The expiring filters, narrowest first: also the columns of the staff page's expiring counts.
EXPIRING_COLUMNS = tuple(competency.expiring_filter(days) for days in sorted(competency.EXPIRING_WINDOWS))
#: ``(filter, days)`` of the expiring windows, narrowest first (the staff page links each).
EXPIRING_FILTERS = tuple(zip(EXPIRING_COLUMNS, sorted(competency.EXPIRING_WINDOWS)))
#: The filters whose rows all hold one stored state (read through the indexes that begin with the state).
STORED_STATE_FILTERS = frozenset(name for name, rule in competency.STATE_FILTERS.items()
                                 if not rule.overdue and len(rule.states) + (rule.certified_expiry is not None) == 1)
#: The coach filter's value for learners nobody coaches yet (enrolled, waiting for an assignment).
NO_COACH = "none"

#: Sort keys: the status row's column (None: the username alone). Ties are broken by the username,
#: then the row id, in the same direction, so that an index of the course's rows,
#: ``(course_key, column, learner_username)`` (InnoDB and SQLite keep the row id in it), serves
#: every order, in both directions, and a page's last row is a unique key to continue from.
SORT_COLUMNS = {"username": None, "state": "s.state", "qualifying": "s.qualifying_count",
                "last_observation": "s.last_practice_date"}
ORDERINGS = {f"{prefix}{name}": (column, prefix == "-") for name, column in SORT_COLUMNS.items()
             for prefix in ("", "-")}
#: An expiring filter's rows unless another order is asked for: the soonest expiry first, read in
#: the order of ``mwf_status_expiry`` (course, state, expiry, username); by username, a page of a
#: state-wide course's few expiring rows meant walking every certified row or sorting them all.
EXPIRY_ORDER = ("s.certified_until", "s.learner_username", "s.id")
#: The only sort column that may be NULL (both databases sort NULL first, ascending).
NULLABLE = {"s.last_practice_date"}
#: Lists count their rows up to this many: beyond, "more than" (counting a whole course per page
#: view was the staff page's main cost at 100,000 learners).
COUNT_LIMIT = 1000

ROW_COLUMNS = ("s.learner_id", "u.username", "s.state", "s.qualifying_count", "s.required_count",
               "s.last_practice_date", "s.last_percent", "s.reasons", "s.certified_until", "s.enrolled",
               "s.due_date", "s.overdue", "s.learner_username", "s.id")
LIKE_ESCAPE = "!"


@functools.lru_cache(maxsize=4)
def _tables(vendor):
    """Quoted table names, and the join of the status row to its learner."""
    names = {"status": LearnerStatus, "user": get_user_model(), "assignment": CoachAssignment,
             "policy": CompetencyPolicy}
    tables = {key: quote(model._meta.db_table) for key, model in names.items()}
    tables["join_user"] = f"JOIN {tables['user']} u ON u.id = s.learner_id"
    # A row's assignments by (course, learner). MariaDB otherwise reads them through the unique
    # (course, coach, learner) index on the course alone when one course fills the table: every
    # assignment of the course per listed row (52 ms instead of 0.5 ms for a page of 10,000 learners).
    tables["by_learner"] = " FORCE INDEX (mwf_assign_learner)" if vendor == "mysql" else ""
    # A coach as "id:username" (the Coach column: the page shows full names, REST usernames).
    tables["coach_ref"] = ("CONCAT(ca.coach_id, ':', cu.username)" if vendor == "mysql"
                           else "(ca.coach_id || ':' || cu.username)")
    return tables


def _state_condition(state, now):
    """
    SQL (on status ``s``) and parameters selecting one ``STATE_FILTERS`` value:
    ``competency.STATE_FILTERS``' rule for it, written in SQL (the expiry is the status row's copy
    of its certification's, ``certified_until``).
    """
    rule = competency.STATE_FILTERS[state]
    if rule.overdue:
        return "(s.overdue = %s)", [True]
    alternatives, params = [], []
    if rule.states:
        alternatives.append(f"s.state IN ({', '.join(['%s'] * len(rule.states))})")
        params += [str(value) for value in rule.states]
    if rule.certified_expiry is not None:
        after, until = rule.certified_expiry
        conditions = ["s.state = %s"]
        params.append(str(competency.State.CERTIFIED))
        if after is not None:
            conditions.append("(s.certified_until IS NULL OR s.certified_until > %s)")
            params.append(datetime_param(now + timedelta(days=after)))
        if until is not None:
            conditions.append("s.certified_until <= %s")
            params.append(datetime_param(now + timedelta(days=until)))
        alternatives.append(f"({' AND '.join(conditions)})")
    return f"({' OR '.join(alternatives)})", params


def _starts_with(key):
    """
    SQL (on status ``s``) and parameters selecting the rows whose username or full name starts with
    ``key`` (folded, ``rules/search_keys``). A search inside a name ("eyes" for "Reyes") would read
    every row of the course: not offered.
    """
    by_username, username_params = _key_starts_with("s.username_key", key)
    by_name, name_params = _key_starts_with("s.name_key", key)
    return f"({by_username} OR {by_name})", username_params + name_params


def _key_starts_with(column, key):
    """
    SQL and parameters for "``column`` (a search key) starts with ``key``": MariaDB reads
    ``LIKE 'key%'`` as a range of the index in the column's collation; SQLite's LIKE cannot use a
    binary index, so there the range is written out.
    """
    if connection.vendor == "mysql":
        for character in (LIKE_ESCAPE, "%", "_"):
            key = key.replace(character, LIKE_ESCAPE + character)
        return f"{column} LIKE %s ESCAPE '{LIKE_ESCAPE}'", [f"{key}%"]
    low, high = search_keys.prefix_bounds(key)
    return f"({column} >= %s AND {column} < %s)", [low, high]


@dataclass(frozen=True)
class Branch:
    """
    One part of a filter read as several ranges (``OwnOrder.branches``): its condition on ``s``,
    the column that orders it (the page's key, with the row id) and the index that holds it in that
    order (MariaDB is named it: a range it would otherwise read through another index and sort).
    """
    condition: str
    params: tuple
    key: str
    index: str

    def hint(self, vendor):
        return f" FORCE INDEX ({self.index})" if vendor == "mysql" else ""


#: A page read as branches is sorted by the branch's key, then the row id.
BRANCH_KEY = ("b.k", "b.sid")


@dataclass(frozen=True)
class OwnOrder:
    """
    The order of a filter that picks a small part of a course (expiring, expired, overdue, no coach
    yet, a search): the order of the index it is read from. Another sort would read all its rows
    and sort them, a cost that grows with the course: not offered (``orderings``: the sort keys
    it takes: "username" and "-username" for the filters listed by username, none for an expiring
    window or a search, which list in their own order only; ``columns``: its sort columns;
    ``branches``: for a filter of several ranges, ``(now, search key) -> Branch`` values).
    """
    label: object
    orderings: tuple = ()
    columns: tuple | None = None
    branches: object = None


def _search_branches(now, key):  # pylint: disable=unused-argument
    """A search's two ranges, merged A to Z by the key that matched: usernames that start with ``key``, and
    full names that do (of the learners whose username does not)."""
    by_username, username_params = _key_starts_with("s.username_key", key)
    by_name, name_params = _key_starts_with("s.name_key", key)
    return (Branch(by_username, tuple(username_params), "s.username_key", "mwf_status_username_key"),
            Branch(f"{by_name} AND NOT ({by_username})", tuple(name_params + username_params), "s.name_key",
                   "mwf_status_name_key"))


def _expired_branches(now, key):  # pylint: disable=unused-argument
    """Expired: the rows stored so, and the certified rows past their expiry (until the daily pass stores them so)."""
    return (Branch("s.state = %s", (str(competency.State.EXPIRED),), "s.learner_username", "mwf_status_state"),
            Branch("s.state = %s AND s.certified_until <= %s",
                   (str(competency.State.CERTIFIED), datetime_param(now)), "s.learner_username", "mwf_status_expiry"))


BY_USERNAME = ("username", "-username")
OWN_ORDERS = {
    "search": OwnOrder(gettext_lazy("by name or username, A to Z"), branches=_search_branches),
    "expiring": OwnOrder(gettext_lazy("soonest expiry first"), columns=EXPIRY_ORDER),
    str(competency.State.EXPIRED): OwnOrder(gettext_lazy("by username"), BY_USERNAME, branches=_expired_branches),
    "by_username": OwnOrder(gettext_lazy("by username"), BY_USERNAME),
}


def _own_order(state, without_coach, key):
    """The ``OwnOrder`` of a course-wide list with these filters (None: any sort)."""
    if key:
        return OWN_ORDERS["search"]
    if state in dict(EXPIRING_FILTERS):
        return OWN_ORDERS["expiring"]
    if state == str(competency.State.EXPIRED):
        return OWN_ORDERS[state]
    if state == competency.OVERDUE or without_coach:
        return OWN_ORDERS["by_username"]
    return None


def _own_order_refusal(order):
    return _("This filter lists its learners %(order)s; it cannot be sorted by another column.") % {
        "order": order.label}


@dataclass(frozen=True)
class LearnerRef:
    """The learner of a row: what the list shows and links to, without loading the user."""
    pk: int
    username: str


class Roster:
    """
    A course's status rows, filtered: ``coach_id`` (learners of that coach; ``NO_COACH``: of none),
    ``state`` (a key of ``STATE_FILTERS``), ``search`` (the beginning of a username or a full name,
    case and accents ignored), sorted by an
    ``ORDERINGS`` key.

    ``page(size, cursor)`` reads one page by keyset (``KeysetPage``: no OFFSET, so the last page
    costs what the first does). ``summary`` (one statement, run once) holds the count (up to
    ``count_limit`` when given) and, on request, the course's expiring certifications
    (``with_expiring``), whether it has an enabled policy and whether ``coach_id`` coaches anyone in
    it (``check_coach``). ``count()`` and plain slices remain for callers that need them (the leader
    view's exact counts, the sign-off block's learner picker).
    """

    def __init__(self, course_key, coach_id=None, state=None, search=None, ordering=None, now=None,
                 with_expiring=False, check_coach=False, count_limit=None):
        errors = {}
        if state and state not in STATE_FILTERS:
            errors["state"] = [_("Unknown status filter.")]
        if ordering and ordering not in ORDERINGS:
            errors["ordering"] = [_("Unknown sort order.")]
        if coach_id not in (None, "", NO_COACH) and as_id(coach_id) is None:
            errors["coach"] = [_("Choose a coach from the list.")]
        if search is not None and (not isinstance(search, str) or len(search) > 150):
            errors["search"] = [_("At most 150 characters.")]
        if errors:
            raise ValidationError(errors)
        self.course_id = str(course_key)
        self.without_coach = coach_id == NO_COACH
        self.coach_id = None if coach_id in (None, "", NO_COACH) else as_id(coach_id)
        self.now = now or timezone.now()
        column, self.descending = ORDERINGS[ordering or "username"]
        if column == "s.state" and state in STORED_STATE_FILTERS:  # one state: its order is the username's
            column = None
        self.sort_columns = tuple(name for name in (column, "s.learner_username", "s.id") if name)
        self.with_expiring, self.check_coach, self.count_limit = with_expiring, check_coach, count_limit
        self.tables = _tables(connection.vendor)
        key = search_keys.fold((search or "").strip())
        self.searching = bool(key)
        # A coach's caseload (about 100 learners) is read whole and sorted: any order. Across the
        # course, a filter that picks a small part of it is read from its own index, in its order.
        self.own_order = None if self.coach_id is not None else _own_order(state, self.without_coach, key)
        if self.own_order is not None and ordering and ordering not in self.own_order.orderings:
            raise ValidationError({"ordering": [_own_order_refusal(self.own_order)]})
        self.branches = ()
        if self.own_order is not None and self.own_order.branches:
            self.branches = self.own_order.branches(self.now, key)
            self.sort_columns = BRANCH_KEY
        elif self.own_order is not None and self.own_order.columns:
            self.sort_columns = self.own_order.columns
        elif not ordering and state in dict(EXPIRING_FILTERS):  # a caseload's expiring rows: soonest first too
            self.sort_columns = EXPIRY_ORDER
        self._where, self._params = self._conditions(state, key)
        self._base_where, self._base_params = self._conditions(None if self.own_order and self.own_order.branches
                                                               and not key else state, "", search_too=False)

    def _conditions(self, state, key, search_too=True):
        """The statement's conditions on ``s`` and their parameters (``search_too`` False: without
        the search, which a page's branches hold)."""
        where, params = ["s.course_key = %s"], [self.course_id]
        if self.coach_id is not None:
            where.append(f"s.learner_id IN (SELECT a.learner_id FROM {self.tables['assignment']} a "
                         "WHERE a.course_key = %s AND a.coach_id = %s)")
            params += [self.course_id, self.coach_id]
        if self.without_coach:  # the row's kept flag (records/coach_flags.py): one range of mwf_status_coached
            where.append("s.has_coach = %s")
            params.append(False)
        if state:
            condition, condition_params = _state_condition(state, self.now)
            where.append(condition)
            params += condition_params
        if key and search_too:  # a username or a full name that starts with it: two ranges of the search key indexes
            condition, condition_params = _starts_with(key)
            where.append(condition)
            params += condition_params
        return " AND ".join(where), params

    @functools.cached_property
    def summary(self):
        """
        ``{"count", "count_exact", "has_policy"[, "expiring_30", "expiring_60", "expiring" and each
        with ``_exact``][, "coaches_here"]}``; with a ``count_limit``, ``count`` stops there
        (``count_exact`` False: there are more); the expiring counts stop at ``EXPIRING_COUNT_LIMIT``.
        """
        columns, params = ["m.n"], []
        if self.with_expiring:
            columns += [f"e.{name}" for name in EXPIRING_COLUMNS]
        columns.append(f"EXISTS (SELECT 1 FROM {self.tables['policy']} p WHERE p.course_key = %s AND p.enabled = %s)")
        params += [self.course_id, True]
        if self.check_coach:
            columns.append(f"EXISTS (SELECT 1 FROM {self.tables['assignment']} a "
                           "WHERE a.course_key = %s AND a.coach_id = %s)")
            params += [self.course_id, self.coach_id]
        if self.branches:  # each branch counted from its own range (an OR of them may read the whole course)
            counted, count_params = self._branches_count_sql()
        elif self.count_limit is None:
            counted = f"SELECT COUNT(*) AS n FROM {self._status_table()} WHERE {self._where}"
            count_params = list(self._params)
        else:  # stops reading the index after count_limit + 1 rows
            counted = (f"SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM {self._status_table()} "
                       f"WHERE {self._where} LIMIT %s) q")
            count_params = [*self._params, self.count_limit + 1]
        sql = f"SELECT {', '.join(columns)} FROM ({counted}) m"
        params += count_params
        if self.with_expiring:
            expiring_sql, expiring_params = _expiring_sums(self.tables, self.now, self.course_id)
            sql += f" CROSS JOIN ({expiring_sql}) e"
            params += expiring_params
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            values = list(cursor.fetchone())
        count = values.pop(0)  # (a filter of branches: up to count_limit + 1 from each)
        exact = self.count_limit is None or count <= self.count_limit
        figures = {"count": count if exact else self.count_limit, "count_exact": exact}
        if self.with_expiring:
            for name in EXPIRING_COLUMNS:
                expiring = int(values.pop(0) or 0)
                figures[name] = min(expiring, EXPIRING_COUNT_LIMIT)
                figures[f"{name}_exact"] = expiring <= EXPIRING_COUNT_LIMIT
        figures["has_policy"] = bool(values.pop(0))
        if self.check_coach:
            figures["coaches_here"] = bool(values.pop(0))
        return figures

    def count(self):
        return self.summary["count"]

    def __iter__(self):
        return iter(self[:])

    def _coaches(self):
        """A row's coaches as one "id:username,..." text (a subquery on ``s``)."""
        return (f"(SELECT GROUP_CONCAT({self.tables['coach_ref']}) FROM {self.tables['assignment']} "
                f"ca{self.tables['by_learner']} "
                f"JOIN {self.tables['user']} cu ON cu.id = ca.coach_id "
                "WHERE ca.course_key = s.course_key AND ca.learner_id = s.learner_id)")

    def _select(self):
        return (f"SELECT {', '.join(ROW_COLUMNS)}, {self._coaches()} FROM {self._status_table()} "
                f"{self.tables['join_user']} WHERE {self._where}")

    def _order_by(self, descending, columns=None):
        direction = " DESC" if descending else ""
        return "ORDER BY " + ", ".join(f"{column}{direction}" for column in columns or self.sort_columns)

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("Roster supports plain slices only.")
        start = max(index.start or 0, 0)
        # (a filter read as branches: by username, its rows' order in every branch but the search's)
        columns = ("s.learner_username", "s.id") if self.branches else None
        sql = f"{self._select()} {self._order_by(self.descending, columns)}"
        params = list(self._params)
        if index.stop is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [max(index.stop - start, 0), start]
        elif start:
            raise TypeError("Roster slices need an end.")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [_row_values(row) for row in cursor.fetchall()]

    def page(self, size, cursor=None):
        """
        One page of ``size`` rows (``KeysetPage``) after or before the row a ``cursor`` names (see
        ``Cursor``; None: the first page), read by keyset: the rows after a page's last sort key,
        in index order, ``LIMIT size + 1`` (the extra row says whether there is another page).
        """
        position = Cursor.parse(cursor, self.sort_columns)
        backwards = position is not None and position.before
        sql, params = self.page_sql(size, position)
        with connection.cursor() as db_cursor:
            db_cursor.execute(sql, params)
            fetched = list(db_cursor.fetchall())
        more = len(fetched) > size
        fetched = fetched[:size]
        if backwards:
            fetched.reverse()
        rows = [_row_values(row) for row in fetched]
        keys = [self._key(row) for row in fetched]
        has_previous = more if backwards else position is not None
        has_next = (position.key is not None) if backwards else more
        return KeysetPage(
            rows=rows,
            next_cursor=Cursor(False, keys[-1]).encode() if has_next and keys else None,
            previous_cursor=Cursor(True, keys[0]).encode() if has_previous and keys else None,
            is_first=not has_previous, is_last=not has_next)

    def page_sql(self, size, position=None):
        """The statement of a page (``position``: a ``Cursor``), and its parameters."""
        backwards = position is not None and position.before
        # Going back reads the rows before the key in reverse order, then turns the page around.
        scan_descending = self.descending != backwards
        if self.branches:
            return self._branches_page_sql(size, position, scan_descending)
        sql, params, columns = self._select(), list(self._params), self._sort_terms()
        if position is not None and position.key is not None:
            if scan_descending and position.key[0] is None and _nullable(columns[0]):
                # Below a NULL only NULLs remain: the rest of the key orders them. (MariaDB sorts
                # when an ORDER BY names a column held by IS NULL, instead of reading the index.)
                sql += f" AND {columns[0]} IS NULL"
                columns, key = columns[1:], position.key[1:]
            else:
                key = position.key
            condition, condition_params = _beyond(columns, _key_params(columns, key), scan_descending)
            sql += f" AND {condition}"
            params += condition_params
        sql += f" {self._order_by(scan_descending, columns)} LIMIT %s"
        params.append(size + 1)
        return sql, params

    def _branches_page_sql(self, size, position, descending):
        """
        A page of a filter read as branches (``Branch``): each branch reads at most ``size + 1``
        rows past the cursor from its own index, in its key's order; the page is the first
        ``size + 1`` of their union by that key. Every branch's rows are distinct.
        """
        direction = " DESC" if descending else ""
        parts, params = [], []
        for branch in self.branches:
            sql = (f"SELECT s.id AS sid, {branch.key} AS k FROM {self.tables['status']} s{branch.hint(connection.vendor)} "
                   f"WHERE {self._base_where} AND {branch.condition}")
            params += [*self._base_params, *branch.params]
            if position is not None and position.key is not None:
                condition, condition_params = _beyond((branch.key, "s.id"), position.key, descending)
                sql += f" AND {condition}"
                params += condition_params
            parts.append(f"SELECT sid, k FROM ({sql} ORDER BY {branch.key}{direction}, s.id{direction} LIMIT %s) "
                         f"b{len(parts)}")
            params.append(size + 1)
        coaches = self._coaches()
        sql = (f"SELECT {', '.join(ROW_COLUMNS)}, {coaches}, b.k FROM ({' UNION ALL '.join(parts)}) b "
               f"JOIN {self.tables['status']} s ON s.id = b.sid {self.tables['join_user']} "
               f"ORDER BY b.k{direction}, b.sid{direction} LIMIT %s")
        return sql, params + [size + 1]

    def _branches_count_sql(self):
        """The count of a filter read as branches: the sum of each branch's rows (up to ``count_limit + 1`` each)."""
        parts, params = [], []
        limit = "" if self.count_limit is None else " LIMIT %s"
        for branch in self.branches:
            parts.append(f"SELECT one FROM (SELECT 1 AS one FROM {self.tables['status']} s{branch.hint(connection.vendor)} "
                         f"WHERE {self._base_where} AND {branch.condition}{limit}) c{len(parts)}")
            params += [*self._base_params, *branch.params] + ([] if self.count_limit is None else [self.count_limit + 1])
        return f"SELECT COUNT(*) AS n FROM ({' UNION ALL '.join(parts)}) q", params

    def _status_table(self):
        """
        The status table as the statements name it (``s``). A search is read from its two ranges of
        the search key indexes and sorted (the matches); MariaDB is told so, or it may walk the whole
        course in the sort's index order to fill a page, reading every row when nothing matches.
        """
        hint = " FORCE INDEX (mwf_status_username_key, mwf_status_name_key)" if (
            self.searching and connection.vendor == "mysql") else ""
        return f"{self.tables['status']} s{hint}"

    def _sort_terms(self):
        """
        The sort columns as a page's statement names them. A coach's caseload (about 100 learners
        in any course) and a search's matches are read by their own indexes and sorted; on SQLite
        the columns are written ``+column`` so that its planner does not walk the whole course in
        index order to find them (MariaDB is told by ``_status_table``, or chooses the caseload itself).
        """
        if (self.coach_id is None and not self.searching) or connection.vendor != "sqlite":
            return self.sort_columns
        return tuple(f"+{column}" for column in self.sort_columns)

    def _key(self, row):
        """A fetched row's sort key (values of ``sort_columns``, as JSON values)."""
        if self.branches:  # (..., the row id, ..., the branch's key)
            return [row[-1], row[ROW_COLUMNS.index("s.id")]]
        by_column = dict(zip(ROW_COLUMNS, row))
        return [_json_key(column, by_column[column]) for column in self.sort_columns]


#: The JSON type of each sort column's key value.
KEY_TYPES = {"s.state": str, "s.qualifying_count": int, "s.last_practice_date": str, "s.learner_username": str,
             "s.id": int, "s.certified_until": str, "b.k": str, "b.sid": int}


def _json_key(column, value):
    if column == "s.last_practice_date" and value is not None:
        return date_value(value).isoformat()
    if column == "s.certified_until" and value is not None:
        return aware_datetime(value).isoformat()
    return value


def _key_params(columns, key):
    """A cursor's key as the statement compares it: a datetime in its stored form (dates and the rest as they are)."""
    return tuple(datetime_param(aware_datetime(value)) if column.lstrip("+") == "s.certified_until" and value
                 else value for column, value in zip(columns, key))


def _nullable(term):
    return term.lstrip("+") in NULLABLE


def _beyond(columns, key, descending):
    """
    SQL and parameters for "after ``key`` in the order of ``columns`` (all ascending, or all
    descending)", written as the OR of prefixes that index range scans read (row-value comparisons
    are not served by MariaDB's range optimizer). NULL sorts first (SQLite and MySQL alike).
    """
    alternatives, params = [], []
    for position, column in enumerate(columns):
        parts, part_params = [], []
        for equal_column, value in zip(columns[:position], key[:position]):
            if value is None:
                parts.append(f"{equal_column} IS NULL")
            else:
                parts.append(f"{equal_column} = %s")
                part_params.append(value)
        value = key[position]
        if value is None:  # nothing is below NULL; everything not NULL is above it
            if descending:
                continue
            parts.append(f"{column} IS NOT NULL")
        elif descending:
            parts.append(f"({column} < %s OR {column} IS NULL)" if _nullable(column) else f"{column} < %s")
            part_params.append(value)
        else:
            parts.append(f"{column} > %s")
            part_params.append(value)
        alternatives.append(f"({' AND '.join(parts)})")
        params += part_params
    if not alternatives:
        return "1 = 0", []
    # The same bound on the first column alone, redundant: a plain range the optimizer reads in
    # index order (MariaDB otherwise may read another index and sort, when the first value is NULL).
    first, value = columns[0], key[0]
    if value is None:
        bound, bound_params = (f"{first} IS NULL", []) if descending else ("1 = 1", [])
    elif descending:
        bound = f"({first} <= %s OR {first} IS NULL)" if _nullable(first) else f"{first} <= %s"
        bound_params = [value]
    else:
        bound, bound_params = f"{first} >= %s", [value]
    return f"{bound} AND ({' OR '.join(alternatives)})", bound_params + params


@dataclass(frozen=True)
class Cursor:
    """
    Where a keyset page starts: after (``before`` False) or before the row whose sort key is
    ``key``; ``key`` None with ``before``: the last page. Sent to clients as opaque URL-safe text.
    """
    before: bool
    key: tuple | None

    def encode(self):
        text = json.dumps(["before" if self.before else "after", None if self.key is None else list(self.key)],
                          separators=(",", ":"), ensure_ascii=False)  # a name in any script: 2-4 bytes a character
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text, columns):
        """
        The cursor of ``text`` for a list sorted by ``columns`` (None for none); ``ValidationError``
        when it is not one of ours.
        """
        if text in (None, ""):
            return None
        error = ValidationError({"cursor": [_("This page link is not valid any more; start from the first page.")]})
        if not isinstance(text, str) or len(text) > MAX_CURSOR:
            raise error
        try:
            direction, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise error from exc
        if direction not in ("after", "before") or (key is None and direction == "after"):
            raise error
        if key is not None and not _valid_key(key, columns):
            raise error
        return cls(direction == "before", None if key is None else tuple(key))


def _valid_key(key, columns):
    if not isinstance(key, list) or len(key) != len(columns):
        return False
    for column, value in zip(columns, key):
        if value is None and column in NULLABLE:
            continue
        if type(value) is not KEY_TYPES[column] or (isinstance(value, str) and len(value) > KEY_LENGTHS.get(column, 150)):
            return False
        if type(value) is int and not 0 <= value <= MAX_ID:  # ids and counts: what a database column holds
            return False
        if column in KEY_PARSERS and not _parses(KEY_PARSERS[column], value):
            return False
    return True


#: The longest text key of a column (150: usernames, dates); a search's key is a folded full name.
KEY_LENGTHS = {"b.k": search_keys.MAX_KEY}
#: A cursor's longest text: a key of 255 characters of 4 UTF-8 bytes, in base64, and the rest.
MAX_CURSOR = 2000


#: What a dated sort column's key must parse as (a cursor's text is the client's).
KEY_PARSERS = {"s.last_practice_date": date_value, "s.certified_until": aware_datetime}


def _parses(parse, text):
    try:
        return parse(text) is not None
    except ValueError:
        return False


#: The last page's cursor.
LAST_PAGE = Cursor(True, None).encode()


@dataclass(frozen=True)
class KeysetPage:
    """A page of a ``Roster``: its row values and the cursors of the pages next to it (None: none)."""
    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool
    is_last: bool


def _expiring_sums(tables, now, course_id):
    """
    How many of the course's current certifications expire within 30, 60 and 90 days (columns of
    one SELECT), each up to ``EXPIRING_COUNT_LIMIT`` (``EXPIRING_COUNT_LIMIT + 1``: more). It reads
    the first ``EXPIRING_COUNT_LIMIT + 1`` entries of the status index ``(course_key, state,
    certified_until)`` in the widest window, soonest first: the windows are nested and start
    together, so a window holding fewer than that many read entries holds no other row. Counting
    every expiring row grew with the course (0.7 ms at 1,000 learners, 4.1 ms at 100,000 on MariaDB).
    """
    sums, params = [], []
    for name in EXPIRING_COLUMNS:
        condition, condition_params = _state_condition(name, now)
        sums.append(f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS {name}")
        params += condition_params
    return (f"SELECT {', '.join(sums)} FROM (SELECT s.state, s.certified_until FROM {tables['status']} s "
            "WHERE s.course_key = %s AND s.state = %s AND s.certified_until > %s AND s.certified_until <= %s "
            "ORDER BY s.certified_until LIMIT %s) s",
            params + [course_id, str(competency.State.CERTIFIED),
                      datetime_param(now + timedelta(days=EXPIRING_RANGE[0])),
                      datetime_param(now + timedelta(days=EXPIRING_RANGE[1])), EXPIRING_COUNT_LIMIT + 1])


#: The staff page's expiring counts stop here ("more than 100 within 30 days"); the filter's list,
#: one click away, counts its rows up to ``COUNT_LIMIT``.
EXPIRING_COUNT_LIMIT = 100

#: ``(after, until)`` days from now that contain every expiring window (checked at import: the
#: expiring counts read only this range of the certification index).
EXPIRING_RANGE = (min(competency.STATE_FILTERS[name].certified_expiry[0] for name in EXPIRING_COLUMNS),
                  max(competency.STATE_FILTERS[name].certified_expiry[1] for name in EXPIRING_COLUMNS))


def _row_values(row):
    (learner_id, username, state, qualifying, required, practice_date, percent, reasons, expires_at, enrolled,
     due_date, overdue, _sort_name, _row_id, coaches) = row[:len(ROW_COLUMNS) + 1]
    return {"learner": LearnerRef(learner_id, username), "state": state, "qualifying_count": qualifying,
            "required_count": required, "last_practice_date": date_value(practice_date), "last_percent": percent,
            "reasons": _reasons_text(reasons), "expires_at": aware_datetime(expires_at), "enrolled": bool(enrolled),
            "due_date": date_value(due_date), "overdue": bool(overdue), "coaches": _coach_refs(coaches)}


def _coach_refs(concatenated):
    """``LearnerRef`` values (a coach's id and username) of a row's "id:username,..." text, by username."""
    refs = (LearnerRef(int(pk), username) for pk, username in
            (part.split(":", 1) for part in (concatenated or "").split(",") if part))
    return tuple(sorted(refs, key=lambda ref: ref.username))


def values_of(status):
    """The row values of a ``data.LearnerStatusData``."""
    certification = status.certification
    return {"learner": status.learner, "state": status.state, "qualifying_count": status.qualifying_count,
            "required_count": status.required_count, "last_practice_date": status.last_practice_date,
            "last_percent": status.last_percent, "reasons": _reasons_text(status.reasons),
            "expires_at": certification.expires_at if certification else None, "enrolled": status.enrolled,
            "due_date": status.due_date, "overdue": status.overdue, "coaches": ()}


def _reasons_text(value):
    """The reasons column as JSON text: rows are read as text (SQLite, MySQL), and text is a cache key."""
    return value if isinstance(value, str) else json.dumps(value or [], sort_keys=True)


@functools.lru_cache(maxsize=4096)
def _next_step(language, reasons_text, reviewer):  # pylint: disable=unused-argument  (language: cache key)
    """The first reason's sentence. Many rows share their reasons, so sentences are translated once."""
    reasons = json.loads(reasons_text)
    return reason_sentences.sentences(reasons[:1], reviewer=reviewer)[0] if reasons else ""


@functools.lru_cache(maxsize=256)
def _state_label(language, state):  # pylint: disable=unused-argument  (part of the cache key)
    return str(STATE_FILTERS.get(state) or dict(LearnerStatus.STATE_CHOICES).get(state, state))


def display_state(values, now=None):
    """The state to show: certified rows become "expiring" or "expired" as their expiry nears."""
    return competency.display_state(values["state"], values["expires_at"], now or timezone.now())


def row(values, now=None, reviewer=True):
    """
    What the learner list shows for one row (from ``Roster`` slices or ``values_of``); the next step
    is worded for the coaches and staff who read lists, or (``reviewer=False``) for the learner.
    """
    state, language = display_state(values, now), get_language()
    return {
        "learner": values["learner"],
        "state": state,
        "state_label": _state_label(language, state),
        "qualifying": values["qualifying_count"],
        "required": values["required_count"],
        "last_practice_date": values["last_practice_date"],
        "last_percent": values["last_percent"],
        "next_step": _next_step(language, values["reasons"], reviewer),
        "expires_at": values["expires_at"],
        "enrolled": values["enrolled"],
        "due_on": values.get("due_date"),
        "overdue": bool(values.get("overdue")),
        "coaches": values.get("coaches", ()),
    }
