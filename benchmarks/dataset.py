"""
The benchmarks' course, shaped like a real one (the same on SQLite and MariaDB, the same for the
same size: a fixed random seed):

- observations per learner are skewed: a fifth of the learners have none yet, most have a few, a
  long tail has dozens, and one learner in a thousand has 500 (a long-running recertification);
- every observation rates the sample instrument's 21 indicators (about one not applicable), from a
  learner's own skill, so scores and misses vary, and drift alerts come out of the first run;
- about 100 learners per coach; a learner's own coach observes most sessions, the others some;
- one primary observation in twenty is co-rated by a second coach (one in five of those a staff
  reference rating), with its own ratings;
- 15 % of the learners certified (a coach approval and a certification), 1 % revoked (approval,
  revocation and a revoked certification);
- with ``multi_set`` (``MIIWRAP_BENCH_RULES=multi-set``): policy rules v2 (ADR 0013), two
  requirement sets (home visits with a percent, essentials and summary-score condition; team
  meetings with two summary-score conditions), and every observation carries summary scores; about
  a third of the sessions are team meetings.

Seeding goes around the ORM (100,000 learners are about 14 million rating rows): rows are tuples
written in large batches, on SQLite with the cursor's ``executemany`` and on MySQL/MariaDB with
``LOAD DATA LOCAL INFILE`` from a temporary tab-separated file (three times the rows per second of
mysqlclient's multi-row INSERTs, which it falls back to when the server refuses local files). The
ids of observations and ratings are assigned here (after the table's largest) rather than read
back, and every column the seeder does not set gets its field's default, prepared as Django would
(``get_db_prep_save``: JSON as ``json.dumps`` text, dates and times as the backend's text).
``bulk_loading`` sets a throwaway database up for it (SQLite: one transaction, no fsync, no
foreign-key checks; MySQL/MariaDB: no unique or foreign-key checks in the session, local files
allowed to the client) and restores the connection's settings after, so the figures measured after
seeding run on the usual settings.
"""
import json
import os
import random
import tempfile
from contextlib import contextmanager, nullcontext
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from miiwrap_fidelity.records.models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    Indicator,
    IndicatorRating,
    Observation,
    SignOff,
)
from miiwrap_fidelity.rules import competency

#: Learners seeded per step (per transaction on MySQL/MariaDB; SQLite seeds in one transaction).
CHUNK = 500
#: Rows per ``executemany`` call.
BATCH = 50_000
#: Longest multi-row INSERT mysqlclient builds out of an ``executemany`` (its default is 64 KiB;
#: the server's max_allowed_packet is 16 MiB).
MYSQL_STATEMENT = 2 * 1024 * 1024
HISTORY_DAYS = 400
LEVEL_KEYS = ("met", "partly", "absent", "na")
#: Shares of the learners observed at least 3 times who are certified / revoked (15 % / 1 % of all).
CERTIFIED, REVOKED = 0.24, 0.016


#: Scales the observations per learner (``MIIWRAP_BENCH_HISTORY_SCALE``, default 1: about 6.5 a
#: learner); 1.6 makes about 10, 1 million observations at 100,000 learners (issue 30's size).
HISTORY_SCALE = float(os.environ.get("MIIWRAP_BENCH_HISTORY_SCALE", "1"))


def observations_for(rng, index):
    """How many observations the ``index``-th learner has (the skewed distribution above)."""
    if index % 1000 == 0:
        return 500
    if index % 5 == 4:
        return 0
    return min(500, int(2.5 * HISTORY_SCALE * rng.paretovariate(1.4)))


def multi_set_rules(version, min_observations=2):
    """The two requirement sets of the ``multi_set`` course (``min_observations`` home visits)."""
    return [
        {"instrument_version": version.pk, "setting": "home_visit", "min_observations": min_observations,
         "window_days": 270, "min_distinct_observers": 1,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"},
                        {"measure": "summary", "op": ">=", "value": 3.0, "key": "technical_global"}]},
        {"instrument_version": version.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 270, "min_distinct_observers": 1,
         "conditions": [{"measure": "summary", "op": ">=", "value": 3.5, "key": "relational_global"},
                        {"measure": "summary", "op": "<=", "value": 60, "key": "closed_question_share"}]},
    ]


