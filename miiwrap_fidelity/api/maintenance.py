"""Operators' work: importing instruments, retention purges and user retirement."""
import os

from .. import instruments, retirement

#: The MiiWrap-aligned sample rubric shipped with the package.
SAMPLE_INSTRUMENT = os.path.join(os.path.dirname(instruments.__file__), "data", "miiwrap_sample_instrument.yaml")
InstrumentInvalid = instruments.InstrumentInvalid


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


def purge_free_text(before, apply=False):
    """Blank observation free text of practice before ``before`` (a date); dry run unless ``apply``."""
    return retirement.purge_free_text(before, apply=apply)


def retire_user(user_id):
    """Remove a retiring user's free text and coaching links (evidence scores stay, anonymous)."""
    retirement.scrub_user(user_id)
