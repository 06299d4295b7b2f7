"""
Flags free text that looks like it identifies a client (observations are about staff practice).

One source of the patterns: the server checks them before an observation is submitted
(``fields_with_identifiers``), and pages send the same patterns to the browser
(``client_patterns``) so the coach is warned while typing. Names without a role word are found with
Faker's name lists (``client_names``, docs/decisions/0021-client-names-from-a-gazetteer.rst);
tests/test_identifier_recall.py measures the check on labelled notes.
"""
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from . import client_names
from .errors import ValidationError

# Written in the common subset of Python and JavaScript regular expressions (``client_patterns``
# hands the source to the browser): no named groups, no inline flags, lookbehind of one character only.
# JavaScript's \w and \b know ASCII only, so accented letters are spelled out and a word's edges are
# ``_START``/``_END`` rather than \b.
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_LETTER = rf"\w{_UPPER}{_LOWER}"
_START, _END = rf"(?:^|[^{_LETTER}])", rf"(?![{_LETTER}])"
_NAME = f"[{_UPPER}][{_LOWER}]+"
# A capitalised word that is not a name ("The family agreed", "Family Vision", "Youth Voice").
_NOT_A_NAME = rf"(?!{client_names.alternation(client_names.NOT_NAMES)}{_END})"
# Words before a name that say who the person is ("client Maria", "Mom (Tanisha)", "la abuela Carmen").
_ROLE = (r"[Cc]lient|[Cc]liente|[Ff]amily|[Ff]amilia|[Yy]outh|[Cc]hild|[Jj]oven|[Mm]om|[Mm]other|[Dd]ad|[Ff]ather|"
         r"[Gg]rand(?:ma|mother|pa|father)|[Aa]unt|[Uu]ncle|[Ss]ister|[Bb]rother|[Dd]aughter|[Mm]adre|[Pp]adre|"
         r"[Mm]ama|[Pp]apa|[Aa]buel[ao]|[Tt]i[ao]|[Hh]erman[ao]|[Hh]ij[ao]|Mrs?\.?|Ms\.?|Sra?\.?|Srta\.?|Don|Dona")
# Street words that come before the street's name in Spanish.
_STREET = r"[Cc]alle|[Cc]/|[Aa]venida|[Aa]vda\.?|[Aa]v\.|[Pp]laza|[Pp]aseo|[Cc]amino|[Cc]arrera|[Cc]arretera|[Rr]onda"


