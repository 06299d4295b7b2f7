"""The pure meaning of ratings per kind, summary arithmetic and language choice (``rating_values``)."""
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from miiwrap_fidelity.rules import rating_scales as rv

PERCENT = {"key": "p", "op": "percent", "numerator": ["a"], "denominator": ["a", "b"]}
RATIO = {"key": "r", "op": "ratio", "numerator": ["a", "b"], "denominator": ["c"]}
MEAN = {"key": "m", "op": "mean", "of": ["a", "b", "c"]}
SUM = {"key": "s", "op": "sum", "of": ["a", "b"]}


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_summaries_equal_exact_arithmetic_to_six_decimals(a, b, c):
    values = {"a": a, "b": b, "c": c}
    scores = rv.summary_scores([PERCENT, RATIO, MEAN, SUM], values)
    if a + b:
        assert scores["p"] == round(float(Fraction(100 * a, a + b)), 6)
    else:
        assert "p" not in scores, "0 of 0 reflections: undefined, not 0 %"
    if c:
        assert scores["r"] == round(float(Fraction(a + b, c)), 6)
    else:
        assert "r" not in scores
    assert scores["m"] == round(float(Fraction(a + b + c, 3)), 6) and scores["s"] == a + b


def test_an_unrated_input_leaves_the_summary_out():
    assert rv.summary_scores([SUM, MEAN], {"a": 1, "b": 2}) == {"s": 3}


def test_proficiency_both_directions_at_and_beside_the_threshold():
    higher = {"levels": [{"key": "fair", "threshold": 3}, {"key": "good", "threshold": 4}]}
    assert rv.proficiency(higher, 2.999999) is None and rv.proficiency(higher, 3)["key"] == "fair"
    assert rv.proficiency(higher, 3.999999)["key"] == "fair" and rv.proficiency(higher, 4)["key"] == "good"
    lower = {"better": "lower", "levels": [{"key": "fair", "threshold": 3}, {"key": "good", "threshold": 1}]}
    assert rv.proficiency(lower, 3.000001) is None and rv.proficiency(lower, 3)["key"] == "fair"
    assert rv.proficiency(lower, 1.000001)["key"] == "fair" and rv.proficiency(lower, 1)["key"] == "good"
    assert rv.proficiency(higher, None) is None and rv.proficiency({"levels": []}, 9) is None


@pytest.mark.parametrize("value, expected", [
    ("4", 4), (" 4 ", 4), ("+4", 4), ("-4", -4), (4, 4), (4.0, 4), ("04", 4),
    ("4.0", None), (4.5, None), (True, None), ("", None), ("٤", None), ("1" * 10, None), (None, None), ([4], None),
])
def test_whole_numbers(value, expected):
    assert rv.whole_number(value) == expected


def test_language_choice_falls_back_to_the_base_language_then_english():
    translations = {"es": {"label": "Empatía", "levels": {"1": {"anchor": "Nada"}}}}
    assert rv.pick_language(translations, "es-419") == "es" and rv.pick_language(translations, "ES") == "es"
    assert rv.pick_language(translations, "fr") is None and rv.pick_language({}, "es") is None
    assert rv.translated("Empathy", translations, "es-mx", "label") == "Empatía"
    assert rv.translated("Empathy", translations, "de", "label") == "Empathy"
    assert rv.translated("Empathy", translations, "es", "description") == "Empathy", "a missing text falls back"
    levels = [{"key": "1", "label": "1", "anchor": "None", "met": False}]
    assert rv.translated_levels(levels, translations, "es") == [{"key": "1", "label": "1", "anchor": "Nada",
                                                                 "met": False}]
    assert rv.translated_levels(levels, translations, "en") is levels
