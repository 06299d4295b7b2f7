"""
Characters no free text may hold, whatever the path (page, XBlock, REST): NUL (PostgreSQL and DRF
refuse it) and unpaired UTF-16 surrogates (a lone ``\\ud800`` cannot be encoded as UTF-8, so it could
be stored by some databases and then never shown again).
"""
from django.utils.translation import gettext as _


def has_lone_surrogate(text):
    return any("\ud800" <= character <= "\udfff" for character in text)


def text_problem(text):
    """Why ``text`` cannot be taken as it is (a translated sentence), or None."""
    if "\x00" in text:
        return _("Must not contain NUL characters.")
    if has_lone_surrogate(text):
        return _("Contains a character that is not valid text (an unpaired surrogate).")
    return None
