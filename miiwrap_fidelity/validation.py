"""Small input checks shared by api, rubric and reflections (one message per field)."""
from .errors import ValidationError
from django.utils.translation import gettext as _


def clean_text(value, field, limit, required=False):
    """Stripped text of at most ``limit`` characters; ``ValidationError`` keyed by ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Must be text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("At most %(max)s characters.") % {"max": limit}]})
    return value


def collect(errors, check, *args, **kwargs):
    """Run ``check``; on ``ValidationError`` add its messages to ``errors`` and return None."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None
