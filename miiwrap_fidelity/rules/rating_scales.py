"""
What a rating means for each indicator kind, what summary scores an instrument computes from
them, and which language an instrument's text is shown in. Pure: no Django, no records.

Indicator kinds (instrument files v2, ADR 0012):

- ``levels``: anchored levels, each met / not met / not applicable (``met``: true, false, null);
- ``scale``: whole points from ``min`` to ``max``; the points are stored as levels (key ``"3"``,
  an anchor each, ``met`` true for the points that count as met), so every reader of levels
  (rubric form, aggregates, drift, reliability) reads a scale unchanged;
- ``count``: a tally, a whole number from 0 to an optional ``max``; it is never part of "% met"
  (its level is not applicable) and feeds summary scores.

A rating is stored as a level key: the level's key, the point (``"4"``) or the tally (``"12"``).
"""
import math
from collections.abc import Iterable, Mapping
from typing import Any

LEVELS, SCALE, COUNT = "levels", "scale", "count"
KINDS = (LEVELS, SCALE, COUNT)
NUMERIC_KINDS = (SCALE, COUNT)

MEAN, SUM, RATIO, PERCENT = "mean", "sum", "ratio", "percent"
#: Summary operations: ``of`` (mean, sum) or ``numerator`` / ``denominator`` (ratio, percent).
OPERATIONS = (MEAN, SUM, RATIO, PERCENT)
OVER_ONE_LIST = (MEAN, SUM)
HIGHER, LOWER = "higher", "lower"
#: Largest tally a count accepts when its instrument sets no ``max``.
COUNT_CEILING = 100_000
#: Summary scores are kept to this many decimals (so 200 / 5 is 40.0, not 40.00000000000001).
DECIMALS = 6
DEFAULT_LANGUAGE = "en"


