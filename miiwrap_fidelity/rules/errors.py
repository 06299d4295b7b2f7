"""
What the api raises, and nothing else: entry points (pages, REST, XBlock handlers, tasks) map these
once each to their own answers (404, 403, 400 with field messages; 409 for ``validation.Conflict``,
503 for ``write_retry.WriteConflict``). Every one is a ``MiiwrapError``.

``PermissionDenied`` and ``ValidationError`` extend Django's core exceptions, so code that knows
only those (forms, DRF, the admin) still understands them; ``NotFound`` is plain: the api knows
nothing of HTTP.
"""
from django.core import exceptions as django_exceptions


class MiiwrapError(Exception):
    """Every error the api raises on purpose (an entry point that maps none of the kinds below maps this)."""


class NotFound(MiiwrapError):
    """The record asked for does not exist, or is not the asker's to see in this course."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(django_exceptions.PermissionDenied, MiiwrapError):
    """The actor may not do this (checked on the server, whatever the page offered)."""


class ValidationError(django_exceptions.ValidationError, MiiwrapError):
    """Bad input or a refused action, with messages per field (``message_dict``)."""
