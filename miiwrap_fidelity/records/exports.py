"""
Streamed CSV exports for course staff: rows are written as they are read, one chunk at a time, so
memory stays flat whatever the size; people appear as user ids and usernames only, and every text
cell is guarded against spreadsheet formula injection. Observations and ratings are submitted
evidence only: drafts are their observer's work in progress, hidden everywhere.

Chunks are read by key ranges (``key > last ORDER BY key LIMIT n``), not with ``QuerySet.iterator``:
MySQL/MariaDB's driver loads a whole result set into memory before the first row is returned. Each
kind's key is the last column of an index whose other columns its filter fixes (``course_key``, and
the status for observations), so that every chunk is an index range read in order, never a sort of
the rows that remain (ADR 0011). Ratings have no course column: a chunk of the course's submitted
observations (by that index) is read first, then their ratings by the ``(observation, indicator)``
unique index.
"""
import csv
import unicodedata

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..rules import competency, programs
from .database_values import padded_ids
from .index_hints import force_index
from .models import Certification, Indicator, IndicatorRating, LearnerStatus, Observation, SignOff
from .program_completion import statuses as program_statuses

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000


def _first_visible(text):
    """The first character of ``text`` that is not blank or invisible (zero-width space, BOM...)."""
    for char in text:
        if not (char.isspace() or unicodedata.category(char) in ("Cf", "Cc", "Zs")):
            return char
    return ""


def _looks_like_formula(text):
    """Whether a spreadsheet may read ``text`` as a formula: it starts like one after invisible or blank
    characters, or after a ``;`` (the separator in many locales)."""
    return any(_first_visible(part) in FORMULA_STARTS for part in text.split(";") if part)


def safe(value):
    """A cell a spreadsheet will not execute: text that may read as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or _looks_like_formula(value)):
        return "'" + value
    return value


EXPORTS = {
    "learners": (
        ["learner_id", "learner_username", "status", "qualifying_observations", "required_observations",
         "last_practice_date", "last_percent_met", "next_requirement", "certification_expires_at", "enrolled",
         "due_date", "overdue"],
        lambda course: LearnerStatus.objects.filter(course_key=course).values_list(
            "learner_id", "learner_username", "state", "qualifying_count", "required_count", "last_practice_date",
            "last_percent", "reasons", "certified_until", "enrolled", "due_date", "overdue"),
    ),
    "observations": (
        ["observation_id", "learner_id", "learner_username", "observer_id", "observer_username", "practice_date",
         "setting", "status", "percent_met", "met_count", "applicable_count", "critical_missed", "co_rating_of",
         "reference", "submitted_at", "overall_note"],
        lambda course: Observation.objects.filter(course_key=course, status=Observation.SUBMITTED).values_list(
            "pk", "learner_id", "learner_id", "observer_id", "observer_id", "practice_date", "setting",
            "status", "met_count", "met_count", "applicable_count", "critical_missed", "co_observation_of_id",
            "is_reference", "submitted_at", "overall_note"),
    ),
    "ratings": (
        ["observation_id", "learner_id", "learner_username", "observer_id", "observer_username", "practice_date",
         "indicator", "domain", "level", "strength", "next_step"],
        # Ratings alone, no join (``_rating_rows`` adds the observation's and the indicator's columns):
        # on a large course MariaDB joined them from the indicator table through a temporary table.
        lambda observation_ids: IndicatorRating.objects.filter(observation_id__in=observation_ids).values_list(
            "observation_id", "indicator_id", "level", "strength", "next_step"),
    ),
    "signoffs": (
        ["signoff_id", "learner_id", "learner_username", "actor_id", "actor_username", "action", "level",
         "created_at", "reason"],
        lambda course: SignOff.objects.filter(course_key=course).values_list(
            "pk", "learner_id", "learner_id", "actor_id", "actor_id", "action", "level",
            "created_at", "reason"),
    ),
    "certifications": (
        ["certification_id", "learner_id", "learner_username", "issued_at", "expires_at", "revoked_at",
         "certificate_requested_at"],
        lambda course: Certification.objects.filter(course_key=course).values_list(
            "pk", "learner_id", "learner_id", "issued_at", "expires_at", "revoked_at",
            "certificate_requested_at"),
    ),
}


#: Per kind, the columns a chunk reads as a user id and the CSV shows as that user's username
#: (``_named``). Chunks read their own table only: with the users joined, MariaDB planned large
#: courses from the users table (a temporary table and a sort per chunk: seconds each).
USERNAME_COLUMNS = {"observations": (2, 4), "ratings": (2, 4), "signoffs": (2, 4), "certifications": (2,)}


def _named(chunk, columns):
    """The chunk's rows with each of ``columns`` (a user id) replaced by the username (one query)."""
    if not chunk or not columns:
        return chunk
    ids = {row[column] for row in chunk for column in columns}
    usernames = dict(get_user_model().objects.filter(pk__in=padded_ids(ids)).values_list("pk", "username"))
    return [tuple(usernames.get(value, "") if position in columns else value for position, value in enumerate(row))
            for row in chunk]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value):
        return value