@contextmanager
def bulk_loading():
    """
    The seeding connection set up for bulk inserts into a throwaway database, and set back after.

    SQLite: no fsync (``synchronous=OFF``), the rollback journal in memory, a 256 MiB page cache,
    no foreign-key checks (the seeder writes consistent rows) and everything in one transaction.
    MySQL/MariaDB: a connection that may send local files (``LOAD DATA LOCAL INFILE``, if the
    server's ``local_infile`` allows it), no unique or foreign-key checks in the session (InnoDB
    buffers the secondary index writes); the seeder commits every ``CHUNK`` learners.
    """
    global _LOAD_DATA  # pylint: disable=global-statement
    if connection.vendor == "sqlite":
        pragmas = {"synchronous": "OFF", "journal_mode": "MEMORY", "cache_size": "-262144", "foreign_keys": "OFF"}
        with connection.cursor() as cursor:
            saved = {}
            for name, value in pragmas.items():
                cursor.execute(f"PRAGMA {name}")
                saved[name] = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA {name} = {value}")
        try:
            with transaction.atomic():
                yield
        finally:
            with connection.cursor() as cursor:
                for name, value in saved.items():
                    cursor.execute(f"PRAGMA {name} = {value}")
    elif connection.vendor == "mysql":
        options = connection.settings_dict["OPTIONS"]
        connection.close()  # the client's permission to send files is set when it connects
        connection.settings_dict["OPTIONS"] = {**options, "local_infile": True}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@GLOBAL.local_infile")
                _LOAD_DATA = bool(cursor.fetchone()[0])
                cursor.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
            yield
        finally:
            _LOAD_DATA = False
            connection.close()  # a new session: the usual checks, no local files
            connection.settings_dict["OPTIONS"] = options
    else:
        yield


#: Whether ``Rows`` writes through ``LOAD DATA LOCAL INFILE`` (MySQL/MariaDB in ``bulk_loading``).
_LOAD_DATA = False
#: LOAD DATA's default escapes (FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n').
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\0": "\\0"})


