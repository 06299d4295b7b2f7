"""
The learner list of a course: filtering, searching, sorting and counting status rows.

This is the page coaches open most. Through the ORM, building and compiling its statements cost
several times the database's own work (docs/benchmarks.md), so its few statement shapes are written
here from fixed fragments and rows are read as plain values: a page is one summary statement (the
count, plus what the page header shows) and one statement for the rows, whatever the page size or a
learner's history. Every figure shown is on the status row. Internal to ``api``.
"""
import functools
import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from .errors import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import competency, reason_sentences
from .models import Certification, CoachAssignment, CompetencyPolicy, LearnerStatus
from .raw_values import aware_datetime, date_value, datetime_param, quote
from .validation import as_id

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
#: The coach filter's value for learners nobody coaches yet (enrolled, waiting for an assignment).
NO_COACH = "none"

#: Sort keys and their ORDER BY (the unique username breaks ties, so pages never overlap).
ORDERINGS = {
    "username": "u.username",
    "-username": "u.username DESC",
    "state": "s.state, u.username",
    "-state": "s.state DESC, u.username",
    "qualifying": "s.qualifying_count, u.username",
    "-qualifying": "s.qualifying_count DESC, u.username",
    "last_observation": "s.last_practice_date, u.username",
    "-last_observation": "s.last_practice_date DESC, u.username",
}

ROW_COLUMNS = ("s.learner_id", "u.username", "s.state", "s.qualifying_count", "s.required_count",
               "s.last_practice_date", "s.last_percent", "s.reasons", "c.expires_at", "s.enrolled")
LIKE_ESCAPE = "!"


@functools.lru_cache(maxsize=4)
def _tables(vendor):  # pylint: disable=unused-argument  (the cache key: quoting differs per database)
    """Quoted table names, and the joins of the status row to its learner and certification."""
    names = {"status": LearnerStatus, "user": get_user_model(), "certification": Certification,
             "assignment": CoachAssignment, "policy": CompetencyPolicy}
    tables = {key: quote(model._meta.db_table) for key, model in names.items()}
    tables["join_user"] = f"JOIN {tables['user']} u ON u.id = s.learner_id"
    tables["join_certification"] = f"LEFT JOIN {tables['certification']} c ON c.id = s.certification_id"
    return tables


