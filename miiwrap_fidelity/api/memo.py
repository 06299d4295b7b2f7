"""Answers kept for the length of one request."""
from crum import get_current_request


def per_request(key, compute):
    """
    ``compute()``, once per request and ``key``: a page or handler asks the same question (a role,
    a rubric's indicators) for every record it shows. Outside a request (tasks, commands, tests)
    nothing is remembered.
    """
    request = get_current_request()
    if request is None:
        return compute()
    memo = request.__dict__.setdefault("_miiwrap_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]
