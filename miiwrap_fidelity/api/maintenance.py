"""Operators' work: importing instruments, retention purges and user retirement."""
import os
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from ..records import audit, retirement, search_names
from ..records import instrument_import as instruments
from ..records.models import LearnerStatus
from ..rules import competency
from ..seams.platform import get_platform
from .courses import note_unenrollment
from .inputs import CourseRef

#: The instrument files shipped with the package (``miiwrap_fidelity/data``).
SHIPPED_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
#: The MiiWrap-aligned sample rubric shipped with the package.
SAMPLE_INSTRUMENT = os.path.join(SHIPPED_DATA, "miiwrap_sample_instrument.yaml")
#: Every shipped sample (ADR 0012): the practice rubric, MI coding in the MITI 4.2.1 structure, team meetings.
SAMPLE_INSTRUMENTS = (
    SAMPLE_INSTRUMENT,
    os.path.join(SHIPPED_DATA, "mi_coding_sample_instrument.yaml"),
    os.path.join(SHIPPED_DATA, "team_meeting_sample_instrument.yaml"),
)
InstrumentInvalid = instruments.InstrumentInvalid
AuditSealRefused = audit.SealRefused


def verify_audit_chain() -> audit.Report:
    """
    Check the audit chain from end to end, a page of events at a time.

    Returns:
        The report: the events read and every break with its event id.
    """
    return audit.verify()


def seal_audit_chain() -> int:
    """
    Re-hash the intact chain with the HMAC key (``MIIWRAP_FIDELITY_AUDIT_HMAC_KEY``).

    Returns:
        How many events were re-hashed.

    Raises:
        AuditSealRefused: the chain does not verify, or no key is set.
    """
    return audit.seal()


def audit_chain_sealed() -> bool:
    """
    Returns:
        Whether the audit chain's hashes are HMACs (a key is set).
    """
    return bool(audit.hmac_key())


def stray_status_learners(course_key: CourseRef) -> list[int]:
    """
    Args:
        course_key: the course.

    Returns:
        The ids of learners with a status row marked enrolled whom the platform does not list as
        enrolled, sorted.
    """
    enrolled = set(get_platform().enrolled_learner_ids(course_key))
    return sorted(set(LearnerStatus.objects.filter(course_key=course_key, enrolled=True).values_list(
        "learner_id", flat=True)) - enrolled)


def reconcile_enrollments(course_key: CourseRef) -> tuple[int, int]:
    """
    Remove the stray status rows with nothing recorded, and mark the others as having left.

    Args:
        course_key: the course.

    Returns:
        ``(removed, marked)``.
    """
    strays = stray_status_learners(course_key)
    removed = sum(1 for learner_id in strays if note_unenrollment(learner_id, course_key))
    return removed, len(strays) - removed


def import_instrument(text: str, dry_run: bool = False) -> tuple[dict[str, Any] | None, bool]:
    """
    Validate and import an instrument from JSON or YAML text.

    Args:
        text: the instrument file's text.
        dry_run: validate only.

    Returns:
        ``(summary, created)``: ``summary`` is None on a dry run, else ``{"id", "name",
        "indicators"}`` of the version that holds the content; ``created`` says whether a new
        version was made (an unchanged file makes none).

    Raises:
        InstrumentInvalid: every problem, by line and field.
    """
    version, created = instruments.load(text, dry_run=dry_run)
    if version is None or dry_run:
        return None, created
    return {"id": version.pk, "name": str(version), "indicators": version.indicators.count()}, created


def retention_cutoff(months: int, now: datetime | None = None) -> date:
    """
    Args:
        months: how long observation free text is kept.
        now: the moment (default: the clock).

    Returns:
        The date before which observation free text is blanked.
    """
    return competency.add_months(now or timezone.now(), -months).date()


def purge_free_text(before: date, apply: bool = False) -> tuple[int, int]:
    """
    Blank the free text of observations of practice before ``before`` (scores and ratings stay).

    Args:
        before: the first practice date kept.
        apply: really blank it (default: count only).

    Returns:
        ``(observations, ratings)`` blanked, or that would be.
    """
    return retirement.purge_free_text(before, apply=apply)


def retire_user(user_id: int) -> None:
    """
    Remove a retiring user's free text and coaching links (evidence scores stay, anonymous).

    Args:
        user_id: the retiring user.
    """
    retirement.scrub_user(user_id)


def platform_retirement_signals() -> Sequence[Any]:
    """
    Returns:
        The platform's user retirement signals (``hooks/receivers.py`` connects ``retire_user`` to
        each); none outside the LMS.
    """
    return get_platform().retirement_signals()


def refresh_search_names() -> int:
    """
    Keep the learner list's search current: every status row's username and full name (the platform
    has no event for a changed profile name) folded again into its search keys. Run it daily
    (celery beat); migration 0024 fills the keys at upgrade.

    Returns:
        How many status rows had a key changed.
    """
    return search_names.refresh()