def _compile(source: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern read as JavaScript reads it: ``\\w``, ``\\b`` and ``\\d`` in ASCII (Python's are
    Unicode), so the page's check and the server's give the same verdict on any text."""
    return re.compile(source, flags | re.ASCII)


_PATTERNS = [
    # Tried where a run of address characters starts only: a long run with no @ is read once, not once a letter.
    ("email", _compile(r"(?:^|[^\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("phone", _compile(r"(?<!\d)(?:\+?\d{1,2}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)")),
    # US numbers without the area code: 555-0148.
    ("phone", _compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])")),
    # Spanish numbers: 612 34 56 78, 612 345 678, +34 912345678 (mobiles start 6-7, landlines 8-9),
    # and landlines with a two-digit area code: 91 234 56 78.
    ("phone", _compile(r"(?<!\d)(?:\+\d{2}[\s.-]?)?[6-9]\d{2}(?:(?:[\s.-]?\d{2}){3}|[\s.-]\d{3}[\s.-]\d{3})(?!\d)")),
    ("phone", _compile(r"(?<!\d)(?:\+\d{2}[\s.-]?)?[89]\d[\s.-]\d{3}(?:[\s.-]\d{2}){2}(?!\d)")),
    # Mexican numbers: 55 1234 5678, +52 1 33 1234 5678.
    ("phone", _compile(r"(?<!\d)(?:\+52[\s.-]?(?:1[\s.-]?)?)?\d{2}[\s.-]\d{4}[\s.-]\d{4}(?!\d)")),
    ("birth_date", _compile(r"\b(?:dob\b|d\.o\.b|date of birth|birth ?date|born on|born \d|fecha de nac|f\. ?nac|"
                              r"nacid[oa] el|nacio el)", re.I)),
    # "case #12345", "case no. 2024-0012", "expediente n.º 2023/457", "MRN 1234567" (º reads as o after NFKC).
    ("case_number", _compile(rf"{_START}(?:case|caso|expediente|file|record|mrn|nhc|historia clinica|client id|"
                               r"id del? cliente)\s{0,3}(?:number|numero|num\.?|nro\.?|n\.?o\.?|#)?(?: is)?\s{0,3}[:#]?"
                               # Bounded gaps: three unbounded ones in a row backtracked in cubic time
                               # ("case" and 2,000 spaces took a minute).
                               r"\s{0,3}"
                               r"(?:[a-z]{1,3}-)?\d[\d/-]{2,}", re.I)),
    # A US social security number, a Spanish DNI or NIE, a long number after # ("report #5532").
    ("case_number", _compile(rf"(?<!\d)\d{{3}}-\d{{2}}-\d{{4}}(?!\d)|{_START}[XYZ]?\d{{7,8}}[A-HJ-NP-TV-Z]{_END}|"
                               r"(?:^|[^\w&])#\s?\d{4,}")),
    # "client Maria", "Family Gonzalez", "familia Álvarez", "Mrs. Patel", "Mom (Tanisha)".
    ("named_client", _compile(rf"{_START}(?:{_ROLE})(?:,\s*|\s+)(?:of\s+|de\s+)?\(?{_NOT_A_NAME}{_NAME}")),
    # "the Nakamura family", "met the Lopez household": a capitalised word after "the" or a word in lower case
    # (at the start of a sentence it is a verb: "Practise family voice and choice").
    ("named_client", _compile(rf"{_START}(?:[Tt]he|[{_LOWER}]+)\s+{_NOT_A_NAME}{_NAME}\s+"
                                rf"(?:family|household){_END}")),
    # The number first, then the street word: "12 Oak Street", "2301 W. Division St", and "PO Box 2291".
    # Case-sensitive: "3 goals in place", "2 hearings in court" are not addresses.
    ("address", _compile(r"\b\d{1,5}\s+(?:[NSEW]\.?\s+)?\w+(?:\s\w+)?\s+(?:[Ss]treet|[Ss]t|[Aa]venue|[Aa]ve|"
                           r"[Rr]oad|[Rr]d|[Ll]ane|[Ll]n|[Dd]rive|[Dd]r|[Bb]oulevard|[Bb]lvd|Court|Ct|Place|Way|"
                           r"Terrace|Circle|[Cc]alle)\b|\b[Pp]\.?\s?[Oo]\.?\s+[Bb]ox\s+\d")),
    # Spanish order: the street word, a capitalised name, the number ("Calle Mayor 12", "Avda. de la Paz, 3";
    # not "situación de calle durante 3 meses"), or a numbered street ("Calle 5 de Mayo #23", "Calle 45 # 12").
    ("address", _compile(rf"{_START}(?:{_STREET})\s+(?:(?:del?\s+(?:la\s+|los\s+|las\s+)?)?[{_UPPER}][^\d,\n]{{1,40}}"
                           r",?\s*\d{1,4}(?!\d)|\d{1,3}[^\d\n]{0,20}(?:#|[Nn]o\.?)\s*\d)")),
]


#: Verbs that follow a person's name at the start of a sentence ("Brenda said", "Rosa dijo"), as the
#: patterns read them (no accents).
_SAYS = client_names.alternation("""said says asked told shared felt feels wants wanted reported explained agreed
    mentioned seemed seems was is has had came arrived dijo dice comento pidio conto explico quiere queria expreso
    pregunto compartio llego vino esta estaba fue tiene""".split())


@functools.cache
def _name_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """
    Names without a role word, from the gazetteer (``client_names``), built on first use (Faker's lists
    are read then). Each list appears once in the served source: the context on the other side of the
    name is a lookahead ("(?=... family)") rather than a second copy of the list.
    """
    first = client_names.alternation(client_names.first_names())
    last = client_names.alternation(client_names.surnames(), either_case_initial=True)
    family = r"[Ff]amil(?:y|ia)|[Hh]ousehold|[Hh]ogar"
    return [
        # A known first name, capitalised, after a word in lower case ("with Maria", "de Kevin", "y Tomás"), or
        # before a capitalised word, 's or a verb of speech or being ("Maria Okafor", "Brianna's mother", "Brenda
        # said", "Rosa dijo"); else, at the start of a sentence, it is as likely an ordinary word.
        ("named_client", _compile(rf"{_START}(?:[{_LOWER}]+[,;:]?\s+\(?|(?={_NAME}(?:\s+{_NAME}|['’]s{_END}|"
                                    rf"\s+(?:{_SAYS}){_END})))"
                                    rf"{first}{_END}")),
        # A known surname, capitalised after a capitalised word ("Jayden Brooks"), or in either case beside a
        # family word ("familia gonzalez", "hogar de los ramírez", "the reyes family"). Not after "los" alone:
        # "los Hernández" is a family, but "Todos los Santos" and "los Reyes Magos" are holidays.
        ("named_client", _compile(rf"{_START}(?:{_NOT_A_NAME}{_NAME}\s+(?=[{_UPPER}])|(?:{family})\s+"
                                    rf"(?:de\s+(?:los\s+|la\s+)?)?|(?=[A-Za-z]+\s+(?:{family}|kids|children){_END}))"
                                    rf"{last}{_END}")),
    ]


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _PATTERNS + _name_patterns()


#: Characters that show nothing and split a word for a pattern ("maria\u200b@example.com").
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
#: Letters of other scripts that look like Latin ones ("mаria" with a Cyrillic а), folded before matching.
CONFUSABLES = dict(zip("АВЕКМНОРСТХаеорсхуіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοερνι", "ABEKMHOPCTXaeopcxyijsdqwABEZHIKMNOPTYXaoepvi"))
#: Latin letters with accents, read without them ("José Álvarez" as "Jose Alvarez"): the name lists keep
#: one spelling of each name, written or not with its accents, and the patterns stay in ASCII letters.
ACCENTS = {letter: client_names.without_accents(letter) for letter in map(chr, range(0xC0, 0x180))
           if client_names.without_accents(letter) != letter}
FOLD = {**CONFUSABLES, **ACCENTS}


def normalized(text: str) -> str:
    """
    ``text`` as the patterns read it: Unicode NFKC (full-width digits, ligatures), invisible
    characters removed, look-alike letters folded to Latin, accents removed. The browser does the same
    (``client_normalization``), so the warning while typing and the server's check agree.

    Args:
        text: free text.

    Returns:
        The text as the patterns read it.
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(FOLD.get(character, character) for character in text if character not in INVISIBLE)


def identifier_warnings(text: str | None) -> list[str]:
    """
    The kinds of possible client identifiers found in ``text``.

    Args:
        text: free text (None or empty: nothing to find).

    Returns:
        The kinds found (``email``, ``phone``, ``birth_date``, ``case_number``, ``named_client``,
        ``address``), each once, in the patterns' order; empty when none.
    """
    if not text:
        return []
    text = normalized(text)
    return list(dict.fromkeys(kind for kind, pattern in _patterns() if pattern.search(text)))


def client_normalization() -> dict[str, str | dict[str, str]]:
    """
    What ``normalized`` does beyond NFKC, for the browser.

    Returns:
        ``{"invisible": the characters removed, "fold": {character: its replacement}}`` (JSON-ready).
    """
    return {"invisible": INVISIBLE, "fold": FOLD}


def fields_with_identifiers(texts: Mapping[str, str | None]) -> dict[str, list[str]]:
    """
    The fields whose text looks client-identifying.

    Args:
        texts: ``{field: text}``.

    Returns:
        ``{field: [kind, ...]}`` (``identifier_warnings``) of the fields where some kind was found.
    """
    found = {}
    for field, text in texts.items():
        kinds = identifier_warnings(text)
        if kinds:
            found[field] = kinds
    return found


def feedback_texts(note: str | None, feedback: Mapping[str, Any]) -> dict[str, str]:
    """
    ``{field: text}`` of an observation's free text: the overall note and each indicator's
    ``strength`` and ``next_step``.

    Args:
        note: the overall note (None reads as empty).
        feedback: ``{indicator key: a dict or an object with strength and next_step}``.

    Returns:
        ``{"overall_note": text, "ratings.<key>.strength": text, "ratings.<key>.next_step": text, ...}``.
    """
    texts = {"overall_note": note or ""}
    for key, entry in feedback.items():
        for part in ("strength", "next_step"):
            texts[f"ratings.{key}.{part}"] = entry[part] if isinstance(entry, dict) else getattr(entry, part)
    return texts


def unconfirmed_errors(suspected: Mapping[str, Iterable[str]], confirmed: object) -> dict[str, list[str]]:
    """
    ``{field: [message]}`` for the ``suspected`` fields, unless the writer confirmed the text is not
    client-identifying (learners read it: one check for every write path of observations and
    corrections).

    Args:
        suspected: ``{field: [kind, ...]}`` (``fields_with_identifiers``).
        confirmed: the writer's confirmation; only True confirms.

    Returns:
        A message per kind found, by field; empty when confirmed.
    """
    if confirmed is True:
        return {}
    return {field: [f"{warning_message(kind)} " + _("Remove it, or confirm that it does not identify a client.")
                    for kind in kinds] for field, kinds in suspected.items()}


def require_confirmed(texts: Mapping[str, str | None], confirmed: object) -> None:
    """
    Refuse text that looks client-identifying, unless the writer confirmed it is not: the same check
    for every free text another person reads (observations, corrections, self-assessments,
    reflections, comments, plan notes).

    Args:
        texts: ``{field: text}``.
        confirmed: the writer's confirmation; only True confirms.

    Raises:
        ValidationError: some text looks client-identifying and ``confirmed`` is not True (naming
            each such field).
    """
    errors = unconfirmed_errors(fields_with_identifiers(texts), confirmed)
    if errors:
        raise ValidationError(errors)


def warning_message(kind: str) -> str:
    """
    What to tell the writer about one kind of identifier.

    Args:
        kind: an identifier kind (``identifier_warnings``).

    Returns:
        The warning in the active language; ``kind`` itself when unknown.
    """
    messages = {
        "email": _("This text contains an e-mail address."),
        "phone": _("This text contains what looks like a phone number."),
        "birth_date": _("This text mentions a date of birth."),
        "named_client": _("This text may name a client or family member."),
        "address": _("This text contains what looks like a street address."),
        "case_number": _("This text contains what looks like a case, record or ID number."),
    }
    return messages.get(kind, kind)


def client_patterns() -> list[dict[str, str]]:
    """
    The patterns for the browser's check while typing.

    Returns:
        ``[{"kind", "source", "flags", "message"}]`` (JSON-ready; ``flags`` is "i" or "").
    """
    return [{"kind": kind, "source": pattern.pattern, "flags": "i" if pattern.flags & re.I else "",
             "message": warning_message(kind)} for kind, pattern in _patterns()]
