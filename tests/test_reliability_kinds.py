"""
Inter-rater reliability for the new indicator kinds, checked against independent libraries:
weighted kappa and the met / not-met kappa against scikit-learn's ``cohen_kappa_score``, ICC(2,1)
against pingouin's ``intraclass_corr`` and the published Shrout & Fleiss (1979) example.
"""
import random
from datetime import timedelta

import pandas
import pingouin
import pytest
from django.urls import reverse
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from miiwrap_fidelity import api
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.rules import reliability as r
from miiwrap_fidelity.rules.data import IndicatorData

from conftest import COURSE, assign_coach, one_set

LEVELS = ["met", "partly", "absent"]
# pingouin 0.7 calls a pandas API that pandas 3.1 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
@pytest.mark.parametrize("seed", range(6))
def test_weighted_kappa_matches_scikit_learn(seed, weights):
    rng = random.Random(seed)
    a = [rng.choice(LEVELS) for _ in range(50)]
    b = [x if rng.random() < 0.5 else rng.choice(LEVELS) for x in a]
    expected = cohen_kappa_score(a, b, labels=LEVELS, weights=weights)
    assert r.weighted_kappa(list(zip(a, b)), LEVELS, weights) == pytest.approx(expected)


def test_weighted_kappa_orders_levels_as_listed():
    # One step apart (met/partly) costs less than two (met/absent): linear weights see it, plain kappa does not.
    near = [("met", "met"), ("partly", "partly"), ("absent", "absent"), ("met", "partly")] * 5
    far = [("met", "met"), ("partly", "partly"), ("absent", "absent"), ("met", "absent")] * 5
    assert r.cohen_kappa(near) == pytest.approx(r.cohen_kappa(far))
    assert r.weighted_kappa(near, LEVELS) > r.weighted_kappa(far, LEVELS)
    assert r.weighted_kappa([("met", "met")], LEVELS) is None
    assert r.weighted_kappa([("met", "met")] * 4, LEVELS) is None, "no chance disagreement: undefined"


def test_shrout_fleiss_published_example():
    # Shrout & Fleiss (1979), Table 2: six targets, four judges; ICC(2,1) = .29.
    rows = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert round(r.icc_2_1(rows), 2) == 0.29


def _pingouin_icc2(rows):
    frame = pandas.DataFrame([(target, rater, value) for target, row in enumerate(rows)
                              for rater, value in enumerate(row)], columns=["target", "rater", "score"])
    table = pingouin.intraclass_corr(frame, targets="target", raters="rater", ratings="score")
    # pingouin names the forms after McGraw & Wong: ICC(A,1) is Shrout & Fleiss's ICC(2,1).
    return float(table.set_index("Type").loc["ICC(A,1)", "ICC"])


