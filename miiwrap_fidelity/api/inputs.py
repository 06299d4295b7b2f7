"""Input helpers shared by the api: course keys, users, dates, text limits."""
from datetime import date
from typing import Any, TypeAlias

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from ..rules.errors import ValidationError
from ..rules.validation import as_id
from ..seams.platform import get_platform

#: A course as callers name it: a ``CourseKey`` or its string.
CourseRef: TypeAlias = CourseKey | str
#: A person as callers name them: a user (the platform's user model), an id, or a username.
UserRef: TypeAlias = Any
#: A user of the platform's user model (Django ships no type information: Any to the type checker).
User: TypeAlias = Any


def parse_course_key(value: CourseRef) -> CourseKey:
    """
    A course key from a key or its string.

    Args:
        value: a ``CourseKey``, or its string (``course-v1:Org+Course+Run``).

    Returns:
        The ``CourseKey`` (``value`` itself when it is one).

    Raises:
        ValidationError: ``value`` is not a course key (on the ``course_key`` field).
    """
    if isinstance(value, CourseKey):
        return value
    try:
        return CourseKey.from_string(str(value))
    except InvalidKeyError as exc:
        raise ValidationError({"course_key": [_("Not a valid course id.")]}) from exc


def get_user(user_or_id: UserRef, field: str = "user") -> User:
    """
    A user from a user, an id or a username.

    Args:
        user_or_id: a user (returned as it is), an id (an int or its digits) or a username.
        field: the input field a refusal names.

    Returns:
        The user.

    Raises:
        ValidationError: no such user (on ``field``).
    """
    model = get_user_model()
    if isinstance(user_or_id, model):
        return user_or_id
    if isinstance(user_or_id, (int, bool)) or (isinstance(user_or_id, str) and user_or_id.strip().isdigit()):
        user_id = as_id(user_or_id)
        if user_id is None:
            raise ValidationError({field: [_("No such user.")]})
        lookup: dict[str, int | str] = {"pk": user_id}
    elif isinstance(user_or_id, str) and "\x00" not in user_or_id and len(user_or_id) <= 150:
        lookup = {"username": user_or_id}
    else:
        raise ValidationError({field: [_("No such user.")]})
    try:
        return model.objects.get(**lookup)
    except (model.DoesNotExist, ValueError) as exc:
        raise ValidationError({field: [_("No such user.")]}) from exc


#: The most people a lookup by full name reads from the platform (``user_ids_named``).
NAME_LOOKUP_LIMIT = 100
#: The longest full name looked up (the platform's ``UserProfile.name`` holds 255 characters).
MAX_NAME_CHARS = 255


def user_ids_named(name: object, limit: int = NAME_LOOKUP_LIMIT, prefix: bool = False) -> list[int]:
    """
    The users whose full name, as the platform keeps it, is ``name`` (case ignored; one query).

    Args:
        name: what someone typed (spaces at either end ignored); anything but text matches no one.
        limit: the most ids answered (ask for one more than you take to tell that there are more).
        prefix: the full names that start with ``name`` instead.

    Returns:
        Their ids, lowest first; empty for a blank name, a name over ``MAX_NAME_CHARS`` characters
        or anything but text.
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name:
        return []
    return [int(user_id) for user_id in get_platform().users_named(name, limit, prefix=prefix)]


def clean_date(value: object, field: str) -> date:
    """
    A practice date: a ``date`` or an ISO ``YYYY-MM-DD`` string, not in the future.

    Args:
        value: the date, or its ISO string (anything else, None included, is refused).
        field: the input field a refusal names.

    Returns:
        The date.

    Raises:
        ValidationError: not a date, or a day after today (on ``field``).
    """
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from exc
    if parsed > timezone.now().date():
        raise ValidationError({field: [_("The practice date cannot be in the future.")]})
    return parsed


MAX_NOTE_CHARS = 4000


MAX_REASON_CHARS = 2000
