"""Answers kept for the length of one request, in edx-django-utils' request cache (the LMS's
``RequestCacheMiddleware`` empties it at every request's start and end)."""
from crum import get_current_request
from edx_django_utils.cache import RequestCache

NAMESPACE = "miiwrap_fidelity"


def per_request(key, compute):
    """
    ``compute()``, once per request and ``key``: a page or handler asks the same question (a role,
    a rubric's indicators) for every record it shows. Outside a request (tasks, commands, tests)
    nothing is remembered: no middleware would empty the cache between two tasks of a worker.
    """
    if get_current_request() is None:
        return compute()
    cache = RequestCache(NAMESPACE)
    cached = cache.get_cached_response(key)
    if cached.is_found:
        return cached.value
    value = compute()
    cache.set(key, value)
    return value


def forget(key):
    """Drop a kept answer (after the request changed what it was computed from)."""
    if get_current_request() is not None:
        RequestCache(NAMESPACE).delete(key)
