"""
The append-only, hash-chained audit log (ids only, no free text).

Appends are serialised on one head row (``AuditChainHead``, locked FOR UPDATE): two transactions
can never chain to the same predecessor, whatever the isolation level. The head also keeps the
last id, hash and count, so that deleting the newest events is detected. With the
``MIIWRAP_FIDELITY_AUDIT_HMAC_KEY`` setting every hash is an HMAC, so a chain rewritten with
recomputed hashes does not verify without the key. Lock order (ADR 0006): the audit head is the
last lock a transaction takes.
"""
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..rules.errors import MiiwrapError
from .models import AuditChainHead, AuditEvent
from .row_locks import locked_or_created

GENESIS = "0" * 64
#: Events read per query while verifying (memory stays flat whatever the chain's length).
PAGE = 2000
#: Breaks listed in a report (all are counted).
MAX_LISTED_BREAKS = 1000


def hmac_key():
    key = getattr(settings, "MIIWRAP_FIDELITY_AUDIT_HMAC_KEY", "") or ""
    return key.encode() if isinstance(key, str) else key


def _locked_head():
    # Missing only before the first event ever (or after a wiped table).
    return locked_or_created(AuditChainHead, defaults={"last_hash": GENESIS}, pk=AuditChainHead.ONE)


def record(action, obj, actor=None, subject_user_id=None, course_key=None):
    """
    Append an event chained to the previous one; call inside the writing transaction, after its
    other locks (the head is held until that transaction ends).
    ``obj`` None records a course-wide action (e.g. an export), or a site-wide one without ``course_key``.
    """
    return record_all([Entry(action, obj, actor, subject_user_id, course_key)])[0]


@dataclass(frozen=True)
class Entry:
    """One event to append (``record``'s arguments)."""

    action: str
    obj: object
    actor: object = None
    subject_user_id: int = None
    course_key: object = None


def record_all(entries):
    """
    Append events chained one after the other, in order, with one lock of the head, one insert and
    one update of the head, whatever their number (a write that leaves several events). Returns the
    events; where the database does not return the ids of a bulk insert (MySQL), only the last one
    has its id. Nothing to append: nothing is locked or written.
    """
    if not entries:
        return []
    with transaction.atomic():
        head = _locked_head()
        previous, now, key, events = head.last_hash if head.count else GENESIS, timezone.now(), hmac_key(), []
        for entry in entries:
            event = AuditEvent(
                actor_id=getattr(entry.actor, "pk", entry.actor),
                subject_user_id=entry.subject_user_id,
                course_key=entry.course_key or "",
                action=entry.action,
                object_type=type(entry.obj).__name__ if entry.obj is not None else "Course",
                object_id=str(entry.obj.pk if entry.obj is not None else entry.course_key or "")[:64],
                created_at=now,
                prev_hash=previous,
            )
            event.hash = previous = event.compute_hash(key)
            events.append(event)
        if len(events) == 1:
            events[0].save()
        else:
            AuditEvent.objects.bulk_create(events)
            if events[-1].pk is None:  # a database that does not return the ids of a bulk insert
                events[-1].pk = AuditEvent.objects.filter(hash=events[-1].hash).values_list("pk", flat=True).last()
        AuditChainHead.objects.filter(pk=head.pk).update(last_id=events[-1].pk, last_hash=events[-1].hash,
                                                         count=head.count + len(events))
    return events


@dataclass(frozen=True)
class Break:
    """Where the chain does not hold: the event id (``None``: the head) and what is wrong."""

    event_id: int
    kind: str  # "hash" | "link" | "after_head" | "tail" | "count"
    detail: str


@dataclass
class Report:
    """What ``verify`` found: the events read, and the breaks (all counted, the first 1,000 listed)."""

    events: int = 0
    break_count: int = 0
    breaks: list = field(default_factory=list)

    @property
    def intact(self):
        return self.break_count == 0

    def add(self, event_id, kind, detail):
        self.break_count += 1
        if len(self.breaks) < MAX_LISTED_BREAKS:
            self.breaks.append(Break(event_id, kind, detail))


