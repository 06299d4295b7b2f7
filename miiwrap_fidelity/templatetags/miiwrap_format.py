"""Template filters for numbers, percentages, course names and people's names (``{% load miiwrap_format %}``)."""
import uuid

from django import template
from django.utils.html import format_html

from miiwrap_fidelity import api
from miiwrap_fidelity.wording import formatting

register = template.Library()


@register.filter
def number(value, digits=1):
    """A number in the active locale ("4.8" / "4,8"); empty for None."""
    return formatting.number(value, digits)


@register.filter
def percent(value, digits=1):
    """A percentage in the active locale ("95.2%" / "95,2 %"); empty for None."""
    return formatting.percent(value, digits)


@register.filter
def is_same_course(course_id, course_key):
    """Whether ``course_id`` (text) names ``course_key`` (a key or text): an observation recorded here."""
    return str(course_id) == str(course_key)


@register.filter
def course_name(course_key):
    """The course's display name (through the platform, once per request)."""
    return api.course_display_name(course_key)


@register.filter
def full_name(user, names):
    """The person's full name from ``names`` (``api.full_names``), or their username when they have none."""
    return names.get(user.pk) if names and names.get(user.pk) else user.username


@register.filter
def get_name(names, user_id):
    """``names[user_id]`` (``api.full_names``), or "" when the person has no full name."""
    return (names or {}).get(user_id, "")


@register.filter
def username_hint(user, names):
    """
    The username as the small secondary label beside a full name from ``names`` (as the lists show
    people); nothing when the person has no full name, since their username is then the name shown.
    """
    if user is None or not (names or {}).get(user.pk):
        return ""
    return format_html(' <small class="mwf-hint">{}</small>', user.username)


@register.filter
def get_item(mapping, key):
    """``mapping[key]``, or None (a form shown again with what was entered, by field key)."""
    return (mapping or {}).get(key)


@register.simple_tag
def submission_token():
    """
    A hidden ``submission_token`` for a form that creates evidence: posting the same form twice (a
    double click, the back button, an offline queue sent again) is answered with the first record
    (``api.submission_keys``).
    """
    return format_html('<input type="hidden" name="submission_token" value="{}">', uuid.uuid4().hex)
