"""Drift detection against hand-computed fixtures."""
from datetime import date, timedelta

from miiwrap_fidelity.rules import drift as d

TODAY = date(2026, 6, 1)
RULES = d.DriftRules(window_observations=3, window_days=90, min_observations=2)


def obs(pk, days_ago, percent, **outcomes):
    return d.RatedObservation(pk, TODAY - timedelta(days=days_ago), percent, outcomes)


def test_bands():
    bands = {"high": 85, "adequate": 75, "borderline": 65}
    assert [d.band(p, bands) for p in (85, 84.9, 75, 74.9, 65, 64.9)] == [
        "high", "adequate", "adequate", "borderline", "borderline", "low"]


def test_rolling_uses_the_last_k_within_the_window():
    records = [obs(1, 100, 10.0), obs(2, 50, 90.0), obs(3, 30, 60.0), obs(4, 20, 70.0), obs(5, 10, 80.0)]
    assert d.rolling_score(records, RULES, TODAY) == (70.0, 3)  # (60 + 70 + 80) / 3; #1 out of window, #2 not last 3


def test_not_enough_data_flags_nothing():
    records = [obs(1, 100, 40.0), obs(2, 5, 40.0)]
    assert d.rolling_score(records, RULES, TODAY) == (None, 1)
    assert d.detect(records, RULES, TODAY, certified=True, critical_keys=set()) == []


def test_below_band_only_for_certified_learners():
    records = [obs(1, 30, 70.0), obs(2, 10, 72.0)]
    alerts = d.detect(records, RULES, TODAY, certified=True, critical_keys=set())
    assert alerts == [d.Candidate("below_band", "", {"rolling": 71.0, "n": 2, "band": "borderline", "adequate": 75})]
    assert d.detect(records, RULES, TODAY, certified=False, critical_keys=set()) == []
    fine = [obs(1, 30, 80.0), obs(2, 10, 75.0)]
    assert d.detect(fine, RULES, TODAY, certified=True, critical_keys=set()) == []


def test_not_met_in_two_consecutive_observations():
    records = [obs(1, 40, 90.0, a="not_met", b="met"), obs(2, 30, 90.0, a="met", b="not_met"),
               obs(3, 10, 90.0, a="not_met", b="not_met", c="na")]
    kinds = [(c.kind, c.indicator_key) for c in d.detect(records, RULES, TODAY, False, set())]
    assert kinds == [("not_met_twice", "b")]


def test_critical_not_met_in_latest():
    records = [obs(1, 40, 90.0, a="not_met"), obs(2, 10, 90.0, a="met", crit="not_met")]
    alerts = d.detect(records, RULES, TODAY, False, {"crit", "a"})
    assert [(c.kind, c.indicator_key) for c in alerts] == [("critical_not_met", "crit")]


def test_indicator_rates_exclude_not_applicable():
    records = [obs(1, 30, 90.0, a="met", b="na"), obs(2, 20, 90.0, a="not_met", b="na"), obs(3, 10, 90.0, a="met")]
    assert d.indicator_rates(records, RULES, TODAY) == {"a": (66.7, 3)}