def whole_number(value: object) -> int | None:
    """
    ``value`` (an int or a string of ASCII digits, optionally signed) as an int, or None.

    Args:
        value: the input: an int, a whole float, a string of at most 9 digits (optionally signed),
            or anything else (never a whole number; bools included).

    Returns:
        The int, or None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 9:
            return int(text)
    return None


def level_info(kind: str, levels: Iterable[dict[str, Any]], spec: Mapping[str, Any] | None,
               key: str | int | None) -> dict[str, Any] | None:
    """
    The level dict a rating ``key`` stands for in an indicator of ``kind``, or None when invalid.

    Args:
        kind: the indicator's kind (``KINDS``).
        levels: the indicator's levels (``{"key", "label", "anchor", "met"}``).
        spec: the indicator's scale range or count ``max`` (None: none).
        key: the rating: a level key, a scale point or a tally (a string or an int).

    Returns:
        The level (with its ``value`` on a scale or a count: a count's is made up, never met or
        not met), or None when ``key`` is not a rating of this indicator.
    """
    if kind == COUNT:
        tally = whole_number(key)
        ceiling = (spec or {}).get("max")
        if tally is None or tally < 0 or tally > (COUNT_CEILING if ceiling is None else ceiling):
            return None
        return {"key": str(tally), "label": str(tally), "anchor": "", "met": None, "value": tally}
    if kind == SCALE:
        point = whole_number(key)
        key = str(point) if point is not None else key
    level = next((level for level in levels if level.get("key") == key), None)
    if level is not None and kind == SCALE:
        return {**level, "value": int(level["key"])}
    return level


def numeric_value(kind: str, levels: Iterable[dict[str, Any]], spec: Mapping[str, Any] | None,
                  key: str | int | None) -> int | None:
    """
    The number a rating stands for (scales and counts), else None.

    Args:
        kind: the indicator's kind (``KINDS``).
        levels: the indicator's levels.
        spec: the indicator's scale range or count ``max``.
        key: the rating (None or empty: unrated).

    Returns:
        The point or the tally; None for a levels indicator, an unrated or an invalid rating.
    """
    if kind not in NUMERIC_KINDS or key in (None, ""):
        return None
    info = level_info(kind, levels, spec, key)
    return info["value"] if info else None


def summary_inputs(summary: Mapping[str, Any]) -> list[str]:
    """
    Every indicator key a summary reads.

    Args:
        summary: a summary definition (``op`` and ``of``, or ``numerator`` and ``denominator``).

    Returns:
        The keys, each once.
    """
    if summary["op"] in OVER_ONE_LIST:
        return list(summary["of"])
    return list(summary["numerator"]) + [k for k in summary["denominator"] if k not in summary["numerator"]]


def summary_value(summary: Mapping[str, Any], values: Mapping[str, float]) -> float | None:
    """
    One summary score from ``values``.

    Args:
        summary: a summary definition.
        values: indicator key -> number (a key missing or None: unrated).

    Returns:
        The score, rounded to ``DECIMALS``; None when an input is unrated, a ratio's or percent's
        denominator is zero or the result is not finite (the score is undefined, never a crash).
    """
    if any(values.get(key) is None for key in summary_inputs(summary)):
        return None
    op = summary["op"]
    if op in OVER_ONE_LIST:
        total = sum(values[key] for key in summary["of"])
        result = total / len(summary["of"]) if op == MEAN else total
    else:
        numerator = sum(values[key] for key in summary["numerator"])
        denominator = sum(values[key] for key in summary["denominator"])
        if denominator == 0:
            return None
        result = (100 * numerator) / denominator if op == PERCENT else numerator / denominator
    result = round(float(result), DECIMALS)
    return result if math.isfinite(result) else None


def summary_scores(summaries: Iterable[Mapping[str, Any]], values: Mapping[str, float]) -> dict[str, float]:
    """
    The summary scores ``summaries`` compute from ``values``.

    Args:
        summaries: the instrument's summary definitions.
        values: indicator key -> number.

    Returns:
        ``{summary_key: number}`` of every defined summary (undefined ones are left out).
    """
    scores = {}
    for summary in summaries:
        result = summary_value(summary, values)
        if result is not None:
            scores[summary["key"]] = result
    return scores


def proficiency(summary: Mapping[str, Any], score: float | None) -> dict[str, Any] | None:
    """
    The highest proficiency level ``score`` reaches.

    Levels are listed from lowest to highest. With ``better: higher`` a level is reached at or
    above its threshold; with ``better: lower`` at or below it.

    Args:
        summary: a summary definition (its ``levels`` and ``better``).
        score: the summary's score (None: undefined).

    Returns:
        The level (``{"key", "label", "threshold"}``), or None when none is reached.
    """
    if score is None:
        return None
    lower_is_better = summary.get("better") == LOWER
    reached = None
    for level in summary.get("levels", ()):
        if (score <= level["threshold"]) if lower_is_better else (score >= level["threshold"]):
            reached = level
    return reached


def pick_language(translations: Mapping[str, Any] | None, language: str | None) -> str | None:
    """
    The key of ``translations`` that serves ``language`` ("es-419" falls back to "es").

    Args:
        translations: ``{language: texts}`` of an instrument's item.
        language: the reader's language code.

    Returns:
        The language key, or None for the instrument's own (English) text.
    """
    if not language or not translations:
        return None
    language = language.lower()
    for candidate in (language, language.split("-")[0]):
        if candidate in translations:
            return candidate
    return None


def translated(base: str, translations: Mapping[str, Any], language: str | None, field: str) -> str:
    """
    ``base`` text, or its translation in ``language`` when the instrument has one.

    Args:
        base: the instrument's own (English) text.
        translations: ``{language: {field: text}}`` of the item.
        language: the reader's language code.
        field: the text's field (``label``, ``description`` ...).

    Returns:
        The translation, or ``base`` when there is none.
    """
    chosen = pick_language(translations, language)
    if chosen is None:
        return base
    return (translations[chosen] or {}).get(field) or base


def translated_levels(levels: list[dict[str, Any]], translations: Mapping[str, Any],
                      language: str | None) -> list[dict[str, Any]]:
    """
    ``levels`` with labels and anchors in ``language`` where the instrument translates them.

    Args:
        levels: the item's levels (each with its ``key``).
        translations: ``{language: {"levels": {key: {"label", "anchor"}}}}`` of the item.
        language: the reader's language code.

    Returns:
        New level dicts with the translated texts; ``levels`` itself when there is no translation.
    """
    chosen = pick_language(translations, language)
    if chosen is None:
        return levels
    texts = (translations[chosen] or {}).get("levels") or {}
    return [{**level, **{field: text for field, text in (texts.get(level["key"]) or {}).items()
                         if field in ("label", "anchor") and text}} for level in levels]
