"""Errors as JSON: 400 with field messages, 403, 404, 503 after lost lock conflicts — never a 500."""
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotFound as RestNotFound
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from miiwrap_fidelity.api import Conflict, NotFound, WriteConflict


def exception_handler(exc, context):
    """
    DRF's handler, which also maps the api's errors, once for every view: ``NotFound`` → 404,
    ``ValidationError`` → 400 with field messages (``PermissionDenied`` is Django's: DRF answers 403),
    an edit conflict → 409 with the current revision, and a write that kept losing lock conflicts
    (``WriteConflict``) → 503 or 409 with Retry-After.
    """
    if isinstance(exc, RequestDataTooBig):  # Django's own answer would be its HTML 400 page
        return Response({"detail": _("The request is too large: at most %(max)s bytes.") % {
            "max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, WriteConflict):
        return Response({"detail": str(exc)}, status=exc.status_code, headers={"Retry-After": "5"})
    if isinstance(exc, Conflict):
        return Response({**exc.message_dict, "current_revision": exc.current_revision},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotFound):
        exc = RestNotFound(exc.message)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    # DRF marks the current transaction for rollback (meant for ATOMIC_REQUESTS). Our views own no
    # request transaction (a write's transaction, already rolled back, is write_retry's), so the mark
    # is given a savepoint of its own and never reaches a transaction a caller opened.
    with transaction.atomic():
        return drf_exception_handler(exc, context)
