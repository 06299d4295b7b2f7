"""
Inter-rater reliability: percent agreement and Cohen's kappa between two ratings of the same
practice sessions, with the number of items behind each figure.

Pure functions. An item is one indicator in one co-rated session, rated with a level key by each
rater. Not-applicable is handled explicitly: an item that either rater marked not applicable says
nothing about agreement on the behaviour, so it is left out and counted in ``na_excluded``.
"""
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import competency


@dataclass(frozen=True)
class Agreement:
    n: int  # items compared
    agreed: int
    na_excluded: int
    kappa: float | None  # None when undefined (fewer than 2 items, or chance agreement is total)

    @property
    def percent(self) -> float | None:
        """Percent of the compared items the raters agreed on (None when none were compared)."""
        return competency.percent(self.agreed, self.n)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """
    Cohen's kappa of ``[(level_a, level_b)]``.

    Args:
        pairs: one ``(rating of a, rating of b)`` per item.

    Returns:
        The kappa; None when it is undefined (fewer than 2 pairs, or chance agreement is total).
    """
    n = len(pairs)
    if n < 2:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement(items: Sequence[tuple[str, str, bool, bool]]) -> Agreement:
    """
    Agreement between two raters over ``items``.

    Args:
        items: ``[(level_a, level_b, not_applicable_a, not_applicable_b)]`` (``session_items``).

    Returns:
        The items compared, agreed on and excluded (either rater marked them not applicable), and
        the kappa.
    """
    pairs = [(a, b) for a, b, na_a, na_b in items if not (na_a or na_b)]
    return Agreement(n=len(pairs), agreed=sum(1 for a, b in pairs if a == b),
                     na_excluded=len(items) - len(pairs), kappa=cohen_kappa(pairs))


def session_items(ratings_a: Mapping[str, str], ratings_b: Mapping[str, str],
                  indicators: Iterable[Any]) -> list[tuple[str, str, bool, bool]]:
    """
    The comparable items of one co-rated session; an indicator rated by only one of the two is not
    comparable and left out, and so are counts (``indicator_agreement`` compares those).

    Args:
        ratings_a: indicator key -> level key, of one rater.
        ratings_b: the same, of the other.
        indicators: the rubric's indicators (rows or ``IndicatorData``: ``key``, ``kind``, ``level``).

    Returns:
        ``[(level_a, level_b, not_applicable_a, not_applicable_b)]`` in ``indicators``' order.
    """
    items = []
    for indicator in indicators:
        if getattr(indicator, "kind", "levels") == "count":
            continue  # a tally is compared by its ICC, not by exact agreement (``indicator_agreement``)
        level_a, level_b = ratings_a.get(indicator.key), ratings_b.get(indicator.key)
        if not level_a or not level_b:
            continue
        info_a, info_b = indicator.level(level_a) or {}, indicator.level(level_b) or {}
        items.append((level_a, level_b, info_a.get("met", False) is None, info_b.get("met", False) is None))
    return items


def leniency(own_percents: Sequence[float], co_rater_percents: Sequence[float]) -> float | None:
    """
    Mean of a coach's session scores minus the mean of their co-raters' on the same sessions.

    Args:
        own_percents: the coach's score of each co-rated session.
        co_rater_percents: the co-raters' scores of the same sessions, in the same order.

    Returns:
        The difference, rounded to 0.1; None without sessions or when the two lists differ in length.
    """
    if not own_percents or len(own_percents) != len(co_rater_percents):
        return None
    return round(sum(own_percents) / len(own_percents) - sum(co_rater_percents) / len(co_rater_percents), 1)


# --- the new indicator kinds (ADR 0012) ------------------------------------------------------------
#
# Certification reads "% met", so agreement on the met / not-met collapse is reported for levels and
# scales alike. Ordinal levels also get Cohen's weighted kappa (linear weights: one step apart is
# half as bad as two on a three-level scale). Scales and counts get the intraclass correlation
# ICC(2,1): two-way random effects (the co-raters are a sample of the agency's observers, not fixed
# people), absolute agreement (a coach who scores everyone one point higher moves learners across
# absolute thresholds, which a consistency form such as ICC(3,1) would not see), single rater
# (one coach's rating is what counts for a learner). Shrout & Fleiss (1979), McGraw & Wong (1996).

LINEAR, QUADRATIC = "linear", "quadratic"
ICC_FORM = "ICC(2,1)"