def _state_condition(state, now):
    """
    SQL (on status ``s`` and certification ``c``) and parameters selecting one ``STATE_FILTERS``
    value: ``competency.STATE_FILTERS``' rule for it, written in SQL.
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
            conditions.append("(c.expires_at IS NULL OR c.expires_at > %s)")
            params.append(datetime_param(now + timedelta(days=after)))
        if until is not None:
            conditions.append("c.expires_at <= %s")
            params.append(datetime_param(now + timedelta(days=until)))
        alternatives.append(f"({' AND '.join(conditions)})")
    return f"({' OR '.join(alternatives)})", params


def _like_pattern(text):
    """A case-insensitive "contains" pattern, with the wildcard characters of ``text`` escaped."""
    for character in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(character, LIKE_ESCAPE + character)
    return f"%{text.lower()}%"


@dataclass(frozen=True)
class LearnerRef:
    """The learner of a row: what the list shows and links to, without loading the user."""
    pk: int
    username: str


class Roster:
    """
    A course's status rows, filtered: ``coach_id`` (learners of that coach; ``NO_COACH``: of none),
    ``state`` (a key of ``STATE_FILTERS``), ``search`` (part of a username), sorted by an
    ``ORDERINGS`` key.

    Behaves as Django's and DRF's paginators expect: ``count()`` and slices (lists of row values).
    ``summary`` (one statement, run once) holds the count and, on request, the course's expiring
    certifications (``with_expiring``), whether it has an enabled policy and whether ``coach_id``
    coaches anyone in it (``check_coach``).
    """

    def __init__(self, course_key, coach_id=None, state=None, search=None, ordering=None, now=None,
                 with_expiring=False, check_coach=False):
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
        self.ordering = ORDERINGS[ordering or "username"]
        self.with_expiring, self.check_coach = with_expiring, check_coach
        self.tables = _tables(connection.vendor)
        self._where, self._params, self._needs = self._conditions(state, (search or "").strip())

    def _conditions(self, state, search):
        where, params, needs = ["s.course_key = %s"], [self.course_id], set()
        if self.coach_id is not None:
            where.append(f"s.learner_id IN (SELECT a.learner_id FROM {self.tables['assignment']} a "
                         "WHERE a.course_key = %s AND a.coach_id = %s)")
            params += [self.course_id, self.coach_id]
        if self.without_coach:
            where.append(f"NOT EXISTS (SELECT 1 FROM {self.tables['assignment']} a "
                         "WHERE a.course_key = s.course_key AND a.learner_id = s.learner_id)")
        if state:
            condition, condition_params = _state_condition(state, self.now)
            where.append(condition)
            params += condition_params
            needs.add("join_certification")
        if search:
            where.append(f"LOWER(u.username) LIKE %s ESCAPE '{LIKE_ESCAPE}'")
            params.append(_like_pattern(search))
            needs.add("join_user")
        return " AND ".join(where), params, needs

    @functools.cached_property
    def summary(self):
        """``{"count", "has_policy"[, "expiring_30", "expiring_60", "expiring"][, "coaches_here"]}``."""
        joins = " ".join(self.tables[name] for name in ("join_user", "join_certification") if name in self._needs)
        columns, params = ["m.n"], []
        if self.with_expiring:
            columns += [f"e.{name}" for name in EXPIRING_COLUMNS]
        columns.append(f"EXISTS (SELECT 1 FROM {self.tables['policy']} p WHERE p.course_key = %s AND p.enabled = %s)")
        params += [self.course_id, True]
        if self.check_coach:
            columns.append(f"EXISTS (SELECT 1 FROM {self.tables['assignment']} a "
                           "WHERE a.course_key = %s AND a.coach_id = %s)")
            params += [self.course_id, self.coach_id]
        sql = (f"SELECT {', '.join(columns)} FROM (SELECT COUNT(*) AS n FROM {self.tables['status']} s {joins} "
               f"WHERE {self._where}) m")
        params += self._params
        if self.with_expiring:
            expiring_sql, expiring_params = _expiring_sums(self.tables, self.now)
            sql += f" CROSS JOIN ({expiring_sql} WHERE s.course_key = %s) e"
            params += expiring_params + [self.course_id]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            values = list(cursor.fetchone())
        figures = {"count": values.pop(0)}
        if self.with_expiring:
            figures.update({name: int(values.pop(0) or 0) for name in EXPIRING_COLUMNS})
        figures["has_policy"] = bool(values.pop(0))
        if self.check_coach:
            figures["coaches_here"] = bool(values.pop(0))
        return figures

    def count(self):
        return self.summary["count"]

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("Roster supports plain slices only.")
        start = max(index.start or 0, 0)
        sql = (f"SELECT {', '.join(ROW_COLUMNS)} FROM {self.tables['status']} s {self.tables['join_user']} "
               f"{self.tables['join_certification']} WHERE {self._where} ORDER BY {self.ordering}")
        params = list(self._params)
        if index.stop is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [max(index.stop - start, 0), start]
        elif start:
            raise TypeError("Roster slices need an end.")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [_row_values(row) for row in cursor.fetchall()]


def _expiring_sums(tables, now):
    """How many of the rows' certifications expire within 30, 60 and 90 days (columns of one SELECT)."""
    sums, params = [], []
    for name in EXPIRING_COLUMNS:
        condition, condition_params = _state_condition(name, now)
        sums.append(f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS {name}")
        params += condition_params
    return (f"SELECT {', '.join(sums)} FROM {tables['status']} s {tables['join_certification']}", params)


def expiring_counts(course_key, now=None):
    """How many certifications in the course expire within 30, 60 and 90 days (one statement)."""
    tables = _tables(connection.vendor)
    sql, params = _expiring_sums(tables, now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE s.course_key = %s", params + [str(course_key)])
        values = cursor.fetchone()
    return dict(zip(EXPIRING_COLUMNS, (int(value or 0) for value in values)))


def _row_values(row):
    learner_id, username, state, qualifying, required, practice_date, percent, reasons, expires_at, enrolled = row
    return {"learner": LearnerRef(learner_id, username), "state": state, "qualifying_count": qualifying,
            "required_count": required, "last_practice_date": date_value(practice_date), "last_percent": percent,
            "reasons": _reasons_text(reasons), "expires_at": aware_datetime(expires_at), "enrolled": bool(enrolled)}


def values_of(status):
    """The row values of a ``data.LearnerStatusData``."""
    certification = status.certification
    return {"learner": status.learner, "state": status.state, "qualifying_count": status.qualifying_count,
            "required_count": status.required_count, "last_practice_date": status.last_practice_date,
            "last_percent": status.last_percent, "reasons": _reasons_text(status.reasons),
            "expires_at": certification.expires_at if certification else None, "enrolled": status.enrolled}


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
    }
