"""
What a learner's status change sets off (ADR 0019): the entry points register a handler per kind of
consequence, and the periodic task delivers what the after-commit hook could not (a broker outage).
"""
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..records import outbox
from ..records.models import Certification
from ..seams import tracking_events as events
from . import submission_keys


def register_consequence_handler(kind: str, handler: Callable[[Any], None]) -> None:
    """
    Deliver consequences of ``kind`` with ``handler`` (one per kind; the entry points register them).

    Args:
        kind: a kind ``competency`` names (``ANNOUNCE``, ``MESSAGE``, ``INVALIDATION`` ...).
        handler: called with each ``Consequence`` row; raises when it could not deliver, and the
            consequence stays due.
    """
    outbox.register(kind, handler)


#: How long one periodic pass keeps delivering (it runs every minute: the next one takes the rest).
PASS_SECONDS = 45


def deliver_consequences(now: datetime | None = None) -> int:
    """
    Deliver every consequence that is due (the broker was down, a worker died after its claim, a
    course's re-evaluation changed many states), chunk after chunk for up to ``PASS_SECONDS``, and
    purge the delivered ones, and the submission keys, past their keeping time.

    Args:
        now: the moment of the pass (default: the clock).

    Returns:
        How many consequences were delivered.
    """
    started, delivered = time.monotonic(), 0
    while True:
        count = outbox.deliver(now=now)
        delivered += count
        if count == 0 or time.monotonic() - started > PASS_SECONDS:
            break
    outbox.purge_delivered(now=now)
    submission_keys.forget_old(now=now)
    return delivered


def pending_consequences() -> int:
    """
    Returns:
        How many consequences wait for delivery (for operators and the health check).
    """
    return outbox.pending_count()


def send_expiry_event(certification_id: int) -> None:
    """
    Send the ``certification.expired`` tracking event of a certification (the outbox's kind
    ``certification_expired``); nothing when it no longer exists.

    Args:
        certification_id: the certification.
    """
    certification = Certification.objects.filter(pk=certification_id).first()
    if certification is not None:
        events.send_certification_expired(certification)
