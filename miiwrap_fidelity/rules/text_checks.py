"""
Characters no free text may hold, whatever the path (page, XBlock, REST): NUL (PostgreSQL and DRF
refuse it) and unpaired UTF-16 surrogates (a lone ``\\ud800`` cannot be encoded as UTF-8, so it could
be stored by some databases and then never shown again).
"""
from django.utils.translation import gettext as _


def has_lone_surrogate(text: str) -> bool:
    """
    Whether ``text`` holds an unpaired UTF-16 surrogate.

    Args:
        text: the text to check.

    Returns:
        True when some character of ``text`` is a surrogate (``\\ud800`` to ``\\udfff``).
    """
    return any("\ud800" <= character <= "\udfff" for character in text)


def text_problem(text: str) -> str | None:
    """
    Why ``text`` cannot be taken as it is.

    Args:
        text: the free text to check.

    Returns:
        The reason, a sentence in the active language (NUL characters, an unpaired surrogate), or
        None when the text may be taken.
    """
    if "\x00" in text:
        return _("Must not contain NUL characters.")
    if has_lone_surrogate(text):
        return _("Contains a character that is not valid text (an unpaired surrogate).")
    return None
