"""
Flags free text that looks like it identifies a client (observations are about staff practice).

One source of the patterns: the server checks them before an observation is submitted
(``fields_with_identifiers``), and pages send the same patterns to the browser
(``client_patterns``) so the coach is warned while typing.
"""
import re

from django.utils.translation import gettext as _

# Written in the common subset of Python and JavaScript regular expressions (``client_patterns``
# hands the source to the browser): no named groups, no inline flags, lookbehind only as ``(?<!\d)``.
_PATTERNS = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("phone", re.compile(r"(?<!\d)(?:\+?\d{1,2}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)")),
    ("birth_date", re.compile(r"\b(?:dob|d\.o\.b\.|date of birth|born on|fecha de nacimiento)\b", re.I)),
    ("named_client", re.compile(r"\b(?:client|family|youth|child|cliente|familia)\s+(?:of\s+)?[A-Z][a-z]+", re.U)),
    ("address", re.compile(r"\b\d{1,5}\s+\w+(?:\s\w+)?\s+(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|calle)\b",
                           re.I)),
]


def identifier_warnings(text):
    """The kinds of possible client identifiers found in ``text`` (empty when none)."""
    if not text:
        return []
    return [kind for kind, pattern in _PATTERNS if pattern.search(text)]


def fields_with_identifiers(texts):
    """``{field: [kind, ...]}`` for the ``{field: text}`` items that look client-identifying."""
    found = {}
    for field, text in texts.items():
        kinds = identifier_warnings(text)
        if kinds:
            found[field] = kinds
    return found


def warning_message(kind):
    messages = {
        "email": _("This text contains an e-mail address."),
        "phone": _("This text contains what looks like a phone number."),
        "birth_date": _("This text mentions a date of birth."),
        "named_client": _("This text may name a client or family member."),
        "address": _("This text contains what looks like a street address."),
    }
    return messages.get(kind, kind)


def client_patterns():
    """The patterns for the browser's check while typing: ``[{kind, source, flags, message}]`` (JSON-ready)."""
    return [{"kind": kind, "source": pattern.pattern, "flags": "i" if pattern.flags & re.I else "",
             "message": warning_message(kind)} for kind, pattern in _PATTERNS]
