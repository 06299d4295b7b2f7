"""
Streamed CSV exports for course staff: rows are written as they are read, one chunk at a time, so
memory stays flat whatever the size; people appear as user ids and usernames only, and every text
cell is guarded against spreadsheet formula injection. Observations and ratings are submitted
evidence only: drafts are their observer's work in progress, hidden everywhere.

Chunks are read by key ranges (``pk > last ORDER BY pk LIMIT n``), not with ``QuerySet.iterator``:
MySQL/MariaDB's driver loads a whole result set into memory before the first row is returned.
"""
import csv
import unicodedata

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import competency
from .models import Certification, IndicatorRating, LearnerStatus, Observation, SignOff

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
        lambda course: LearnerStatus.objects.filter(course_key=course).order_by("pk").values_list(
            "learner_id", "learner__username", "state", "qualifying_count", "required_count", "last_practice_date",
            "last_percent", "reasons", "certification__expires_at", "enrolled", "due_date", "overdue"),
    ),
    "observations": (
        ["observation_id", "learner_id", "learner_username", "observer_id", "observer_username", "practice_date",
         "setting", "status", "percent_met", "met_count", "applicable_count", "critical_missed", "co_rating_of",
         "reference", "submitted_at", "overall_note"],
        lambda course: Observation.objects.filter(course_key=course, status=Observation.SUBMITTED).order_by(
            "pk").values_list(
            "pk", "learner_id", "learner__username", "observer_id", "observer__username", "practice_date", "setting",
            "status", "met_count", "met_count", "applicable_count", "critical_missed", "co_observation_of_id",
            "is_reference", "submitted_at", "overall_note"),
    ),
    "ratings": (
        ["observation_id", "learner_id", "learner_username", "observer_id", "observer_username", "practice_date",
         "indicator", "domain", "level", "strength", "next_step"],
        lambda course: IndicatorRating.objects.filter(
            observation__course_key=course, observation__status=Observation.SUBMITTED).order_by("pk").values_list(
            "observation_id", "observation__learner_id", "observation__learner__username",
            "observation__observer_id", "observation__observer__username", "observation__practice_date",
            "indicator__key", "indicator__domain", "level", "strength", "next_step"),
    ),
    "signoffs": (
        ["signoff_id", "learner_id", "learner_username", "actor_id", "actor_username", "action", "level",
         "created_at", "reason"],
        lambda course: SignOff.objects.filter(course_key=course).order_by("pk").values_list(
            "pk", "learner_id", "learner__username", "actor_id", "actor__username", "action", "level",
            "created_at", "reason"),
    ),
    "certifications": (
        ["certification_id", "learner_id", "learner_username", "issued_at", "expires_at", "revoked_at",
         "certificate_requested_at"],
        lambda course: Certification.objects.filter(course_key=course).order_by("pk").values_list(
            "pk", "learner_id", "learner__username", "issued_at", "expires_at", "revoked_at",
            "certificate_requested_at"),
    ),
}


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value):
        return value


def _observation_row(row):
    row = list(row)
    met, applicable = row[8], row[10]
    row[8] = round(100.0 * met / applicable, 1) if applicable else ""
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


BLIND = {"observations": "", "ratings": "observation__"}


def rows(kind, course_key, viewer_id=None):
    """
    The export as CSV lines (a generator: one chunk of rows in memory at a time), as ``viewer_id``
    may see them (co-ratings stay blind to the other observer).
    """
    header, everything = EXPORTS[kind]

    def query(course):
        if kind in BLIND and viewer_id is not None:
            return everything(course).exclude(blind_for(viewer_id, BLIND[kind]))
        return everything(course)

    shape, now = ROW_SHAPERS.get(kind), timezone.now()
    # Every text cell quoted: a spreadsheet splitting on ";" (many locales) keeps it one cell.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield "\ufeff" + writer.writerow(header)
    for row in _chunked(query(course_key)):
        if shape is not None:
            row = shape(row, now)
        yield writer.writerow([safe(value) for value in row])


def _chunked(values_list):
    """The rows of a ``values_list`` ordered by pk, ``CHUNK`` per query, each chunk freed before the next."""
    keyed = values_list.values_list(*values_list._fields, "pk")  # pylint: disable=protected-access
    last = 0
    while True:
        chunk = list(keyed.filter(pk__gt=last)[:CHUNK])
        for row in chunk:
            yield row[:-1]
        if len(chunk) < CHUNK:
            return
        last, chunk = chunk[-1][-1], None  # let this chunk go before the next one is read
