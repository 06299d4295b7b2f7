"""
Issue 31's rules (rules/coaching_loop.py), first slice: the focus a plan suggests after an
observation, how the next observation follows a focus up, and the leaders' loop-closure figures
(n >= 5). Pure functions: examples from the shipped instruments' shapes and properties.
"""
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from miiwrap_fidelity.rules import coaching_loop as loop
from miiwrap_fidelity.rules.rating_scales import COUNT, LEVELS, SCALE

LEVELS_MET = ({"key": "met", "met": True}, {"key": "partly", "met": False}, {"key": "absent", "met": False},
              {"key": "na", "met": None})
SCALE_1_5 = tuple({"key": str(point), "met": point >= 4} for point in range(1, 6))


def levels(key, rating, essential=False, position=0):
    return loop.Rated(key, LEVELS, LEVELS_MET, None, rating, essential, position)


def scale(key, point, position=0):
    return loop.Rated(key, SCALE, SCALE_1_5, {"min": 1, "max": 5}, None if point is None else str(point),
                      False, position)


def test_standing_orders_levels_and_scale_points_and_leaves_out_what_has_none():
    assert [loop.standing(levels("a", key)) for key in ("met", "partly", "absent")] == [1.0, 0.5, 0.0]
    assert loop.standing(levels("a", "na")) is None and loop.standing(levels("a", "")) is None
    assert [loop.standing(scale("s", point)) for point in (1, 3, 5)] == [0.0, 0.5, 1.0]
    assert loop.standing(loop.Rated("q", COUNT, (), {"max": 500}, "12")) is None
    assert loop.standing(levels("a", "nonsense")) is None


def test_missed_essentials_come_first_then_the_lowest_rated_in_rubric_order():
    ratings = [levels("strengths", "partly", position=0), levels("safety", "partly", essential=True, position=5),
               levels("story", "absent", position=1), scale("empathy", 2, position=2), levels("voice", "met",
                                                                                              essential=True,
                                                                                              position=3)]
    assert loop.suggested_focus(ratings) == ["safety", "story"]
    assert loop.suggested_focus(ratings, limit=4) == ["safety", "story", "empathy", "strengths"]


def test_a_session_rated_at_the_top_everywhere_suggests_nothing():
    assert loop.suggested_focus([levels("a", "met"), scale("b", 5), levels("c", "na")]) == []


def test_follow_up_says_improved_held_or_slipped_and_nothing_without_a_standing():
    assert loop.follow_up(levels("a", "partly"), levels("a", "met")) == loop.IMPROVED
    assert loop.follow_up(levels("a", "partly"), levels("a", "partly")) == loop.HELD
    assert loop.follow_up(scale("s", 4), scale("s", 2)) == loop.SLIPPED
    assert loop.follow_up(levels("a", "partly"), levels("a", "na")) is None
    assert loop.follow_up(None, levels("a", "met")) is None


RATED = st.builds(
    lambda key, rating, essential, position: levels(key, rating, essential, position),
    st.sampled_from("abcdefgh"), st.sampled_from(["met", "partly", "absent", "na", ""]), st.booleans(),
    st.integers(0, 30))


@given(st.lists(RATED, max_size=12, unique_by=lambda rated: rated.key), st.integers(0, 4))
def test_suggestions_are_few_distinct_never_at_the_top_and_essentials_first(ratings, limit):
    suggested = loop.suggested_focus(ratings, limit)
    by_key = {rated.key: rated for rated in ratings}
    assert len(suggested) <= limit and len(set(suggested)) == len(suggested)
    assert all(loop.standing(by_key[key]) is not None and loop.standing(by_key[key]) < 1 for key in suggested)
    flags = [loop.missed_essential(by_key[key]) for key in suggested]
    assert flags == sorted(flags, reverse=True)  # every missed essential before any other
    missed = [rated for rated in ratings if loop.missed_essential(rated)]
    assert len([key for key in suggested if loop.missed_essential(by_key[key])]) == min(len(missed), limit)


@given(RATED, RATED)
def test_follow_up_is_antisymmetric(before, after):
    after = loop.Rated(before.key, after.kind, after.levels, after.spec, after.rating)
    forward, backward = loop.follow_up(before, after), loop.follow_up(after, before)
    swap = {loop.IMPROVED: loop.SLIPPED, loop.SLIPPED: loop.IMPROVED, loop.HELD: loop.HELD, None: None}
    assert backward == swap[forward]


def test_loop_figures_are_given_only_over_five_plans_and_never_per_learner():
    start = date(2026, 11, 1)
    few = [loop.LoopRecord(1, start, start + timedelta(days=10), (loop.IMPROVED,)) for _ in range(4)]
    assert loop.loop_figures(few) == loop.LoopFigures(4, None, None, ())
    plans = few + [loop.LoopRecord(1, start, start + timedelta(days=20), (loop.HELD, loop.IMPROVED)),
                   loop.LoopRecord(2, start, None), loop.LoopRecord(2, start, start + timedelta(days=3), (None,))]
    figures = loop.loop_figures(plans)
    assert figures.plans == 7 and figures.followed_up_share == round(100 * 6 / 7, 1)
    assert figures.improved_share == round(100 * 5 / 6, 1)  # the outcome not known is left out
    assert figures.median_days_by_coach == ((1, 10.0),)  # coach 2: under five follow-ups, not shown
    assert not hasattr(figures, "learners")
