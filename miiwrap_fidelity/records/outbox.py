"""
The consequences of a learner's status change, recorded with the change and delivered after it
(a transactional outbox, ADR 0019).

``record`` writes one row per consequence inside the change's transaction and asks for delivery
after it commits. ``deliver`` claims each due row with a short lease (one conditional UPDATE, so the
after-commit hook and the periodic pass never deliver the same row at once), runs the kind's
handler and marks it delivered; a handler that raises (the broker is down) leaves the row due again
later, with a growing delay. Nothing here ever raises into the request that made the change.

Handlers are registered by the entry points (``handlers.connect_internal_receivers``): this module
sits with the records and imports none of them.
"""
import logging
import uuid

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from ..rules import competency
from . import program_completion
from .models import Consequence

log = logging.getLogger(__name__)

#: Rows one periodic pass delivers at most (the next pass takes the rest). Lease, retry delays and
#: keeping time are competency's (CONSEQUENCE_LEASE, consequence_retry_delay, CONSEQUENCES_KEPT).
BATCH = 500

#: kind -> handler(row); a handler raises when its consequence could not be delivered.
HANDLERS = {}


def register(kind, handler):
    HANDLERS[kind] = handler


def record_changes(changes, cause, now=None, deliver_after_commit=True, programs=None):
    """
    Write the consequences (``competency.consequences``) of learners' status changes in the current
    transaction, and deliver them once it commits (``deliver_after_commit``; else the periodic pass
    does). ``changes``: ``(learner_id, course_key, state, previous_state, payload)`` tuples, all for
    ``cause``; ``programs``: their courses' programs when the caller read them (``program_completion.checks``).
    Returns the batch that names the rows.
    """
    now, batch, changes = now or timezone.now(), uuid.uuid4().hex, list(changes)
    rows = []
    for learner_id, course_key, state, previous_state, payload in changes:
        body = {"state": str(state), "cause": cause, **(payload or {})}
        rows.extend(Consequence(kind=kind, learner_id=learner_id, course_key=course_key, payload=body, batch=batch,
                                created_at=now, due_at=now)
                    for kind in competency.consequences(state, cause, previous_state))
    rows.extend(program_completion.checks(changes, now, batch, programs))  # a program course's change (ADR 0025)
    Consequence.objects.bulk_create(rows, batch_size=BATCH)
    if rows and deliver_after_commit:
        transaction.on_commit(lambda: deliver(batch=batch), robust=True)
    return batch


def record(kind, learner_id, course_key, payload, now=None):
    """
    One consequence of ``kind`` written in the current transaction and delivered once it commits
    (a consequence that is not a status change's: a program's completion, ADR 0025).
    """
    now, batch = now or timezone.now(), uuid.uuid4().hex
    Consequence.objects.create(kind=kind, learner_id=learner_id, course_key=course_key, payload=payload, batch=batch,
                               created_at=now, due_at=now)
    transaction.on_commit(lambda: deliver(batch=batch), robust=True)


def deliver(batch=None, now=None, limit=BATCH):
    """
    Deliver the due rows (only ``batch``'s when given), oldest first; returns how many were
    delivered. A row waits while an older one of the same kind, learner and course is undelivered,
    so a learner never reads "certified" after "revoked" because the first message was retried.
    """
    due = Consequence.objects.filter(delivered_at__isnull=True, due_at__lte=now or timezone.now())
    if batch is not None:
        due = due.filter(batch=batch)
    # Only the oldest undelivered row of each key is taken (in SQL): rows waiting behind a failing one
    # never fill the window and hold back other learners' rows; the next one of a key comes in the
    # next chunk, once this one is delivered.
    older = Consequence.objects.filter(kind=OuterRef("kind"), learner_id=OuterRef("learner_id"),
                                       course_key=OuterRef("course_key"), delivered_at__isnull=True,
                                       pk__lt=OuterRef("pk"))
    delivered = 0
    for row in due.exclude(Exists(older)).order_by("id")[:limit]:
        claim = _claim(row.pk)
        if claim is None:
            continue  # another deliverer has it
        mine = Consequence.objects.filter(pk=row.pk, claimed_until=claim)  # only while the claim is ours
        if _run(row):
            delivered += mine.update(delivered_at=timezone.now(), claimed_until=None)
        else:
            mine.update(attempts=F("attempts") + 1, claimed_until=None,
                        due_at=timezone.now() + competency.consequence_retry_delay(row.attempts + 1))
    return delivered


def pending_count():
    return Consequence.objects.filter(delivered_at__isnull=True).count()


def purge_delivered(now=None):
    """Remove delivered rows older than ``competency.CONSEQUENCES_KEPT``; returns how many."""
    now = now or timezone.now()
    deleted, _ = Consequence.objects.filter(delivered_at__lt=now - competency.CONSEQUENCES_KEPT).delete()
    return deleted


def _claim(row_id):
    """The lease's end when this caller claimed the row (one conditional UPDATE), else None."""
    now = timezone.now()  # now, not when the pass began: a slow pass must not hand out spent leases
    until = now + competency.CONSEQUENCE_LEASE
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = Consequence.objects.filter(free, pk=row_id, delivered_at__isnull=True).update(claimed_until=until)
    return until if claimed == 1 else None


def _run(row):
    handler = HANDLERS.get(row.kind)
    if handler is None:
        log.warning("No handler for consequence %s (%s): left for a process that has one", row.pk, row.kind)
        return False
    try:
        handler(row)
    except Exception:  # pylint: disable=broad-except  # the broker or a service is down: later
        log.exception("Could not deliver consequence %s (%s); it stays due", row.pk, row.kind)
        return False
    return True