def _observation_row(row):
    row = list(row)
    met, applicable = row[8], row[10]
    row[8] = competency.percent(met, applicable) if applicable else ""
    row[11] = " ".join(row[11] or [])
    return row


def _learner_row(row, now):
    """The status as lists show it (a certification past its expiry is "expired"); reasons as a code."""
    row = list(row)
    reasons, expires_at = row[7], row[8]
    if competency.display_state(row[2], expires_at, now) == competency.State.EXPIRED:
        row[2] = str(competency.State.EXPIRED)
    row[7] = reasons[0]["code"] if reasons else ""
    return row


ROW_SHAPERS = {"observations": lambda row, now: _observation_row(row), "learners": _learner_row}


def blind_for(viewer_id, prefix=""):
    """
    The co-rating rule of every other view, for an exporting co-rater: neither side of a co-rated
    session is shown to the other side's observer until both are submitted (``prefix``: the path
    to the observation, e.g. ``"observation__"``).
    """
    own_draft_co_rating = Observation.objects.filter(co_observation_of_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
                                                     observer_id=viewer_id, status=Observation.DRAFT)
    return Q(Exists(own_draft_co_rating)) | Q(**{f"{prefix}co_observation_of__observer_id": viewer_id,
                                                 f"{prefix}co_observation_of__status": Observation.DRAFT})


#: The keyset key of each kind read by course (``_chunked``): unique in the course, the last column
#: of the kind's index (``INDEXES``), which serves the chunk's filter and order.
KEYS = {"learners": "learner_id", "observations": "pk", "signoffs": "pk", "certifications": "pk"}
#: The index each kind's chunks are read by (ratings: their sessions', then the ratings' unique index).
INDEXES = {"learners": "mwf_status_learner", "observations": "mwf_obs_export", "ratings": "mwf_obs_export",
           "signoffs": "mwf_signoff_export", "certifications": "mwf_cert_export"}
#: Ratings per observation the ratings export plans for: a chunk of CHUNK ratings covers this many
#: fewer observations.
RATINGS_PER_OBSERVATION = 20