def verify(page=PAGE):
    """
    Walk the whole chain in id order, ``page`` events per query, and report every break:
    an event whose hash does not match its content (changed, or rewritten without the key), whose
    link does not match the previous event (an event removed or inserted before it), an event the
    head does not know (appended around the log), and a head that does not match the chain's end
    (the newest events removed) or its length.

    A live site appends while this walks (a million events take a minute). An append writes its event
    and the head in one transaction, so the head is read around each page: an event of the page that
    the head read *after* it does not know was written around the log (``after_head``), and the end
    and the length are checked against the head read *before* the last page, whose events that page
    saw in full. Appends during the walk are walked and checked like the rest; they are never breaks.
    """
    key, report = hmac_key(), Report()
    previous_hash, last_id, known = GENESIS, 0, 0
    while True:
        before = _head()
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:page])
        after = _head()
        for event in rows:
            report.events += 1
            if event.compute_hash(key) != event.hash:
                report.add(event.pk, "hash", "its hash does not match its content")
            if event.prev_hash != previous_hash:
                report.add(event.pk, "link", f"it does not link to the event before it ({last_id or 'none'}): an "
                                             f"event was removed or inserted between them")
            if after.count and event.pk > after.last_id:
                report.add(event.pk, "after_head", "it was added after the chain's recorded end")
            else:
                known += 1
            previous_hash, last_id = event.hash, event.pk
        if len(rows) < page:
            # The last page's appends made while it was read are not in ``before``, checked below.
            known -= sum(1 for event in rows if before.last_id < event.pk <= after.last_id)
            break
    if before.count:
        last = AuditEvent.objects.filter(pk=before.last_id).values_list("hash", flat=True).first()
        if last is None:
            report.add(before.last_id, "tail", "the chain's last recorded event is missing (the newest events were "
                                               "removed)")
        elif last != before.last_hash:
            report.add(before.last_id, "tail", "it is not the last event the head recorded")
    if known != before.count:
        report.add(None, "count", f"the chain has {known} events; the head recorded {before.count}")
    return report


@dataclass(frozen=True)
class _NoHead:
    """The head of a chain that never had an event."""
    count: int = 0
    last_id: int = 0
    last_hash: str = GENESIS


def _head():
    return AuditChainHead.objects.filter(pk=AuditChainHead.ONE).first() or _NoHead()


class SealRefused(MiiwrapError):
    """The chain does not verify, so sealing it would launder the tampering."""


def seal(page=PAGE):
    """
    Re-hash the whole chain with the HMAC key (once, right after the key is set on a site that
    already has events): each event must still verify as written (plain or keyed) and link to its
    predecessor, otherwise nothing changes and ``SealRefused`` names the event. Appends wait
    meanwhile (the head is locked). Returns the number of events sealed.
    """
    key = hmac_key()
    if not key:
        raise SealRefused("Set MIIWRAP_FIDELITY_AUDIT_HMAC_KEY first.")
    with transaction.atomic():
        head = _locked_head()
        old_previous = new_previous = GENESIS
        count, last_id = 0, 0
        while True:
            rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:page])
            for event in rows:
                if event.prev_hash != old_previous or event.hash not in (event.compute_hash(), event.compute_hash(key)):
                    raise SealRefused(f"Event {event.pk} does not verify; run verify_audit_chain.")
                old_previous, event.prev_hash = event.hash, new_previous
                event.hash = new_previous = event.compute_hash(key)
                AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
                count, last_id = count + 1, event.pk
            if len(rows) < page:
                break
        if count != head.count or (count and (last_id != head.last_id or old_previous != head.last_hash)):
            raise SealRefused("The chain's end does not match its head; run verify_audit_chain.")
        AuditChainHead.objects.filter(pk=head.pk).update(last_hash=new_previous if count else GENESIS)
    return count

