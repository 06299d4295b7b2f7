"""
The coaching loop's rules (issue 31, ADR 0027): which indicators a plan after an observation
suggests as its focus, how the next observation follows a focus up, and the loop-closure figures a
leader reads. Pure: no Django, no records; the api gives it ratings as plain values.

A rating's *standing* is where it sits on its indicator's scale, from 0 (the lowest) to 1 (the
highest): for levels, by their order in the instrument (listed best first, "not applicable" left
out); for a scale, by its points. A behaviour count has no standing (more is not better in general),
nor has an unrated or not-applicable indicator.
"""
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .rating_scales import COUNT, LEVELS, SCALE, level_info

#: A plan's focus: one or two indicators (issue 31: "without overwhelming staff").
MAX_FOCUS = 2
#: What a follow-up records for a focus indicator.
IMPROVED, HELD, SLIPPED = "improved", "held", "slipped"
OUTCOMES = (IMPROVED, HELD, SLIPPED)
#: The fewest plans a leader figure is shown for (as every figure: development, not discipline).
MIN_CELL = 5


@dataclass(frozen=True)
class Rated:
    """One indicator's rating in an observation, as the loop reads it."""

    key: str
    kind: str  # ``rating_scales.LEVELS``, ``SCALE`` or ``COUNT``
    levels: tuple  # the indicator's levels (dicts), best first
    spec: Mapping[str, Any] | None
    rating: str | None  # the level key, the scale point or the tally ("" or None: unrated)
    essential: bool = False
    position: int = 0  # the indicator's place in the rubric


def rated(indicator: Any, level: str | None) -> Rated | None:
    """
    A rating as the loop reads it, from an indicator (anything with the ``Indicator`` fields
    ``key``, ``kind``, ``levels``, ``spec``, ``critical``, ``position``) and the level given.

    Args:
        indicator: the indicator.
        level: its rating (None: not rated).

    Returns:
        The rating; None when not rated.
    """
    if level is None:
        return None
    return Rated(indicator.key, indicator.kind, tuple(indicator.levels or ()), indicator.spec, level,
                 bool(indicator.critical), indicator.position)


def standing(rated: Rated) -> float | None:
    """
    Where a rating sits on its indicator's scale, 0 (lowest) to 1 (highest).

    Args:
        rated: the rating.

    Returns:
        The standing; None for a count, an unrated or not-applicable indicator, or an invalid rating.
    """
    if rated.kind == COUNT or rated.rating in (None, ""):
        return None
    info = level_info(rated.kind, rated.levels, rated.spec, rated.rating)
    if info is None:
        return None
    if rated.kind == SCALE:
        points = [int(level["key"]) for level in rated.levels]
        low = int((rated.spec or {}).get("min", min(points)))
        high = int((rated.spec or {}).get("max", max(points)))
        return 1.0 if high == low else (int(info["value"]) - low) / (high - low)
    if info.get("met") is None and rated.kind == LEVELS:
        return None  # not applicable
    ranked = [level["key"] for level in rated.levels if level.get("met") is not None]
    if len(ranked) < 2:
        return 1.0
    return 1 - ranked.index(info["key"]) / (len(ranked) - 1)


def missed_essential(rated: Rated) -> bool:
    """Whether ``rated`` is an essential indicator rated as not met."""
    if not rated.essential or rated.kind == COUNT or rated.rating in (None, ""):
        return False
    info = level_info(rated.kind, rated.levels, rated.spec, rated.rating)
    return info is not None and info.get("met") is False


def suggested_focus(ratings: Iterable[Rated], limit: int = MAX_FOCUS) -> list[str]:
    """
    The indicators a plan after this observation suggests: missed essential indicators first, then
    the lowest-rated, each group in rubric order; never one rated at the top of its scale, a count,
    or one not rated.

    Args:
        ratings: the observation's ratings.
        limit: how many to suggest (``MAX_FOCUS``).

    Returns:
        Up to ``limit`` indicator keys.
    """
    ratings = [rated for rated in ratings if standing(rated) is not None]
    missed = sorted((rated for rated in ratings if missed_essential(rated)), key=lambda rated: rated.position)
    rest = sorted((rated for rated in ratings if not missed_essential(rated) and (standing(rated) or 0) < 1),
                  key=lambda rated: (standing(rated), rated.position))
    return [rated.key for rated in missed + rest][:limit]


def follow_up(before: Rated | None, after: Rated | None) -> str | None:
    """
    What the next observation says of a focus indicator: improved, held or slipped.

    Args:
        before: its rating in the observation the plan was made after (None: not rated there).
        after: its rating in the next observation (None: not rated there).

    Returns:
        ``IMPROVED``, ``HELD`` or ``SLIPPED``; None when either has no standing (not rated, not
        applicable, a count): the coach says, or the focus waits for another observation.
    """
    was, now = (standing(before) if before else None), (standing(after) if after else None)
    if was is None or now is None:
        return None
    if abs(now - was) < 1e-9:
        return HELD
    return IMPROVED if now > was else SLIPPED


@dataclass(frozen=True)
class LoopRecord:
    """A plan as the leader figures read it (no learner named)."""

    coach_id: int
    planned_on: date
    followed_up_on: date | None  # the next observation's practice date, None while none
    outcomes: tuple = ()  # the focus indicators' outcomes at the follow-up (``OUTCOMES`` or None)


@dataclass(frozen=True)
class LoopFigures:
    """Loop closure, each figure only over ``MIN_CELL`` or more plans (else None)."""

    plans: int
    followed_up_share: float | None  # of plans with a later observation, those followed up (percent)
    improved_share: float | None  # of focus indicators followed up, those that improved (percent)
    median_days_by_coach: tuple = ()  # ``(coach_id, median days plan -> follow-up)``, coaches with MIN_CELL+


def loop_figures(records: Iterable[LoopRecord]) -> LoopFigures:
    """
    The course's loop-closure figures for leaders: how often a plan was followed up, how often a
    focus improved, and per coach the median days from a plan to its follow-up. A figure over fewer
    than ``MIN_CELL`` plans (or outcomes) is not given; no learner is ranked.

    Args:
        records: the course's plans (read once: a generator keeps memory flat).

    Returns:
        The figures.
    """
    plans = followed = known = improved = 0
    days: dict[int, list[int]] = {}
    for record in records:
        plans += 1
        if record.followed_up_on is None:
            continue
        followed += 1
        days.setdefault(record.coach_id, []).append((record.followed_up_on - record.planned_on).days)
        given = [outcome for outcome in record.outcomes if outcome is not None]
        known += len(given)
        improved += sum(1 for outcome in given if outcome == IMPROVED)
    return LoopFigures(
        plans=plans,
        followed_up_share=_share(followed, plans),
        improved_share=_share(improved, known),
        median_days_by_coach=tuple(sorted((coach, float(statistics.median(values)))
                                          for coach, values in days.items() if len(values) >= MIN_CELL)))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole >= MIN_CELL else None
