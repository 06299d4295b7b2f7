"""
Drift detection: early signs, from observation records, that practice is moving away from fidelity.

Pure functions over a learner's submitted observations (oldest first). Alerts are for development:
each one is a prompt for the coach and the learner to plan a next step together.
"""
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import competency

BAND_ORDER = ("high", "adequate", "borderline", "low")
#: ``detect`` reads the indicator outcomes of a learner's latest this many observations only (the
#: rolling score uses each observation's percent), so loaders need not read older ratings.
OUTCOMES_USED = 2
MET, NOT_MET, NOT_APPLICABLE = "met", "not_met", "na"


@dataclass(frozen=True)
class DriftRules:
    window_observations: int = 3
    window_days: int = 120
    min_observations: int = 2
    bands: dict[str, float] = field(default_factory=lambda: {"high": 85, "adequate": 75, "borderline": 65})


@dataclass(frozen=True)
class RatedObservation:
    id: int
    practice_date: date
    percent: float | None
    outcomes: dict[str, str]  # indicator key -> "met" | "not_met" | "na"


@dataclass(frozen=True)
class Candidate:
    kind: str
    indicator_key: str
    details: dict[str, object]


def band(percent: float, bands: Mapping[str, float]) -> str:
    """
    The band a score falls in: high, adequate, borderline or low.

    Args:
        percent: the score.
        bands: the lowest score of each band but the last (``{"high", "adequate", "borderline"}``).

    Returns:
        The band's name (``BAND_ORDER``).
    """
    for name in BAND_ORDER[:-1]:
        if percent >= bands[name]:
            return name
    return "low"


def window(observations: Sequence[RatedObservation], rules: DriftRules, today: date) -> list[RatedObservation]:
    """
    The observations the rolling figures use: within the days window, at most the last K.

    Args:
        observations: the learner's submitted observations, oldest first.
        rules: the window (``window_days``, ``window_observations``).
        today: the window's last day.

    Returns:
        The latest ``rules.window_observations`` of those practised within ``rules.window_days`` of
        ``today``, oldest first.
    """
    start = today - timedelta(days=rules.window_days)
    recent = [obs for obs in observations if start <= obs.practice_date <= today]
    return recent[-rules.window_observations:]


def rolling_score(observations: Sequence[RatedObservation], rules: DriftRules,
                  today: date) -> tuple[float | None, int]:
    """
    The rolling score over the window (``window``).

    Args:
        observations: the learner's submitted observations, oldest first.
        rules: the window and its minimum of observations.
        today: the window's last day.

    Returns:
        ``(mean percent, n)`` of the scored observations in the window; the mean is None when n is
        under the minimum ("not enough data").
    """
    scored = [obs.percent for obs in window(observations, rules, today) if obs.percent is not None]
    if len(scored) < rules.min_observations:
        return None, len(scored)
    return round(sum(scored) / len(scored), 1), len(scored)


def indicator_rates(observations: Sequence[RatedObservation], rules: DriftRules,
                    today: date) -> dict[str, tuple[float | None, int]]:
    """
    Per indicator: ``(percent met, n applicable)`` over the window.

    Args:
        observations: the learner's submitted observations, oldest first.
        rules: the window and its minimum of observations.
        today: the window's last day.

    Returns:
        ``{indicator key: (percent met, n applicable)}``; the percent is None when n is under the
        minimum.
    """
    counts: dict[str, tuple[int, int]] = {}
    for obs in window(observations, rules, today):
        for key, outcome in obs.outcomes.items():
            if outcome == NOT_APPLICABLE:
                continue
            met, n = counts.get(key, (0, 0))
            counts[key] = (met + (outcome == MET), n + 1)
    return {key: (competency.percent(met, n) if n >= rules.min_observations else None, n)
            for key, (met, n) in counts.items()}


def detect(observations: Sequence[RatedObservation], rules: DriftRules, today: date, certified: bool,
           critical_keys: Iterable[str]) -> list[Candidate]:
    """
    The alerts the records call for now (the caller keeps them in step with stored ones).

    Args:
        observations: the learner's submitted observations, oldest first (the latest
            ``OUTCOMES_USED`` with their indicator outcomes).
        rules: the window, its minimum and the bands.
        today: the window's last day.
        certified: whether the learner is certified (only then is a rolling score below the
            adequate band an alert).
        critical_keys: the keys of the essential indicators.

    Returns:
        The alerts: ``below_band``, ``not_met_twice`` (an indicator not met in the latest two) and
        ``critical_not_met`` (an essential indicator not met in the latest).
    """
    candidates: list[Candidate] = []
    mean, n = rolling_score(observations, rules, today)
    if certified and mean is not None and mean < rules.bands["adequate"]:
        candidates.append(Candidate("below_band", "", {"rolling": mean, "n": n, "band": band(mean, rules.bands),
                                                       "adequate": rules.bands["adequate"]}))
    if len(observations) >= 2:
        previous, latest = observations[-2], observations[-1]
        for key, outcome in sorted(latest.outcomes.items()):
            if outcome == NOT_MET and previous.outcomes.get(key) == NOT_MET:
                candidates.append(Candidate("not_met_twice", key, {
                    "dates": [previous.practice_date.isoformat(), latest.practice_date.isoformat()]}))
    if observations:
        latest = observations[-1]
        for key in sorted(critical_keys):
            if latest.outcomes.get(key) == NOT_MET:
                candidates.append(Candidate("critical_not_met", key, {"date": latest.practice_date.isoformat()}))
    return candidates

