"""What pages call courses and people: display names from the platform, never raw keys when a name exists."""
from collections.abc import Iterable

from ..seams.platform import get_platform
from .inputs import CourseRef, parse_course_key
from .memo import per_request


def course_display_name(course_key: CourseRef) -> str:
    """
    The course's display name, asked of the platform once per request.

    Args:
        course_key: the course.

    Returns:
        Its display name; its key when the platform has none.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    course_key = parse_course_key(course_key)
    return per_request(("course_name", str(course_key)), lambda: get_platform().course_name(course_key))


def full_names(user_ids: Iterable[int | str]) -> dict[int, str]:
    """
    The full names of the people a page shows, in one query.

    Args:
        user_ids: their ids (ints, or their digits).

    Returns:
        ``{user_id: full name}``; people without a full name are left out (pages then show the
        username alone).
    """
    user_ids = sorted({int(user_id) for user_id in user_ids})
    if not user_ids:
        return {}
    return dict(get_platform().full_names(user_ids))
