"""
Flags free text that looks like it identifies a client (observations are about staff practice).

One source of the patterns: the server checks them before an observation is submitted
(``fields_with_identifiers``), and pages send the same patterns to the browser
(``client_patterns``) so the coach is warned while typing.
"""
import re
import unicodedata

from django.utils.translation import gettext as _

from .errors import ValidationError

# Written in the common subset of Python and JavaScript regular expressions (``client_patterns``
# hands the source to the browser): no named groups, no inline flags, lookbehind only as ``(?<!\d)``.
_UPPER, _LOWER = "A-ZÁÉÍÓÚÑÜ", "a-záéíóúñü"
_NAME = f"[{_UPPER}][{_LOWER}]+"
# Capitalised words that start a sentence about a family without naming it ("The family agreed").
_NOT_A_NAME = r"(?!(?:The|This|That|Each|Every|Whole|Our|Their|His|Her|Its|One|Another|Extended|Foster|" \
              r"La|El|Una|Un|Esta|Este|Cada|Toda|Nuestra|Su)\s)"
_PATTERNS = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("phone", re.compile(r"(?<!\d)(?:\+?\d{1,2}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)")),
    # Spanish numbers: 612 34 56 78, 612 345 678, +34 912345678 (mobiles start 6-7, landlines 8-9).
    ("phone", re.compile(r"(?<!\d)(?:\+\d{2}[\s.-]?)?[6-9]\d{2}(?:(?:[\s.-]?\d{2}){3}|[\s.-]\d{3}[\s.-]\d{3})(?!\d)")),
    ("birth_date", re.compile(r"\b(?:dob|d\.o\.b\.|date of birth|born on|fecha de nacimiento)\b", re.I)),
    # "client Maria", "Family Gonzalez", "familia Álvarez": the role word in either case, then a name.
    ("named_client", re.compile(r"(?:^|[^\w])(?:[Cc]lient|[Ff]amily|[Yy]outh|[Cc]hild|[Cc]liente|[Ff]amilia)\s+"
                                rf"(?:of\s+|de\s+)?{_NAME}")),
    # "Smith family", "the Lopez household".
    ("named_client", re.compile(rf"(?:^|[^\w]){_NOT_A_NAME}{_NAME}\s+(?:family|household)\b")),
    ("address", re.compile(r"\b\d{1,5}\s+\w+(?:\s\w+)?\s+(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|calle)\b",
                           re.I)),
    # Spanish order: the street word first, the number last ("Calle Mayor 12", "Avda. de la Paz, 3").
    ("address", re.compile(r"(?:^|[^\w])(?:calle|c/|avenida|avda\.?|plaza|paseo|camino|carrera)\s+[^\d,\n]{2,40},?\s*"
                           r"\d{1,4}(?!\d)", re.I)),
]


#: Characters that show nothing and split a word for a pattern ("maria\u200b@example.com").
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
#: Letters of other scripts that look like Latin ones ("mаria" with a Cyrillic а), folded before matching.
CONFUSABLES = dict(zip("АВЕКМНОРСТХаеорсхуіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοερνι", "ABEKMHOPCTXaeopcxyijsdqwABEZHIKMNOPTYXaoepvi"))


def normalized(text):
    """
    ``text`` as the patterns read it: Unicode NFKC (full-width digits, ligatures), invisible
    characters removed, look-alike letters folded to Latin. The browser does the same
    (``client_normalization``), so the warning while typing and the server's check agree.
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(CONFUSABLES.get(character, character) for character in text if character not in INVISIBLE)


def identifier_warnings(text):
    """The kinds of possible client identifiers found in ``text`` (empty when none)."""
    if not text:
        return []
    text = normalized(text)
    return list(dict.fromkeys(kind for kind, pattern in _PATTERNS if pattern.search(text)))


def client_normalization():
    """What ``normalized`` does beyond NFKC, for the browser: ``{invisible, fold}`` (JSON-ready)."""
    return {"invisible": INVISIBLE, "fold": CONFUSABLES}


def fields_with_identifiers(texts):
    """``{field: [kind, ...]}`` for the ``{field: text}`` items that look client-identifying."""
    found = {}
    for field, text in texts.items():
        kinds = identifier_warnings(text)
        if kinds:
            found[field] = kinds
    return found


def feedback_texts(note, feedback):
    """
    ``{field: text}`` of an observation's free text: the overall note and each indicator's
    ``strength`` and ``next_step`` (``feedback``: ``{indicator key: object with those two}``).
    """
    texts = {"overall_note": note or ""}
    for key, entry in feedback.items():
        for part in ("strength", "next_step"):
            texts[f"ratings.{key}.{part}"] = entry[part] if isinstance(entry, dict) else getattr(entry, part)
    return texts


def unconfirmed_errors(suspected, confirmed):
    """
    ``{field: [message]}`` for the ``suspected`` fields (``fields_with_identifiers``), unless the
    writer ``confirmed`` the text is not client-identifying (learners read it: one check for every
    write path of observations and corrections).
    """
    if confirmed is True:
        return {}
    return {field: [f"{warning_message(kind)} " + _("Remove it, or confirm that it does not identify a client.")
                    for kind in kinds] for field, kinds in suspected.items()}


def require_confirmed(texts, confirmed):
    """
    ``ValidationError`` naming each of ``texts`` (``{field: text}``) that looks client-identifying,
    unless the writer ``confirmed`` it is not: the same check for every free text another person
    reads (observations, corrections, self-assessments, reflections, comments, plan notes).
    """
    errors = unconfirmed_errors(fields_with_identifiers(texts), confirmed)
    if errors:
        raise ValidationError(errors)


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
