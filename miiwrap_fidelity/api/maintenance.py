"""Operators' work: importing instruments, retention purges and user retirement."""
import os

from django.utils import timezone

from ..records import audit, retirement
from ..records import instrument_import as instruments
from ..records.models import LearnerStatus
from ..rules import competency
from ..seams.platform import get_platform
from .courses import note_unenrollment

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


def verify_audit_chain():
    """The audit chain checked from end to end in pages (``audit.Report``: every break with its id)."""
    return audit.verify()


def seal_audit_chain():
    """Re-hash the intact chain with the HMAC key (``AuditSealRefused`` when it does not verify)."""
    return audit.seal()


def audit_chain_sealed():
    return bool(audit.hmac_key())


def stray_status_learners(course_key):
    """Learners with a status row marked enrolled whom the platform does not list as enrolled."""
    enrolled = set(get_platform().enrolled_learner_ids(course_key))
    return sorted(set(LearnerStatus.objects.filter(course_key=course_key, enrolled=True).values_list(
        "learner_id", flat=True)) - enrolled)


def reconcile_enrollments(course_key):
    """Remove (nothing recorded) or mark as having left the stray rows; returns ``(removed, marked)``."""
    strays = stray_status_learners(course_key)
    removed = sum(1 for learner_id in strays if note_unenrollment(learner_id, course_key))
    return removed, len(strays) - removed


def import_instrument(text, dry_run=False):
    """
    Validate and import an instrument from JSON or YAML text (``InstrumentInvalid`` lists every
    problem by line and field). Returns ``(summary, created)``; ``summary`` is None on a dry run,
    else ``{"id", "name", "indicators"}`` of the version that holds the content.
    """
    version, created = instruments.load(text, dry_run=dry_run)
    if version is None or dry_run:
        return None, created
    return {"id": version.pk, "name": str(version), "indicators": version.indicators.count()}, created


def retention_cutoff(months, now=None):
    """The date before which observation free text is blanked when it is kept ``months`` months."""
    return competency.add_months(now or timezone.now(), -months).date()


def purge_free_text(before, apply=False):
    """Blank observation free text of practice before ``before`` (a date); dry run unless ``apply``."""
    return retirement.purge_free_text(before, apply=apply)


def retire_user(user_id):
    """Remove a retiring user's free text and coaching links (evidence scores stay, anonymous)."""
    retirement.scrub_user(user_id)


def platform_retirement_signals():
    """The platform's user retirement signals (``hooks/receivers.py`` connects ``retire_user`` to each); () outside the LMS."""
    return get_platform().retirement_signals()
