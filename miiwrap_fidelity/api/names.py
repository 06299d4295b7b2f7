"""What pages call courses and people: display names from the platform, never raw keys when a name exists."""
from ..seams.platform import get_platform
from .inputs import parse_course_key
from .memo import per_request


def course_display_name(course_key):
    """The course's display name (its key when the platform has none); asked once per request."""
    course_key = parse_course_key(course_key)
    return per_request(("course_name", str(course_key)), lambda: get_platform().course_name(course_key))


def full_names(user_ids):
    """
    ``{user_id: full name}`` for the people a page shows, in one query; people without a full name
    are left out (pages then show the username alone).
    """
    user_ids = sorted({int(user_id) for user_id in user_ids})
    if not user_ids:
        return {}
    return dict(get_platform().full_names(user_ids))
