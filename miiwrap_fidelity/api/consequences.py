"""
What a learner's status change sets off (ADR 0019): the entry points register a handler per kind of
consequence, and the periodic task delivers what the after-commit hook could not (a broker outage).
"""
from .. import events, outbox
from ..models import Certification
from . import submission_keys


def register_consequence_handler(kind, handler):
    """``handler(consequence)`` delivers consequences of ``kind`` (``competency`` names the kinds); it
    raises when it could not, and the consequence stays due."""
    outbox.register(kind, handler)


def deliver_consequences(now=None):
    """
    Deliver every consequence that is due (the broker was down, a worker died after its claim) and
    purge the delivered ones, and the submission keys, past their keeping time. Returns how many
    were delivered.
    """
    delivered = outbox.deliver(now=now)
    outbox.purge_delivered(now=now)
    submission_keys.forget_old(now=now)
    return delivered


def pending_consequences():
    """How many consequences wait for delivery (for operators and the health check)."""
    return outbox.pending_count()


def send_expiry_event(certification_id):
    """The ``certification.expired`` tracking event of a certification (the outbox's kind ``certification_expired``)."""
    certification = Certification.objects.filter(pk=certification_id).first()
    if certification is not None:
        events.send_certification_expired(certification)
