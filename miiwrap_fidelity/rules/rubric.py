"""
Reading a rubric's ratings from user input: one set of rules for the XBlock, the workspace and the API.

Ratings arrive as ``{indicator_key: {"level": ..., "strength": ..., "next_step": ...}}``; HTML
forms post them as ``rating-<key>``, ``strength-<key>`` and ``next_step-<key>`` fields. On a scale
the level is the point (``"4"`` or 4), on a count the tally (``"12"`` or 12): ``rating_scales``.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import rating_scales as rating_values
from .errors import ValidationError
from .validation import clean_text, collect

MAX_FEEDBACK_CHARS = 2000


@dataclass(frozen=True)
class CleanRating:
    indicator: Any  # an Indicator row (its ``level`` method)
    level: str
    strength: str
    next_step: str

    @property
    def met(self) -> bool | None:
        """Whether the level counts as met (None: not applicable, or a count); for a rating with a level."""
        return self.indicator.level(self.level).get("met")


def ratings_from_form(data: Mapping[str, Any], indicators: Iterable[Any]) -> dict[str, dict[str, str]]:
    """
    Collect ``rating-<key>`` style form fields into the ratings mapping.

    Args:
        data: the posted form (``rating-<key>``, ``strength-<key>``, ``next_step-<key>``).
        indicators: the rubric's indicators (rows or ``IndicatorData``: their ``key``).

    Returns:
        ``{key: {"level", "strength", "next_step"}}``, stripped, for the indicators with any of the
        three filled in.
    """
    ratings = {}
    for indicator in indicators:
        level = (data.get(f"rating-{indicator.key}") or "").strip()
        strength = (data.get(f"strength-{indicator.key}") or "").strip()
        next_step = (data.get(f"next_step-{indicator.key}") or "").strip()
        if level or strength or next_step:
            ratings[indicator.key] = {"level": level, "strength": strength, "next_step": next_step}
    return ratings


def form_rows(indicators: Iterable[Any], data: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """
    Rows for rendering the rubric form, keeping what the user already entered (after an error).

    Args:
        indicators: the rubric's indicators, in order.
        data: the posted form, if any.

    Returns:
        ``[{"indicator", "selected", "strength", "next_step"}]``, one per indicator.
    """
    data = data or {}
    return [
        {
            "indicator": indicator,
            "selected": data.get(f"rating-{indicator.key}", ""),
            "strength": data.get(f"strength-{indicator.key}", ""),
            "next_step": data.get(f"next_step-{indicator.key}", ""),
        }
        for indicator in indicators
    ]


def clean_ratings(indicators: Iterable[Any], raw: object, require_all: bool) -> dict[str, CleanRating]:
    """
    Validate ``raw`` ratings against ``indicators``.

    Args:
        indicators: the rubric's indicators (rows or ``IndicatorData``: their ``key`` and ``level``).
        raw: ``{indicator_key: {"level", "strength", "next_step"}}`` as sent (None: no ratings).
        require_all: demand a level for every indicator (submission); drafts may be partial.

    Returns:
        ``{key: CleanRating}`` of the indicators with a level or feedback (levels canonical: "04"
        is "4" on a scale).

    Raises:
        ValidationError: one message per offending field (``ratings.<key>.<part>``).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"ratings": [_("Ratings must be an object keyed by indicator.")]})
    by_key = {indicator.key: indicator for indicator in indicators}
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in by_key:
            errors[f"ratings.{key}"] = [_("Unknown indicator for this rubric.")]
    clean = {}
    for key, indicator in by_key.items():
        entry = raw.get(key)
        if entry is None:
            if require_all:
                errors[f"ratings.{key}.level"] = [_("Rate every indicator before submitting.")]
            continue
        if not isinstance(entry, dict):
            errors[f"ratings.{key}"] = [_("Must be an object with level, strength and next_step.")]
            continue
        level = entry.get("level")
        level = "" if level is None else str(level) if isinstance(level, int) and not isinstance(level, bool) else level
        info = indicator.level(level) if isinstance(level, str) and level else None
        if not isinstance(level, str) or (level and info is None):
            errors[f"ratings.{key}.level"] = [invalid_level_message(indicator)]
            continue
        level = info["key"] if info else ""  # the canonical key ("04" -> "4" on a scale)
        strength = collect(errors, clean_text, entry.get("strength"), f"ratings.{key}.strength",
                           MAX_FEEDBACK_CHARS) or ""
        next_step = collect(errors, clean_text, entry.get("next_step"), f"ratings.{key}.next_step",
                            MAX_FEEDBACK_CHARS) or ""
        if not level:
            if require_all:
                errors[f"ratings.{key}.level"] = [_("Rate every indicator before submitting.")]
            if not (strength or next_step):
                continue
        clean[key] = CleanRating(indicator, level, strength, next_step)
    if errors:
        raise ValidationError(errors)
    return clean


