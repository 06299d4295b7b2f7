"""
One submission, one record (issue 24, ADR 0021): a write that creates evidence may carry the
client's key for it (the REST ``Idempotency-Key`` header; a page form's or block's
``submission_token``). The first submission with a key writes its record and the key in one
transaction; a repeat with the same key (a retry after a lost answer, a double click, an offline
queue sent twice) is answered with that record. The same key with other content is refused.
"""
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..records.models import SubmissionKey
from ..rules import competency
from ..rules.errors import ValidationError

#: What a key may be: a UUID, a ULID, any opaque token of safe characters (RFC 8941 sf-string subset).
KEY_FORMAT = re.compile(r"[A-Za-z0-9._:+/=-]{8,100}")
T = TypeVar("T")


def clean_key(raw: Any) -> str | None:
    """
    Args:
        raw: the client's key as sent (a string, or nothing).

    Returns:
        The key; None when the client sent none.

    Raises:
        ValidationError: on ``idempotency_key``, when it is not a usable key.
    """
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not KEY_FORMAT.fullmatch(raw):
        raise ValidationError({"idempotency_key": [_(
            "A submission key is 8 to 100 letters, digits or the characters . _ : + / = - (a UUID will do).")]})
    return raw


def fingerprint(*parts: Any) -> str:
    """
    Args:
        parts: what was submitted: JSON-ready values (others are written as text).

    Returns:
        A stable hash of them (hex sha256).
    """
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def once(actor: Any, raw_key: Any, action: str, submitted: str, write: Callable[[], tuple[T, int]],
         replay: Callable[[int], T]) -> T:
    """
    Run ``write`` once per ``actor`` and key.

    Args:
        actor: the user submitting.
        raw_key: the client's key, or None (then ``write`` simply runs).
        action: what is submitted (``"observation"``, ``"comment"``...): a key serves one action.
        submitted: the fingerprint of the content (``fingerprint``).
        write: ``() -> (result, record_id)``, the write itself (its own checks included).
        replay: ``(record_id) -> result``, the answer to a repeat.

    Returns:
        ``write``'s result the first time, ``replay``'s for a repeat.

    Raises:
        ValidationError: on ``idempotency_key`` when the key is malformed or was used for other
            content; whatever ``write`` raises (the key is then not kept: the client may retry it).
    """
    key = clean_key(raw_key)
    if key is None:
        return write()[0]
    # Kept as its hash: a fixed length, and no case folding by a database collation ("Ab" and "aB"
    # are two keys).
    key = hashlib.sha256(key.encode()).hexdigest()
    for attempt in range(2):
        # The second time, a locking read: it sees the committed key whatever the isolation level.
        recorded = _recorded(actor, key, action, submitted, lock=attempt > 0)
        if recorded is not None:
            return replay(recorded)
        try:
            with transaction.atomic():
                result, record_id = write()
                SubmissionKey.objects.create(user_id=actor.pk, key=key, action=action, fingerprint=submitted,
                                             record_id=record_id, created_at=timezone.now())
            return result
        except IntegrityError:
            # The same key sent twice at once: the other request's write committed first (the
            # unique key waited for it); this one's was rolled back. Answer with the first record.
            if not SubmissionKey.objects.select_for_update().filter(user_id=actor.pk, key=key).exists():
                raise
    recorded = _recorded(actor, key, action, submitted, lock=True)
    if recorded is None:  # the unique key said another request holds it: it cannot have vanished
        raise IntegrityError("A submission key was recorded and then not found.")
    return replay(recorded)


def _recorded(actor: Any, key: str, action: str, submitted: str, lock: bool = False) -> int | None:
    """The record id the key's first submission made, None for a new key; refused for other content."""
    keys = SubmissionKey.objects.select_for_update() if lock else SubmissionKey.objects
    kept = keys.filter(user_id=actor.pk, key=key).values_list("action", "fingerprint", "record_id").first()
    if kept is None:
        return None
    if kept[:2] != (action, submitted):
        raise ValidationError({"idempotency_key": [_(
            "This submission key was already used for a different submission; send a new key.")]})
    return kept[2]


def forget_old(now: datetime | None = None) -> int:
    """
    Purge the keys past ``competency.SUBMISSION_KEY_KEPT``.

    Args:
        now: the moment (default: the clock).

    Returns:
        How many keys were purged.
    """
    now = now or timezone.now()
    deleted, _counts = SubmissionKey.objects.filter(
        created_at__lt=competency.submission_keys_forgotten_before(now)).delete()
    return deleted