def _field(value):
    """A value as a field of LOAD DATA's default text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "1" if value else "0"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def _transaction():
    """A transaction of its own, unless one is open (SQLite's ``bulk_loading``: no savepoints)."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


class Rows:
    """
    Raw multi-row inserts into one model's table: ``columns`` given per row (values ready for the
    database), ``fixed`` the same in every row, every other column its field's default (``auto_now``
    and ``auto_now_add`` columns: ``now``), all prepared as the ORM prepares them. Without the
    primary key in ``columns``, rows are numbered on from the table's largest id as they are written
    (not by the database: LOAD DATA leaves gaps in auto-increment ids, which would differ from SQLite).
    """

    def __init__(self, model, columns, fixed=None, now=None):
        meta, fixed = model._meta, dict(fixed or {})
        given = [meta.get_field(name) for name in columns]
        self.model, self.next = model, None  # the next id, if numbered here
        if meta.pk not in given and meta.pk.name not in fixed:
            given.insert(0, meta.pk)
            self.numbered = True
        else:
            self.numbered = False
        constants, values = [], []
        for field in meta.concrete_fields:
            if field in given:
                continue
            if field.name in fixed:
                value = fixed[field.name]
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now or timezone.now()
            else:
                value = field.get_default()
            constants.append(field)
            values.append(field.get_db_prep_save(value, connection))
        quote = connection.ops.quote_name
        self.table = quote(meta.db_table)
        self.names = ", ".join(quote(field.column) for field in given + constants)
        self.sql = (f"INSERT INTO {self.table} ({self.names}) "
                    f"VALUES ({', '.join(['%s'] * (len(given) + len(constants)))})")
        self.constants = tuple(values)
        self.pending = []  # the per-row values (the constants are added as they are written)
        self.written = 0

    def add(self, *values):
        self.pending.append(values)
        if len(self.pending) >= BATCH:
            self.flush()

    def extend(self, rows):
        """Rows of the per-row columns (tuples)."""
        self.pending.extend(rows)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        if self.numbered:
            if self.next is None:
                self.next = next_id(self.model)
            self.pending = [(number,) + row for number, row in enumerate(self.pending, self.next)]
            self.next += len(self.pending)
        if _LOAD_DATA:
            self._load()
        else:
            constants = self.constants
            with connection.cursor() as cursor:
                driver = getattr(cursor.cursor, "cursor", cursor.cursor)  # Django's MySQL wrapper holds MySQLdb's
                if hasattr(driver, "max_stmt_length"):
                    driver.max_stmt_length = MYSQL_STATEMENT
                for start in range(0, len(self.pending), BATCH):
                    cursor.executemany(self.sql, [row + constants for row in self.pending[start:start + BATCH]])
        self.written += len(self.pending)
        self.pending = []

    def _load(self):
        """The pending rows through a temporary file and ``LOAD DATA LOCAL INFILE`` (every row or an error)."""
        suffix = "".join("\t" + _field(value) for value in self.constants) + "\n"
        handle, path = tempfile.mkstemp(prefix="miiwrap-bench-", suffix=".tsv")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                for start in range(0, len(self.pending), BATCH):
                    out.write("".join("\t".join(map(_field, row)) + suffix
                                      for row in self.pending[start:start + BATCH]))
            with connection.cursor() as cursor:
                name = connection.connection.string_literal(path.encode()).decode()
                cursor.execute(f"LOAD DATA LOCAL INFILE {name} INTO TABLE {self.table} CHARACTER SET utf8mb4 "
                               f"({self.names})")
                loaded, warnings = cursor.rowcount, connection.connection.warning_count()
                if loaded != len(self.pending) or warnings:
                    cursor.execute("SHOW WARNINGS LIMIT 5")
                    raise RuntimeError(f"LOAD DATA into {self.table}: {loaded} of {len(self.pending)} rows, "
                                       f"{warnings} warnings: {cursor.fetchall()}")
        finally:
            os.unlink(path)


def next_id(model):
    """The first id after the table's largest (the seeder numbers the rows it writes)."""
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def seed_course(course_key, version, learners, coaches, staff, today, multi_set=False):
    """Seed the course; returns counts of what was written (for the benchmark's header)."""
    rng = random.Random(17)
    now = timezone.now()
    indicators = list(Indicator.objects.filter(version=version).order_by("position"))
    policy = CompetencyPolicy.objects.create(
        course_key=course_key, instrument_version=version,
        requirement_sets=multi_set_rules(version) if multi_set else [competency.simple_set(version.pk).as_dict()])
    assignments = Rows(CoachAssignment, ["coach", "learner"], {"course_key": course_key}, now)
    with _transaction():
        assignments.extend((coaches[i % len(coaches)].pk, learner.pk) for i, learner in enumerate(learners))
        assignments.flush()
    tables = _Tables(course_key, version, policy, indicators, now, today)
    counts = {"observations": 0, "co_ratings": 0, "ratings": 0, "certified": 0, "revoked": 0}
    coach_ids, staff_id = [coach.pk for coach in coaches], staff.pk
    learner_ids = [learner.pk for learner in learners]
    for start in range(0, len(learner_ids), CHUNK):
        with _transaction():
            _seed_chunk(rng, tables, learner_ids[start:start + CHUNK], start, coach_ids, staff_id, multi_set,
                        counts)
            tables.flush()
    return policy, counts


class _Tables:
    """The rows of the course being written, and what every row of a kind shares."""

    def __init__(self, course_key, version, policy, indicators, now, today):
        self.today, self.now = today, now
        self.indicator_ids = [indicator.pk for indicator in indicators]
        self.critical = [indicator.key if indicator.critical else None for indicator in indicators]
        self.dates = {}  # days ago -> the practice date as the database takes it
        self.missed = {(): json.dumps([])}  # critical keys missed -> their JSON text
        self.next_observation = next_id(Observation)
        self.next_rating = next_id(IndicatorRating)
        shared = {"course_key": course_key, "instrument_version": version.pk, "status": Observation.SUBMITTED,
                  "submitted_at": now}
        self.observations = Rows(Observation, [
            "id", "learner", "observer", "practice_date", "setting", "met_count", "applicable_count",
            "critical_missed", "summary_scores", "co_observation_of", "is_reference"], shared, now)
        self.ratings = Rows(IndicatorRating, ["id", "observation", "indicator", "level"], {}, now)
        self.signoffs = Rows(SignOff, ["learner", "actor", "action", "reason", "evidence_digest"],
                             {"course_key": course_key, "level": "coach", "evidence": {}}, now)
        self.certifications = Rows(Certification, ["learner", "issued_at", "expires_at", "revoked_at",
                                                   "evidence_digest"], {"course_key": course_key,
                                                                        "policy": policy.pk}, now)
        self.datetime = connection.ops.adapt_datetimefield_value

    def date(self, days):
        text = self.dates.get(days)
        if text is None:
            text = self.dates[days] = connection.ops.adapt_datefield_value(self.today - timedelta(days=days))
        return text

    def score(self, levels):
        """applicable_count, met_count and critical_missed (JSON) as the api computes them on submit."""
        applicable = met = 0
        missed = []
        for level, critical in zip(levels, self.critical):
            if level == "na":
                continue
            applicable += 1
            if level == "met":
                met += 1
            elif critical is not None:
                missed.append(critical)
        missed = tuple(missed)
        text = self.missed.get(missed)
        if text is None:
            text = self.missed[missed] = json.dumps(list(missed))
        return applicable, met, text

    def rate(self, observation_id, levels):
        """The observation's ratings, numbered here."""
        first = self.next_rating
        self.next_rating += len(levels)
        self.ratings.extend(zip(range(first, first + len(levels)), [observation_id] * len(levels),
                                self.indicator_ids, levels))

    def flush(self):
        for rows in (self.observations, self.ratings, self.signoffs, self.certifications):
            rows.flush()


def _seed_chunk(rng, tables, chunk, offset, coaches, staff, multi_set, counts):
    """
    ``CHUNK`` learners (ids), their coaches and staff as ids. The random draws come in the order the
    ORM seeder made them (per chunk: the sessions, their levels, the co-ratings, the sign-offs), so
    the data are the same as before, observation and rating ids included.
    """
    primaries, skills, observed = [], {}, {}  # primaries: (learner, observer, days ago, setting, summary)
    for position, learner in enumerate(chunk):
        index = offset + position
        own_coach, skills[learner] = coaches[index % len(coaches)], rng.uniform(0.7, 0.99)
        count = observed[learner] = observations_for(rng, index)
        days = sorted((rng.randrange(HISTORY_DAYS) for _ in range(count)), reverse=True)
        for day in days:
            observer = own_coach if rng.random() < 0.8 else coaches[rng.randrange(len(coaches))]
            setting, summary = "home_visit", "{}"
            if multi_set:  # multi-set rules: settings vary, every session has summary scores
                setting = "family_team_meeting" if rng.random() < 0.3 else "home_visit"
                summary = json.dumps({
                    "technical_global": round(rng.uniform(2, 5), 2), "relational_global": round(rng.uniform(2, 5), 2),
                    "closed_question_share": round(rng.uniform(20, 80), 1)})
            primaries.append((learner, observer, day, setting, summary))
    size = len(tables.indicator_ids)
    levels = [_levels(rng, size, skills[learner]) for learner, *_rest in primaries]  # in step with the list
    first = tables.next_observation
    for number, ((learner, observer, day, setting, summary), row) in enumerate(zip(primaries, levels), first):
        tables.observations.add(number, learner, observer, tables.date(day), setting, *_counts(tables, row),
                                summary, None, False)
    co_ratings = []  # (id of the observation co-rated, its row, the rater, reference, levels)
    for number, ((learner, observer, day, setting, summary), row) in enumerate(zip(primaries, levels), first):
        if rng.random() < 0.05:
            reference = rng.random() < 0.2
            rater = staff if reference else next(c for c in rng.sample(coaches, min(2, len(coaches)))
                                                 if c != observer or len(coaches) == 1)
            # Raters mostly agree: each level kept, one in ten re-drawn.
            co_levels = [level if rng.random() < 0.9 else rng.choice(LEVEL_KEYS[:3]) for level in row]
            co_ratings.append((number, learner, rater, day, setting, reference, co_levels))
    tables.next_observation = first + len(primaries) + len(co_ratings)
    for number, row in enumerate(levels, first):
        tables.rate(number, row)
    for number, (primary, learner, rater, day, setting, reference, row) in enumerate(co_ratings,
                                                                                     first + len(primaries)):
        tables.observations.add(number, learner, rater, tables.date(day), setting, *_counts(tables, row), "{}",
                                primary, reference)
        tables.rate(number, row)
    _certify(rng, tables, [learner for learner in chunk if observed[learner] >= 3], offset, coaches, staff, counts)
    counts["observations"] += len(primaries)
    counts["co_ratings"] += len(co_ratings)
    counts["ratings"] += size * (len(primaries) + len(co_ratings))


def _counts(tables, levels):
    """met_count, applicable_count and critical_missed, in the order of the observation's columns."""
    applicable, met, missed = tables.score(levels)
    return met, applicable, missed


def _levels(rng, size, skill):
    """One level key per indicator: met with the learner's skill, otherwise partly or absent; ~1 n/a."""
    na = rng.randrange(size * 2)  # about half the observations have one n/a indicator
    return ["na" if position == na else "met" if rng.random() < skill else rng.choice(("partly", "absent"))
            for position in range(size)]


def _certify(rng, tables, observed, offset, coaches, staff, counts):
    """
    Of the learners observed at least 3 times (about 62 % of all), about a quarter certified by a
    coach (15 % of all) and a few revoked by staff afterwards (1 % of all).
    """
    now, adapt = tables.now, tables.datetime
    for position, learner in enumerate(observed):
        draw = rng.random()
        if draw >= CERTIFIED + REVOKED:
            continue
        coach, issued = coaches[(offset + position) % len(coaches)], now - timedelta(days=rng.randrange(30, 300))
        digest = SignOff.digest({"learner": learner})
        tables.signoffs.add(learner, coach, "approve", "", digest)
        revoked = draw >= CERTIFIED
        tables.certifications.add(learner, adapt(issued), adapt(issued + timedelta(days=730)),
                                  adapt(issued + timedelta(days=20)) if revoked else None, digest)
        if revoked:
            tables.signoffs.add(learner, staff, "revoke", "Benchmark revocation.", digest)
        counts["revoked" if revoked else "certified"] += 1


def users(prefix, count):
    """``count`` users named ``prefix`` and a number, written raw, read back in order."""
    model = get_user_model()
    first = next_id(model)
    rows = Rows(model, [model.USERNAME_FIELD])
    with _transaction():
        rows.extend((f"{prefix}{i:06d}",) for i in range(count))
        rows.flush()
    return list(model.objects.filter(pk__gte=first, pk__lt=first + count).order_by("pk"))


def insert(model, columns, rows, fixed=None):
    """Rows (tuples of ``columns``) of any model, written raw (see ``Rows``)."""
    table = Rows(model, columns, fixed)
    with _transaction():
        table.extend(rows)
        table.flush()
    return table.written