def _sessions_per_chunk():
    """Observations per chunk of the ratings export (read at call time: tests shrink ``CHUNK``)."""
    return max(1, CHUNK // RATINGS_PER_OBSERVATION)


def rows(kind, course_key, viewer_id=None):
    """
    The export as CSV lines (a generator: one chunk of rows in memory at a time), as ``viewer_id``
    may see them (co-ratings stay blind to the other observer).
    """
    header = EXPORTS[kind][0]
    shape, now = ROW_SHAPERS.get(kind), timezone.now()
    # Every text cell quoted: a spreadsheet splitting on ";" (many locales) keeps it one cell.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield "\ufeff" + writer.writerow(header)
    found = (_rating_rows(course_key, viewer_id) if kind == "ratings"
             else _chunked(_course_rows(kind, course_key, viewer_id), KEYS[kind], USERNAME_COLUMNS.get(kind, ())))
    for row in found:
        if shape is not None:
            row = shape(row, now)
        yield writer.writerow([safe(value) for value in row])


def _course_rows(kind, course_key, viewer_id):
    """Every row of a kind read by course, as ``viewer_id`` may see them (observations: not blind ones)."""
    query = force_index(EXPORTS[kind][1](course_key), INDEXES[kind])
    return query.exclude(blind_for(viewer_id)) if kind == "observations" and viewer_id is not None else query


def _sessions(course_key, viewer_id):
    """
    The course's submitted observations whose ratings ``viewer_id`` may see, with the columns a
    rating row repeats from its observation (the ratings export's chunks).
    """
    sessions = force_index(Observation.objects.filter(course_key=course_key, status=Observation.SUBMITTED),
                           INDEXES["ratings"])
    sessions = sessions.exclude(blind_for(viewer_id)) if viewer_id is not None else sessions
    return sessions.values_list("pk", "learner_id", "learner_id", "observer_id", "observer_id", "practice_date")


def _ratings_of(observation_ids):
    """The ratings of these observations, by observation, then indicator (the unique index's order)."""
    return EXPORTS["ratings"][1](observation_ids).order_by("observation_id", "indicator_id")


def _chunks(values_list, key="pk", size=None):
    """
    The rows of a ``values_list`` in ``key`` order, a list of ``size`` (``CHUNK``) per query:
    ``key > last ORDER BY key LIMIT size``; each chunk is dropped before the next is read.
    """
    size = size or CHUNK
    last = None
    while True:
        chunk = list(_chunk_query(values_list, key, last, size))
        yield [row[:-1] for row in chunk]
        if len(chunk) < size:
            return
        last, chunk = chunk[-1][-1], None


def _chunk_query(values_list, key, last, size):
    """The query of the chunk after ``last`` (None: the first), its rows ending with ``key``."""
    keyed = values_list.values_list(*values_list._fields, key).order_by(key)  # pylint: disable=protected-access
    return (keyed if last is None else keyed.filter(**{f"{key}__gt": last}))[:size]


def chunk_queries(kind, course_key, viewer_id=None, last=1):
    """
    The statements that read a chunk of an export after key ``last`` (querysets, to ``explain()``:
    the tests and the benchmark check that an index serves their order; ratings: the observations'
    chunk and their ratings'), built as ``rows`` builds them.
    """
    if kind == "ratings":
        return [_chunk_query(_sessions(course_key, viewer_id), "pk", last, _sessions_per_chunk()),
                _ratings_of(padded_ids([last]))]
    return [_chunk_query(_course_rows(kind, course_key, viewer_id), KEYS[kind], last, CHUNK)]


def _chunked(values_list, key="pk", username_columns=()):
    """The rows of ``_chunks``, one by one, users named (``_named``)."""
    for chunk in _chunks(values_list, key):
        yield from _named(chunk, username_columns)


def _rating_rows(course_key, viewer_id):
    """
    The ratings of the course's submitted observations (blind ones left out for ``viewer_id``): a
    chunk of observations by keyset, then their ratings, by observation and indicator (two index
    range reads, each of one table, per chunk of about ``CHUNK`` ratings); indicators' key and
    domain are read once, when first met.
    """
    indicators = {}
    for chunk in _chunks(_sessions(course_key, viewer_id), "pk", _sessions_per_chunk()):
        if not chunk:
            continue
        sessions = {row[0]: row for row in _named(chunk, USERNAME_COLUMNS["ratings"])}
        # padded: one statement text whatever the chunk's length (SQLite's statement cache)
        ratings = list(_ratings_of(padded_ids(sessions)))
        unseen = {rating[1] for rating in ratings} - indicators.keys()
        if unseen:
            indicators.update((pk, (key, domain)) for pk, key, domain in Indicator.objects.filter(
                pk__in=sorted(unseen)).values_list("pk", "key", "domain"))
        for observation_id, indicator_id, level, strength, next_step in ratings:
            yield (*sessions[observation_id], *indicators[indicator_id], level, strength, next_step)


#: The program progress export (ADR 0025): a row per learner of the course, with their state in each
#: course of the program the exporter may see (a column per course, headed by its id).
PROGRAM = "program"
PROGRAM_HEADER = ["learner_id", "learner_username", "program", "program_courses", "program_courses_shown",
                  "program_courses_certified", "program_completed"]


def program_rows(course_key, program, order, shown):
    """
    The program export as CSV lines (a generator): the course's status rows a chunk at a time by
    its status index (as the learners export), then the chunk's rows in the ``shown`` courses (one
    query per chunk). ``order``: the program's courses; ``shown``: those the exporter may see (the
    others are counted in ``program_courses``; ``program_completed`` is blank when it depends on one).
    """
    now = timezone.now()
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield "\ufeff" + writer.writerow([*PROGRAM_HEADER, *(f"state:{course}" for course in shown)])
    if not program or not shown:
        return
    learners = force_index(LearnerStatus.objects.filter(course_key=course_key).values_list(
        "learner_id", "learner_username"), INDEXES["learners"])
    for chunk in _chunks(learners, KEYS["learners"]):
        found = program_statuses([learner_id for learner_id, _username in chunk], shown)
        for learner_id, username in chunk:
            states = [programs.course_state(*found.get((learner_id, course), (None, None)), now) for course in shown]
            done, completed = programs.tally((course_done for _state, course_done in states), len(order) - len(shown))
            yield writer.writerow([safe(value) for value in (
                learner_id, username, program, len(order), len(shown), done, "" if completed is None else completed,
                *(state for state, _done in states))])
