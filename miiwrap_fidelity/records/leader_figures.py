"""
The leader view's figures, kept in Django's cache and recomputed in the background (ADR 0017).

Every figure of the leader view aggregates the whole course (3.4 s at 10,000 learners, 2.9 s of it
over 1.4 million ratings: issue 17). A page reads the figures the last computation kept, with the
time they were computed; figures older than ``FRESH_FOR``, or computed before a learner's status changed (a consequence of
the change, ``mark_changed``), are recomputed by a task that one reader claims (``claim_refresh``),
so that a busy page starts one computation, not one per reader.

The figures are aggregates with small cells already suppressed. The coaching cadence is per coach,
by user id: pseudonymous personal data, kept at most ``KEEP_SECONDS`` and dropped at a coach's
retirement (``forget``).
"""
import hashlib
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from . import aggregates

#: Figures older than this are recomputed when the page is read.
FRESH_FOR = timedelta(minutes=15)
#: A claimed computation that never finished (a worker killed, a lost task) frees the claim after this.
CLAIM_SECONDS = 15 * 60
#: Figures nobody reads leave the cache after a day (a page read then computes them again).
KEEP_SECONDS = 24 * 60 * 60
#: The shape of the kept figures: a release that changes it reads none of the older entries.
FORMAT = 3  # 3: the coaching loop's figures (issue 31)
#: The cadence rows (one per coach: 1,000 at state-wide scale) are kept in chunks of this many
#: beside the figures, so that a page reads the chunk it shows, not every coach's row (issue 30).
CADENCE_CHUNK = 50


def _key(course_key, version_id, what):
    # Course keys hold characters some cache backends refuse in keys (memcached: no spaces, 250 bytes).
    digest = hashlib.sha256(f"{course_key}|{version_id}".encode()).hexdigest()[:40]
    return f"miiwrap_fidelity.leaders.v{FORMAT}.{what}.{digest}"


def kept(course_key, version_id):
    """``{"figures", "computed_at"}`` as the last computation kept them, or None."""
    return cache.get(_key(course_key, version_id, "figures"))


def is_fresh(entry, now, changed_at=None):
    """Kept figures younger than ``FRESH_FOR`` and computed after the course's last status change."""
    return (entry is not None and now - entry["computed_at"] < FRESH_FOR
            and (changed_at is None or entry["computed_at"] >= changed_at))


def mark_changed(course_key):
    """A learner's status in the course changed (its transaction has committed): figures computed
    before now are stale. Marked with the time of marking, after the commit: a computation that
    started before the change committed is not taken as fresh."""
    cache.set(_key(course_key, "*", "changed"), timezone.now(), KEEP_SECONDS)


def changed_at(course_key):
    """When a learner's status in the course last changed (as far as the cache remembers), or None."""
    return cache.get(_key(course_key, "*", "changed"))


def claim_refresh(course_key, version_id):
    """True for the one reader who should start a computation (until it ends or ``CLAIM_SECONDS``)."""
    return cache.add(_key(course_key, version_id, "claim"), True, CLAIM_SECONDS)


def release_claim(course_key, version_id):
    cache.delete(_key(course_key, version_id, "claim"))


def compute(course_key, policy):
    """
    Compute the figures of the course under ``policy`` and keep them, unless newer ones were kept
    meanwhile. The returned entry holds the cadence rows; the kept one a ``cadence`` descriptor
    (``{"count", "token"}``) whose rows ``cadence_rows`` reads a chunk at a time.
    """
    version_id = policy.instrument_version_id
    entry = {"computed_at": timezone.now(), "figures": aggregates.leader_view(course_key, policy)}
    current = kept(course_key, version_id)
    if current is None or current["computed_at"] <= entry["computed_at"]:
        rows, token = entry["figures"]["cadence"], uuid.uuid4().hex  # the chunks of this computation only
        cache.set_many({_chunk_key(course_key, version_id, token, start // CADENCE_CHUNK):
                        rows[start:start + CADENCE_CHUNK] for start in range(0, len(rows), CADENCE_CHUNK)},
                       KEEP_SECONDS)
        kept_figures = {**entry["figures"], "cadence": {"count": len(rows), "token": token}}
        cache.set(_key(course_key, version_id, "figures"), {**entry, "figures": kept_figures}, KEEP_SECONDS)
    return entry


def _chunk_key(course_key, version_id, token, number):
    return _key(course_key, version_id, f"cadence.{token}.{number}")


def cadence_rows(course_key, version_id, cadence, start, stop):
    """
    The kept cadence rows ``start`` to ``stop`` of a kept entry's ``cadence`` descriptor, read from
    the chunks that hold them (a chunk the cache has dropped reads as no rows).
    """
    stop = min(stop, cadence["count"])
    if start >= stop:
        return []
    numbers = range(start // CADENCE_CHUNK, (stop - 1) // CADENCE_CHUNK + 1)
    keys = [_chunk_key(course_key, version_id, cadence["token"], number) for number in numbers]
    found = cache.get_many(keys)
    rows = [row for key in keys for row in found.get(key, [])]
    offset = numbers[0] * CADENCE_CHUNK
    return rows[start - offset:stop - offset]


def refresh(course_key, policy):
    """The claimed background computation; the claim is released when it ends, however it ends."""
    try:
        return compute(course_key, policy)
    finally:
        release_claim(course_key, policy.instrument_version_id)


def forget(courses):
    """Drop the kept figures of ``courses`` (``(course_key, version_id)`` pairs), their cadence rows with
    them (coaches by id): the next read computes them."""
    courses = list(courses)
    keys = [_key(course_key, version_id, "figures") for course_key, version_id in courses]
    for (course_key, version_id), entry in zip(courses, (cache.get(key) for key in keys)):
        cadence = entry["figures"]["cadence"] if entry else None
        if cadence:
            keys += [_chunk_key(course_key, version_id, cadence["token"], number)
                     for number in range((cadence["count"] + CADENCE_CHUNK - 1) // CADENCE_CHUNK)]
    cache.delete_many(keys)