@pytest.mark.parametrize("raters", [2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_icc_matches_pingouin_for_scales_and_counts(seed, raters):
    rng = random.Random(seed)
    scale = [[min(5, max(1, truth + rng.choice([-1, 0, 0, 1]) + (1 if rater == 1 else 0)))
              for rater in range(raters)] for truth in (rng.randint(1, 5) for _ in range(25))]
    counts = [[max(0, truth + rng.randint(-3, 3)) for _ in range(raters)]
              for truth in (rng.randint(0, 30) for _ in range(25))]
    for rows in (scale, counts):
        assert r.icc_2_1(rows) == pytest.approx(_pingouin_icc2(rows))


def test_icc_is_absolute_agreement():
    # A rater one point above the other on every session agrees perfectly in consistency, not in
    # absolute terms: ICC(2,1) is below 1, which is what a certification threshold needs to see.
    rows = [[value, value + 1] for value in (1, 2, 3, 4, 2, 3)]
    assert r.icc_2_1(rows) < 0.9 and r.icc_2_1([[v, v] for v in (1, 2, 3, 4)]) == pytest.approx(1.0)
    assert r.icc_2_1([[3, 3]]) is None and r.icc_2_1([[2, 2], [2, 2]]) is None


def _indicator(kind, levels=(), spec=None):
    return IndicatorData("x", "D", "X", "", False, list(levels), kind=kind, spec=spec or {})


def test_indicator_agreement_by_kind():
    levels = _indicator("levels", [{"key": k, "label": k, "anchor": "", "met": m}
                                   for k, m in (("met", True), ("partly", False), ("absent", False), ("na", None))])
    pairs = [("met", "met"), ("partly", "absent"), ("absent", "absent"), ("met", "partly"), ("na", "met"),
             ("partly", "partly"), ("", "met")]
    result = r.indicator_agreement(levels, pairs)
    usable = [p for p in pairs if "na" not in p and "" not in p]
    assert (result.n, result.statistic, result.form) == (5, "weighted_kappa", "linear")
    assert result.value == pytest.approx(round(cohen_kappa_score(*zip(*usable), labels=LEVELS, weights="linear"), 3))
    collapsed = [(a == "met", b == "met") for a, b in usable]
    assert result.met_kappa == pytest.approx(round(cohen_kappa_score(*zip(*collapsed)), 3))

    scale = _indicator("scale", [{"key": str(p), "label": str(p), "anchor": "", "met": p >= 4} for p in range(1, 6)],
                       {"min": 1, "max": 5})
    pairs = [("1", "2"), ("4", "4"), ("5", "4"), ("3", "3"), ("2", "1"), ("9", "3")]
    result = r.indicator_agreement(scale, pairs)
    assert (result.n, result.statistic, result.form) == (5, "icc", "ICC(2,1)")
    assert result.value == pytest.approx(round(_pingouin_icc2([[1, 2], [4, 4], [5, 4], [3, 3], [2, 1]]), 3))
    assert result.met_kappa == pytest.approx(round(cohen_kappa_score(
        [False, True, True, False, False], [False, True, True, False, False]), 3))

    count = _indicator("count", spec={"max": 50})
    result = r.indicator_agreement(count, [("3", "4"), ("10", "8"), ("0", "1"), ("7", "7"), ("60", "2")])
    assert (result.n, result.statistic, result.met_kappa) == (4, "icc", None)
    assert result.value == pytest.approx(round(_pingouin_icc2([[3, 4], [10, 8], [0, 1], [7, 7]]), 3))


def test_counts_stay_out_of_exact_agreement():
    count = _indicator("count")
    assert r.session_items({"x": "3"}, {"x": "3"}, [count]) == []


@pytest.mark.django_db
def test_reliability_page_reports_each_kind(lead, coach, coach2, learner, course_key, client):
    with open(api.SAMPLE_INSTRUMENTS[1], encoding="utf-8") as handle:
        version, _ = instruments.load(handle.read())
    api.save_policy(lead, course_key, requirement_sets=one_set(version, min_observations=1, min_percent=75),
                    validity_months=24)
    assign_coach(lead, course_key, coach, learner)
    assign_coach(lead, course_key, coach2, learner)
    keys = [i.key for i in api.policy_indicators(course_key)]
    first = [[4, 3, 5, 4, 2, 1, 0, 6, 3, 4, 2, 1, 1, 0], [2, 2, 3, 3, 5, 0, 1, 9, 5, 1, 0, 0, 0, 2],
             [5, 4, 4, 5, 1, 0, 0, 4, 2, 6, 3, 2, 1, 0]]
    second = [[4, 4, 5, 3, 3, 1, 0, 5, 3, 4, 2, 1, 1, 0], [2, 1, 3, 3, 4, 0, 1, 9, 6, 1, 0, 0, 0, 3],
              [4, 4, 4, 5, 1, 1, 0, 4, 2, 5, 3, 2, 2, 0]]
    for days, (mine, theirs) in enumerate(zip(first, second), start=1):
        # Blind co-rating: the second observer rates while the first rating is still a draft.
        data = {"practice_date": (timezone.now().date() - timedelta(days=days)).isoformat(), "setting": "home_visit",
                "ratings": {k: {"level": v} for k, v in zip(keys, mine)}}
        primary = api.save_observation(coach, learner, course_key, data).observation
        api.save_observation(coach2, learner, course_key, {
            **data, "co_observation_of": primary.id, "ratings": {k: {"level": v} for k, v in zip(keys, theirs)}},
            submit=True)
        api.save_observation(coach, learner, course_key, {**data, "revision": primary.revision},
                             observation_id=primary.id, submit=True)
    report = api.reliability_report(lead, course_key)
    rows = {row.key: row for row in report["indicators"]}
    assert rows["empathy"].statistic == "icc" and rows["empathy"].n == 3
    assert rows["empathy"].value == pytest.approx(round(_pingouin_icc2([[4, 3], [3, 3], [5, 5]]), 3))
    assert rows["question"].value == pytest.approx(round(_pingouin_icc2([[6, 5], [9, 9], [4, 4]]), 3))
    assert rows["question"].met_kappa is None
    client.force_login(lead)
    page = client.get(reverse("miiwrap_fidelity:reliability", args=[COURSE])).content.decode()
    assert "Intraclass correlation ICC(2,1) (absolute agreement, single rater)" in page and "Per indicator" in page
