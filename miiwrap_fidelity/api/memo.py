"""Answers kept for the length of one request, in edx-django-utils' request cache (the LMS's
``RequestCacheMiddleware`` empties it at every request's start and end)."""
from collections.abc import Callable, Hashable
from typing import TypeVar

from crum import get_current_request
from edx_django_utils.cache import RequestCache

NAMESPACE = "miiwrap_fidelity"
T = TypeVar("T")


def per_request(key: Hashable, compute: Callable[[], T]) -> T:
    """
    ``compute()``, once per request and ``key``: a page or handler asks the same question (a role,
    a rubric's indicators) for every record it shows. Outside a request (tasks, commands, tests)
    nothing is remembered: no middleware would empty the cache between two tasks of a worker.

    Args:
        key: what the answer is to (a tuple naming the question and its subjects).
        compute: computes the answer.

    Returns:
        The answer, computed at most once per request and key.
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


def forget(key: Hashable) -> None:
    """
    Drop a kept answer (after the request changed what it was computed from).

    Args:
        key: the key ``per_request`` kept it under.
    """
    if get_current_request() is not None:
        RequestCache(NAMESPACE).delete(key)
