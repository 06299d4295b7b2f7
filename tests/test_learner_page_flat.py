"""
The learner's own page costs the same with 10 and with 500 observations (issue 30): the same
statements, and the same per-row work. It shows a page of the history (the newest first) and the
growth chart's latest 30 points; only the few observations of the indicator table are loaded with
their ratings (the score chart reads each point's score from its row).
"""
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import IndicatorRating, Observation

from conftest import COURSE, data_queries

pytestmark = pytest.mark.django_db

#: The score chart's points and the indicator table's columns (api.history, wording.growth_chart).
CHART_POINTS, TREND_COLUMNS = 30, 6


def history_of(learner, observer, version, indicators, count, course_key):
    """``count`` submitted observations, one a day up to yesterday, each rating every indicator (fast)."""
    today = timezone.now().date()
    Observation.objects.bulk_create([Observation(
        course_key=course_key, learner=learner, observer=observer, instrument_version=version,
        practice_date=today - timedelta(days=count - index), setting="home_visit", status=Observation.SUBMITTED,
        overall_note=f"Session #{index}.", met_count=len(indicators) - 1, applicable_count=len(indicators),
        submitted_at=timezone.now()) for index in range(count)])
    observations = Observation.objects.filter(learner=learner, course_key=course_key)
    IndicatorRating.objects.bulk_create([
        IndicatorRating(observation=observation, indicator=indicator, level="met", strength="Well done.")
        for observation in observations for indicator in indicators])


class Built:
    """Counts the model instances built while it is open, per model (``post_init``)."""

    def __enter__(self):
        self.counts = Counter()
        post_init.connect(self._count, weak=False)
        return self

    def __exit__(self, *exc):
        post_init.disconnect(self._count)

    def _count(self, sender, **kwargs):
        self.counts[sender.__name__] += 1


def test_the_learners_page_is_flat_from_10_to_500_observations(client, assigned, coach, version, indicators,
                                                                course_key):
    url = reverse("miiwrap_fidelity:my_competency", args=[COURSE])
    statements, built = {}, {}
    for total in (10, 500):
        Observation.objects.filter(learner=assigned).delete()
        history_of(assigned, coach, version, indicators, total, course_key)
        client.force_login(assigned)
        client.get(url)  # the first request of a session writes it
        with CaptureQueriesContext(connection) as captured, Built() as instances:
            response = client.get(url)
        assert response.status_code == 200
        statements[total] = data_queries(captured)
        built[total] = instances.counts
        page = response.content.decode()
        # A page of the history, the newest first; the chart's latest points, at most 30.
        newest = [f"Session #{index}." for index in range(total - 1, total - 1 - api.HISTORY_PAGE_SIZE, -1)]
        assert all(note in page for note in newest), total
        assert f"Session #{total - 1 - api.HISTORY_PAGE_SIZE}." not in page
        points = min(total, CHART_POINTS)
        assert f"{points} observations; the dashed line" in page
        assert page.count('font-size="11"') == points  # one date label per point
        assert total == 10 or f"Page 1 of {total // api.HISTORY_PAGE_SIZE}" in page
    assert len(statements[10]) == len(statements[500]), "\n".join(statements[500])
    # The per-row work does not grow either: the ratings read are the history page's and the
    # indicator table's, whatever the history's length; the observations, those the page shows.
    per_observation = len(indicators)
    assert built[10]["IndicatorRating"] == built[500]["IndicatorRating"] == \
        (api.HISTORY_PAGE_SIZE + TREND_COLUMNS) * per_observation, (built[10], built[500])
    assert built[500]["Observation"] <= api.HISTORY_PAGE_SIZE + CHART_POINTS


def test_only_the_indicator_tables_observations_come_with_ratings(assigned, coach, version, indicators, course_key):
    history_of(assigned, coach, version, indicators, 40, course_key)
    growth = api.growth_observations(assigned, assigned, course_key, rated=TREND_COLUMNS)
    assert [o.overall_note for o in growth[:2]] == ["Session #39.", "Session #38."]
    assert len(growth) == CHART_POINTS and [o.practice_date for o in growth] == sorted(
        (o.practice_date for o in growth), reverse=True)
    assert all(len(o.ratings) == len(indicators) for o in growth[:TREND_COLUMNS])
    assert all(o.ratings == () and o.overall_note == "" for o in growth[TREND_COLUMNS:])
    # Every point keeps what the chart reads: its score and whether it qualifies.
    assert all(o.percent == round(100 * (len(indicators) - 1) / len(indicators), 1) for o in growth)
    policy = api.get_policy(course_key)
    assert api.qualifying_ids(policy, growth[TREND_COLUMNS:]) == api.qualifying_ids(
        policy, [api.get_observation(coach, course_key, o.pk) for o in growth[TREND_COLUMNS:]])
