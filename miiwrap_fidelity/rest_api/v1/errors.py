"""Errors as JSON: 400 with field messages, 403, 404 — never a 500 for bad input."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from miiwrap_fidelity.validation import Conflict


def exception_handler(exc, context):
    """
    DRF's handler, which also turns Django's ``ValidationError`` (raised by ``api``) into a 400 and an
    edit conflict into a 409 with the current revision.
    """
    if isinstance(exc, Conflict):
        return Response({**exc.message_dict, "current_revision": exc.current_revision},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)
