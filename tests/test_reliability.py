"""Agreement and kappa against hand-computed values and scikit-learn's cohen_kappa_score."""
import random

import pytest
from sklearn.metrics import cohen_kappa_score

from miiwrap_fidelity.rules import reliability as r


def test_hand_computed_kappa():
    # 10 items: 7 agreements. Rater A: met x6, partly x4; rater B: met x5, partly x5.
    pairs = [("met", "met")] * 4 + [("partly", "partly")] * 3 + [("met", "partly")] * 2 + [("partly", "met")]
    # po = 0.7; pe = (6*5 + 4*5) / 100 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    assert r.cohen_kappa(pairs) == pytest.approx(0.4)
    result = r.agreement([(a, b, False, False) for a, b in pairs])
    assert (result.n, result.agreed, result.percent, result.na_excluded) == (10, 7, 70.0, 0)


def test_not_applicable_items_are_excluded_and_counted():
    items = [("met", "met", False, False), ("na", "met", True, False), ("partly", "met", False, False),
             ("na", "na", True, True)]
    result = r.agreement(items)
    assert (result.n, result.agreed, result.na_excluded) == (2, 1, 2)


def test_undefined_kappa():
    assert r.cohen_kappa([("met", "met")]) is None
    assert r.cohen_kappa([("met", "met")] * 5) is None, "total chance agreement: kappa undefined"
    assert r.agreement([]).percent is None


@pytest.mark.parametrize("seed", range(8))
def test_kappa_matches_scikit_learn(seed):
    rng = random.Random(seed)
    labels = ["met", "partly", "absent"]
    a = [rng.choice(labels) for _ in range(60)]
    b = [x if rng.random() < 0.6 else rng.choice(labels) for x in a]
    assert r.cohen_kappa(list(zip(a, b))) == pytest.approx(cohen_kappa_score(a, b))


def test_leniency():
    assert r.leniency([90, 80], [80, 70]) == 10.0
    assert r.leniency([], []) is None
