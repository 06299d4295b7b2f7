"""
The transaction boundary of every write entry point (REST views, pages, XBlock handlers, tasks).

A deadlock or lock-wait timeout (MySQL 1213 / 1205, SQLite "database is locked") rolls the whole
transaction back, so it can only be retried where the transaction starts. ``run`` does that a
bounded number of times; when it cannot succeed (retries exhausted, or called inside a transaction
somebody else opened, e.g. the LMS's ATOMIC_REQUESTS around an XBlock handler) it raises
``WriteConflict``, which every entry point answers with a 503 and a message, never a 500.
See docs/decisions/0006-evidence-integrity-under-concurrency-and-faults.rst.
"""
import random
import time
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils.translation import gettext_lazy as _

from ..rules.errors import MiiwrapError

#: MySQL/MariaDB error codes of a transaction that lost a lock conflict.
DEADLOCK, LOCK_WAIT_TIMEOUT = 1213, 1205
DEFAULT_ATTEMPTS = 4


class WriteConflict(MiiwrapError):
    """Other writes held the records this one needed; nothing was saved, trying again later works."""

    status_code = 503
    default_message = _("Many people are saving records for this learner right now, so nothing was saved. "
                        "Please try again in a few seconds.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message)


def is_lock_conflict(exc):
    """True for the database errors that mean "lost a lock conflict; the same work may succeed again"."""
    if not isinstance(exc, OperationalError):
        return False
    code = exc.args[0] if exc.args else None
    return code in (DEADLOCK, LOCK_WAIT_TIMEOUT) or "database is locked" in str(exc)


def attempts():
    return max(1, int(getattr(settings, "MIIWRAP_FIDELITY_WRITE_ATTEMPTS", DEFAULT_ATTEMPTS)))


def run(func, *args, using=DEFAULT_DB_ALIAS, **kwargs):
    """
    ``func(*args, **kwargs)`` in one transaction, retried after a lock conflict; ``WriteConflict``
    when it cannot succeed. Inside a transaction opened by a caller it runs once in a savepoint.
    """
    if connections[using].in_atomic_block:
        try:
            with transaction.atomic(using=using):
                return func(*args, **kwargs)
        except OperationalError as exc:
            if is_lock_conflict(exc):
                raise WriteConflict() from exc
            raise
    tries = attempts()
    for attempt in range(1, tries + 1):
        try:
            with transaction.atomic(using=using):
                return func(*args, **kwargs)
        except OperationalError as exc:
            if not is_lock_conflict(exc):
                raise
            if attempt == tries:
                raise WriteConflict() from exc
            # Jittered backoff, so that the transactions that collided do not collide again.
            time.sleep(random.uniform(0.02, 0.1) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def retrying(func):
    """Decorator form of ``run``."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        return run(func, *args, **kwargs)

    return wrapper
