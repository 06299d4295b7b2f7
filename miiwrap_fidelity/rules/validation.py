"""
The one input layer shared by api, pages, block handlers and REST: field checks (one message per
field), ids, JSON bodies and their size caps, and the edit-conflict error. Every entry point uses
these, so the three ways in cannot drift apart.
"""
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.utils.translation import gettext as _

from .errors import ValidationError
from .text_checks import text_problem

#: Largest JSON body a block handler or REST request accepts, and its deepest nesting.
MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 20
#: Open drafts one observer may keep of one learner, and comments on one reflection: enough for real
#: work, bounded against floods.
MAX_OPEN_DRAFTS = 20
MAX_COMMENTS_PER_REFLECTION = 100
#: Ids are database keys: positive and inside a signed 64-bit integer on every backend.
MAX_ID = 2 ** 63 - 1

T = TypeVar("T")
P = ParamSpec("P")


class Conflict(ValidationError):
    """
    Someone changed the record since the editor read it (HTTP 409). ``current_revision`` is what
    the editor should reload.
    """

    def __init__(self, message: str, current_revision: int) -> None:
        super().__init__({"revision": [message]})
        self.current_revision = current_revision


def clean_text(value: object, field: str, limit: int, required: bool = False) -> str:
    """
    Stripped text of at most ``limit`` characters.

    Args:
        value: the input (None reads as empty text).
        field: the input field a refusal names.
        limit: the most characters the stripped text may have.
        required: refuse empty text.

    Returns:
        The text, stripped.

    Raises:
        ValidationError: not text, a NUL or unpaired surrogate, empty while ``required``, or too
            long (keyed by ``field``).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Must be text.")]})
    problem = text_problem(value)  # NUL, lone surrogates: refused on every path
    if problem:
        raise ValidationError({field: [problem]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("At most %(max)s characters.") % {"max": limit}]})
    return value


def as_id(value: object) -> int | None:
    """
    ``value`` as a database id (an int, or a string of ASCII digits), or None when it is not one.
    ``str.isdigit`` accepts '²' and numbers beyond any key; this does not.

    Args:
        value: the input: an int, a string of digits, or anything else (never an id).

    Returns:
        The id, from 1 to ``MAX_ID``; None when ``value`` is not one (bools included).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def clean_id(value: object, field: str, message: str | None = None) -> int:
    """
    ``value`` as a database id (``as_id``).

    Args:
        value: the input.
        field: the input field a refusal names.
        message: the refusal's message (default: "Give a valid id.").

    Returns:
        The id.

    Raises:
        ValidationError: ``value`` is not an id (keyed by ``field``).
    """
    parsed = as_id(value)
    if parsed is None:
        raise ValidationError({field: [message or _("Give a valid id.")]})
    return parsed


def collect(errors: dict[str, list[str]], check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """
    Run ``check``; on ``ValidationError`` add its messages to ``errors`` and return None.

    Args:
        errors: ``{field: [message]}`` that the messages of a refusal are added to.
        check: the check to run.
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        What ``check`` returned; None when it raised ``ValidationError``.

    Raises:
        Conflict: ``check`` raised it (not a field error: the whole edit is refused).
    """
    try:
        return check(*args, **kwargs)
    except Conflict:
        raise  # not a field error: the whole edit is refused
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """
    Whether parsed JSON nests deeper than ``limit`` (checked without recursion).

    Args:
        value: the parsed JSON.
        limit: the deepest nesting of lists and objects allowed.

    Returns:
        True when some list or object lies deeper than ``limit``.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse_json(body: bytes | str | None, field: str = "body") -> Any:
    """
    Decoded JSON from request bytes, within ``MAX_JSON_BYTES`` and ``MAX_JSON_DEPTH``.

    Args:
        body: the request body (bytes in UTF-8, or text); empty or None reads as empty.
        field: the input field a refusal names.

    Returns:
        The decoded JSON value.

    Raises:
        ValidationError: the body is too large, not JSON (empty included) or nests too deeply (keyed
            by ``field``; never a ``RecursionError``).
    """
    body = body or b""
    if len(body) > MAX_JSON_BYTES:
        raise ValidationError({field: [_("The request is too large.")]})
    try:
        data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationError({field: [_("The request is not valid JSON.")]}) from exc
    if json_depth_exceeds(data):
        raise ValidationError({field: [_("The request nests too deeply.")]})
    return data
