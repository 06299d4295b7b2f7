"""
What the learner list's search compares: a username or a full name folded so that "dana", "Dana"
and "Dána" find "Dána Reyes" (case and accents ignored), the same on SQLite and MariaDB.
"""
import unicodedata

#: The longest key kept (the list's columns: a username is at most 150 characters, a name 255).
MAX_KEY = 255


def fold(text: str | None) -> str:
    """
    A text as the search compares it.

    Args:
        text: a username, a full name or what someone typed in the search box (None: nothing).

    Returns:
        The text without accents, case-folded, with runs of spaces made one and no space at
        either end, at most ``MAX_KEY`` characters.
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(bare.casefold().split())[:MAX_KEY]


def prefix_bounds(key: str) -> tuple[str, str]:
    """
    The range of keys that start with ``key``, for an index: ``low <= k < high``.

    Args:
        key: a folded, non-empty search text.

    Returns:
        ``(key, high)``: ``high`` is ``key`` with its last character's code point raised by one,
        the first text after every text beginning with ``key`` in code point order.
    """
    stem = key.rstrip(LAST_CHARACTER)  # no character follows U+10FFFF: raise the one before it
    if not stem:  # every key of at most MAX_KEY characters that starts with key sorts below this
        return key, LAST_CHARACTER * (MAX_KEY + 1)
    point = ord(stem[-1]) + 1
    return key, stem[:-1] + chr(0xE000 if 0xD800 <= point <= 0xDFFF else point)  # surrogates are not text


#: The last code point: a search ending in it has no next character to bound its range.
LAST_CHARACTER = chr(0x10FFFF)
