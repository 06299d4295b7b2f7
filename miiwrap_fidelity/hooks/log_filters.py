"""
Quieter operators' logs: a certificate our gate prevents is an expected answer, not an error.

openedx-filters logs every ``OpenEdxFilterException`` a step raises with ``log.exception`` (a full
traceback at ERROR); for our gate's refusals this filter turns that record into one INFO line.
Anything else (another plugin's step, a crash in ours) is left exactly as it was.
"""
import logging

OUR_STEPS = frozenset({"CompetencyCertificateGate", "RevokedCertificateRenderGuard"})
FILTERS_LOGGER = "openedx_filters.tooling"


class OurRefusalsOnOneLine(logging.Filter):
    def filter(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        step = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if step in OUR_STEPS and exc is not None and _is_filter_refusal(exc):
            record.msg, record.args = "%s: %s", (step, " ".join(str(exc).split()))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


def _is_filter_refusal(exc):
    try:
        from openedx_filters.exceptions import OpenEdxFilterException  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover - openedx-filters is a requirement
        return False
    return isinstance(exc, OpenEdxFilterException)


def install():
    """Attach the filter once (``AppConfig.ready`` may run more than once in tests)."""
    logger = logging.getLogger(FILTERS_LOGGER)
    if not any(isinstance(existing, OurRefusalsOnOneLine) for existing in logger.filters):
        logger.addFilter(OurRefusalsOnOneLine())
