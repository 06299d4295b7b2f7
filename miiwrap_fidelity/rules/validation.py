"""
The one input layer shared by api, pages, block handlers and REST: field checks (one message per
field), ids, JSON bodies and their size caps, and the edit-conflict error. Every entry point uses
these, so the three ways in cannot drift apart.
"""
import json

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


class Conflict(ValidationError):
    """
    Someone changed the record since the editor read it (HTTP 409). ``current_revision`` is what
    the editor should reload.
    """

    def __init__(self, message, current_revision):
        super().__init__({"revision": [message]})
        self.current_revision = current_revision


def clean_text(value, field, limit, required=False):
    """Stripped text of at most ``limit`` characters; ``ValidationError`` keyed by ``field``."""
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


def as_id(value):
    """
    ``value`` as a database id (an int, or a string of ASCII digits), or None when it is not one.
    ``str.isdigit`` accepts '²' and numbers beyond any key; this does not.
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


def clean_id(value, field, message=None):
    """``as_id`` or ``ValidationError`` keyed by ``field``."""
    parsed = as_id(value)
    if parsed is None:
        raise ValidationError({field: [message or _("Give a valid id.")]})
    return parsed


def collect(errors, check, *args, **kwargs):
    """Run ``check``; on ``ValidationError`` add its messages to ``errors`` and return None."""
    try:
        return check(*args, **kwargs)
    except Conflict:
        raise  # not a field error: the whole edit is refused
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None


def json_depth_exceeds(value, limit=MAX_JSON_DEPTH):
    """Whether parsed JSON nests deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse_json(body, field="body"):
    """
    Decoded JSON from request bytes, within ``MAX_JSON_BYTES`` and ``MAX_JSON_DEPTH``;
    ``ValidationError`` keyed by ``field`` otherwise (never a ``RecursionError``).
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
