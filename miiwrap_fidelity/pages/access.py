"""
What every page does around its view: parse the course from the URL, map the api's errors to pages
(once, here), keep writes retryable, and follow a ``next`` only to this site.
"""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import api
from ..api import NotFound, ValidationError
from . import error_pages


def course_view(view):
    """
    Parse ``course_id`` from the URL (400 when it is not a course key); sign-in required. The api's
    errors are mapped here once for every page: ``NotFound`` → our 404 page, ``PermissionDenied``
    → our 403 page (error_pages: a way back), input the view leaves to ``api`` → 400 with its
    messages, never a 500. Pages hold personal
    data, so no cache keeps them.
    """

    @wraps(view)
    def wrapper(request, course_id, *args, **kwargs):
        try:
            course_key = api.parse_course_key(course_id)
        except ValidationError:
            return HttpResponseBadRequest(_("Not a valid course id."))
        try:
            return view(request, course_key, *args, **kwargs)
        except NotFound as exc:
            return error_pages.page_not_found(request, exc, course_key=course_key)
        except DjangoPermissionDenied as exc:  # a page, with a way back; one log line, no traceback
            return error_pages.permission_denied(request, exc, course_key=course_key)
        except ValidationError as exc:
            return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")

    return login_required(never_cache(wrapper))


def safe_next(request, fallback):
    """
    The ``next`` the form posted when it is a path on this site (``url_has_allowed_host_and_scheme``
    refuses other hosts and schemes; a path, not a view name, is what ``redirect`` may be given).
    """
    target = request.POST.get("next") or request.GET.get("next")
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback




def retrying_view(view):
    """
    A page view that writes: outside ATOMIC_REQUESTS (its own transaction boundary is here, so it
    can be retried after a lost lock conflict), answering 503 with the message when the write cannot succeed.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return api.run_with_write_retries(view, request, *args, **kwargs)
        except api.WriteConflict as exc:
            return HttpResponse(str(exc), status=api.WriteConflict.status_code,
                                content_type="text/plain; charset=utf-8", headers={"Retry-After": "5"})

    return transaction.non_atomic_requests(wrapper)
