"""The append-only, hash-chained audit log (ids only, no free text)."""
from django.utils import timezone

from .models import AuditEvent

GENESIS = "0" * 64


def record(action, obj, actor=None, subject_user_id=None, course_key=None):
    """
    Append an event chained to the previous one; call inside the writing transaction.
    ``obj`` None records a course-wide action (e.g. an export).
    """
    last = AuditEvent.objects.select_for_update().order_by("-id").only("hash").first()
    event = AuditEvent(
        actor_id=getattr(actor, "pk", actor),
        subject_user_id=subject_user_id,
        course_key=course_key or "",
        action=action,
        object_type=type(obj).__name__ if obj is not None else "Course",
        object_id=str(obj.pk if obj is not None else course_key)[:64],
        created_at=timezone.now(),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


def first_broken_link():
    """The first event whose hash or link does not match, or None when the chain is whole."""
    previous = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator():
        if event.prev_hash != previous or event.compute_hash() != event.hash:
            return event
        previous = event.hash
    return None