def weighted_kappa(pairs: Sequence[tuple[Hashable, Hashable]], categories: Sequence[Hashable],
                   weights: str = LINEAR) -> float | None:
    """
    Cohen's weighted kappa of ``[(a, b)]`` over the ordered ``categories``.

    Args:
        pairs: one ``(rating of a, rating of b)`` per item, each one of ``categories``.
        categories: the ratings in order (lowest first).
        weights: ``LINEAR`` or ``QUADRATIC`` weights of the distance between two ratings.

    Returns:
        The weighted kappa; None when undefined (fewer than 2 pairs, or no disagreement is possible
        by chance).
    """
    n = len(pairs)
    if n < 2:
        return None
    index = {category: position for position, category in enumerate(categories)}
    size = len(categories)
    observed = [[0] * size for _ in range(size)]
    for a, b in pairs:
        observed[index[a]][index[b]] += 1
    rows = [sum(observed[i]) for i in range(size)]
    columns = [sum(observed[i][j] for i in range(size)) for j in range(size)]
    power = 1 if weights == LINEAR else 2
    disagreement = chance = 0.0
    for i in range(size):
        for j in range(size):
            weight = abs(i - j) ** power
            disagreement += weight * observed[i][j]
            chance += weight * rows[i] * columns[j] / n
    if chance == 0:
        return None
    return 1 - disagreement / chance


def icc_2_1(rows: Sequence[Sequence[float]]) -> float | None:
    """
    ICC(2,1): two-way random effects, absolute agreement, single rater.

    Args:
        rows: one row per rated target, one column per rater, all numbers.

    Returns:
        The ICC; None when undefined (fewer than 2 targets or 2 raters, rows of different lengths,
        or no variance at all).
    """
    n = len(rows)
    k = len(rows[0]) if rows else 0
    if n < 2 or k < 2 or any(len(row) != k for row in rows):
        return None
    grand = sum(map(sum, rows)) / (n * k)
    row_means = [sum(row) / k for row in rows]
    column_means = [sum(row[j] for row in rows) / n for j in range(k)]
    ss_rows = k * sum((mean - grand) ** 2 for mean in row_means)
    ss_columns = n * sum((mean - grand) ** 2 for mean in column_means)
    ss_total = sum((value - grand) ** 2 for row in rows for value in row)
    ms_rows = ss_rows / (n - 1)
    ms_columns = ss_columns / (k - 1)
    ms_error = (ss_total - ss_rows - ss_columns) / ((n - 1) * (k - 1))
    denominator = ms_rows + (k - 1) * ms_error + k * (ms_columns - ms_error) / n
    if denominator <= 0:
        return None
    return (ms_rows - ms_error) / denominator


@dataclass(frozen=True)
class KindAgreement:
    """Agreement on one indicator over co-rated sessions, by the statistic its kind calls for."""

    key: str
    label: str
    kind: str
    n: int  # sessions compared (both raters rated it, neither marked it not applicable)
    statistic: str  # "weighted_kappa" (ordinal levels) or "icc" (scales and counts)
    form: str  # "linear" for the weighted kappa, "ICC(2,1)" for the ICC
    value: float | None
    met_kappa: float | None  # kappa on the met / not-met collapse; None for counts


def _ordinal(indicator: Any) -> list[str]:
    """The ordered level keys of a levels indicator (not-applicable levels are not on the scale)."""
    return [level["key"] for level in indicator.levels if level.get("met") is not None]


def indicator_agreement(indicator: Any, pairs: Iterable[tuple[str | None, str | None]],
                        label: str | None = None) -> KindAgreement:
    """
    Agreement on one indicator by the statistic its kind calls for; pairs with a missing, unknown or
    not-applicable rating are left out.

    Args:
        indicator: the indicator (a row or ``IndicatorData``: ``key``, ``label``, ``kind``, ``levels``,
            ``level``).
        pairs: ``(level key of a, level key of b)``, one per co-rated session (None or "": unrated).
        label: the indicator's label as shown (default: its own).

    Returns:
        The ``KindAgreement``: a linear weighted kappa for levels, the ICC(2,1) for scales and
        counts, and the kappa on met / not met (not for counts), rounded to 3 decimals.
    """
    kind = getattr(indicator, "kind", "levels")
    usable = []
    for a, b in pairs:
        info_a, info_b = indicator.level(a) if a else None, indicator.level(b) if b else None
        if info_a is None or info_b is None or (kind != "count" and (info_a.get("met") is None
                                                                  or info_b.get("met") is None)):
            continue
        usable.append((info_a, info_b))
    met = None if kind == "count" else cohen_kappa([(a["met"], b["met"]) for a, b in usable])
    if kind == "levels":
        value = weighted_kappa([(a["key"], b["key"]) for a, b in usable], _ordinal(indicator))
        statistic, form = "weighted_kappa", LINEAR
    else:
        value = icc_2_1([[a["value"], b["value"]] for a, b in usable])
        statistic, form = "icc", ICC_FORM
    return KindAgreement(indicator.key, label or indicator.label, kind, len(usable), statistic, form,
                         None if value is None else round(value, 3), None if met is None else round(met, 3))
