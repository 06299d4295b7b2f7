"""
Inter-rater reliability: percent agreement and Cohen's kappa between two ratings of the same
practice sessions, with the number of items behind each figure.

Pure functions. An item is one indicator in one co-rated session, rated with a level key by each
rater. Not-applicable is handled explicitly: an item that either rater marked not applicable says
nothing about agreement on the behaviour, so it is left out and counted in ``na_excluded``.
"""
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Agreement:
    n: int  # items compared
    agreed: int
    na_excluded: int
    kappa: float | None  # None when undefined (fewer than 2 items, or chance agreement is total)

    @property
    def percent(self):
        return round(100.0 * self.agreed / self.n, 1) if self.n else None


def cohen_kappa(pairs):
    """Cohen's kappa of ``[(level_a, level_b)]``; None when it is undefined."""
    n = len(pairs)
    if n < 2:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement(items):
    """
    ``items``: ``[(level_a, level_b, not_applicable_a, not_applicable_b)]``.
    Items either rater marked not applicable are excluded (and counted).
    """
    pairs = [(a, b) for a, b, na_a, na_b in items if not (na_a or na_b)]
    return Agreement(n=len(pairs), agreed=sum(1 for a, b in pairs if a == b),
                     na_excluded=len(items) - len(pairs), kappa=cohen_kappa(pairs))


def session_items(ratings_a, ratings_b, indicators):
    """
    The comparable items of one co-rated session: ``ratings_*`` map indicator key to level key;
    an indicator rated by only one of the two is not comparable and left out.
    """
    items = []
    for indicator in indicators:
        level_a, level_b = ratings_a.get(indicator.key), ratings_b.get(indicator.key)
        if not level_a or not level_b:
            continue
        info_a, info_b = indicator.level(level_a) or {}, indicator.level(level_b) or {}
        items.append((level_a, level_b, info_a.get("met", False) is None, info_b.get("met", False) is None))
    return items


def leniency(own_percents, co_rater_percents):
    """Mean of a coach's session scores minus the mean of their co-raters' on the same sessions."""
    if not own_percents or len(own_percents) != len(co_rater_percents):
        return None
    return round(sum(own_percents) / len(own_percents) - sum(co_rater_percents) / len(co_rater_percents), 1)