def invalid_level_message(indicator: Any) -> str:
    """
    What to tell the rater whose value the indicator does not accept, naming the indicator.

    Args:
        indicator: the indicator (a row or ``IndicatorData``: its ``label``, ``kind``, ``spec``,
            ``translations``).

    Returns:
        The message in the active language (the label in it too, where the instrument translates it).
    """
    kind = getattr(indicator, "kind", rating_values.LEVELS)
    label = rating_values.translated(indicator.label, getattr(indicator, "translations", None) or {},
                                     get_language(), "label")
    if kind == rating_values.SCALE:
        return _("%(indicator)s: choose a whole point from %(min)s to %(max)s.") % {
            "indicator": label, "min": indicator.spec["min"], "max": indicator.spec["max"]}
    if kind == rating_values.COUNT:
        ceiling = (indicator.spec or {}).get("max")
        if ceiling is None:
            return _("%(indicator)s: enter a whole number, 0 or more.") % {"indicator": label}
        return _("%(indicator)s: enter a whole number from 0 to %(max)s.") % {"indicator": label, "max": ceiling}
    return _("Choose one of the levels of this indicator.")


def numeric_values(clean_ratings_by_key: Mapping[str, CleanRating]) -> dict[str, int]:
    """
    The numbers of the scale and count ratings (what summary scores read).

    Args:
        clean_ratings_by_key: ``clean_ratings``' result.

    Returns:
        ``{indicator_key: number}`` (levels indicators and unrated ones left out).
    """
    values = {}
    for key, rating in clean_ratings_by_key.items():
        indicator = rating.indicator
        value = rating_values.numeric_value(getattr(indicator, "kind", rating_values.LEVELS), indicator.levels,
                                            getattr(indicator, "spec", None), rating.level)
        if value is not None:
            values[key] = value
    return values


def summary_scores(summaries: Iterable[Mapping[str, Any]] | None,
                   clean_ratings_by_key: Mapping[str, CleanRating]) -> dict[str, float]:
    """
    The summary scores an instrument's ``summaries`` compute from the ratings.

    Args:
        summaries: the instrument version's summary definitions (None: none).
        clean_ratings_by_key: ``clean_ratings``' result.

    Returns:
        ``{summary_key: number}`` of the defined scores (``rating_scales.summary_scores``).
    """
    return rating_values.summary_scores(summaries or (), numeric_values(clean_ratings_by_key))


def score(clean_ratings_by_key: Mapping[str, CleanRating]) -> tuple[int, int, list[str]]:
    """
    The score of a complete set of ratings.

    Args:
        clean_ratings_by_key: ``clean_ratings``' result.

    Returns:
        ``(met, applicable, critical_missed_keys)``: the indicators met, those applicable, and the
        sorted keys of the essential indicators not met.
    """
    met = applicable = 0
    critical_missed = []
    for key, rating in clean_ratings_by_key.items():
        outcome = rating.met
        if outcome is None:
            continue
        applicable += 1
        if outcome:
            met += 1
        elif rating.indicator.critical:
            critical_missed.append(key)
    return met, applicable, sorted(critical_missed)
