"""
Observation histories a page at a time (issue 17): the database pages them, the blind co-rating
rule is the same in SQL as in Python, and the coach's learner page, the learner's own page and REST
``observations/`` read the same number of statements for 10 and for 500 observations.
"""
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.api.observations import _hidden_from
from miiwrap_fidelity.records.models import IndicatorRating, Observation

from conftest import COURSE, data_queries
from observation_oracle import observations_for

pytestmark = pytest.mark.django_db


def bulk_history(learner, observer, version, indicators, count, course_key):
    """``count`` submitted observations with a rating per indicator, written directly (fast)."""
    start = date(2026, 1, 1)
    observations = Observation.objects.bulk_create([Observation(
        course_key=course_key, learner=learner, observer=observer, instrument_version=version,
        practice_date=start + timedelta(days=index % 300), setting="home_visit", status=Observation.SUBMITTED,
        overall_note=f"note {index}", met_count=len(indicators) - 1, applicable_count=len(indicators),
        submitted_at=timezone.now()) for index in range(count)])
    observations = list(Observation.objects.filter(learner=learner, course_key=course_key))
    IndicatorRating.objects.bulk_create([
        IndicatorRating(observation=observation, indicator=indicator, level="met", strength="Well done.")
        for observation in observations for indicator in indicators])
    return observations


def test_pages_cover_the_history_newest_first(assigned, coach, version, indicators, course_key):
    bulk_history(assigned, coach, version, indicators, 23, course_key)
    history = api.observation_history(coach, assigned, course_key)
    assert history.count() == 23
    seen = [o.id for start in (0, 10, 20) for o in history[start:start + 10]]
    assert len(seen) == len(set(seen)) == 23
    everything = observations_for(coach, assigned, course_key)
    assert seen == [o.id for o in everything]  # the same records, in the same (newest first) order
    assert all(len(o.ratings) == len(indicators) for o in history[0:10])
    page = api.history_page(coach, assigned, course_key, "999")  # out of range: the last page
    assert page.number == 3 and len(page.object_list) == 3
    assert api.history_page(coach, assigned, course_key, "x").number == 1


def test_sql_visibility_matches_the_blind_co_rating_rule(assigned, lead, coach, coach2, version, course_key):
    """Every combination of statuses of a session and its co-rating, for each viewer."""
    def make(observer, status, of=None, days=1):
        return Observation.objects.create(
            course_key=course_key, learner=assigned, observer=observer, instrument_version=version,
            practice_date=date(2026, 3, 1) - timedelta(days=days), setting="home_visit", status=status,
            co_observation_of=of)

    day = 0
    for primary_status in (Observation.DRAFT, Observation.SUBMITTED):
        for co_status in (None, Observation.DRAFT, Observation.SUBMITTED):
            day += 1
            primary = make(coach, primary_status, days=day)
            if co_status:
                make(coach2, co_status, of=primary, days=day)
                make(lead, co_status, of=primary, days=day)
    for viewer in (coach, coach2, lead, assigned):
        for drafts in (False, True):
            sql = [o.id for o in api.observation_history(viewer, assigned, course_key, include_drafts=drafts)[0:100]]
            python = [o.id for o in observations_for(viewer, assigned, course_key, include_drafts=drafts)]
            assert sql == python, (viewer, drafts)
    # The rule itself, on one pair: coach2's draft co-rating hides coach's submitted session from coach2.
    session = Observation.objects.filter(observer=coach, status=Observation.SUBMITTED,
                                         co_ratings__status=Observation.DRAFT).first()
    assert _hidden_from(coach2, session)
    assert session.pk not in [o.id for o in api.observation_history(coach2, assigned, course_key)[0:100]]


def test_history_is_only_for_those_who_may_see_it(assigned, stranger, course_key):
    with pytest.raises(api.PermissionDenied):
        api.observation_history(stranger, assigned, course_key)
    with pytest.raises(api.PermissionDenied):
        api.own_drafts(stranger, assigned, course_key)


def test_detail_page_shows_one_page_with_links(client, assigned, coach, version, indicators, course_key):
    observations = bulk_history(assigned, coach, version, indicators, 25, course_key)
    newest = sorted(observations, key=lambda o: (o.practice_date, o.pk))
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])
    first = client.get(url).content.decode()
    assert first.count('<details class="mwf-observation" id=') == 10
    assert "note 24" in first and "note 0<" not in first and "Page 1 of 3" in first and "?history=2" in first
    last = client.get(url, {"history": 3}).content.decode()
    assert last.count('<details class="mwf-observation" id=') == 5 and "?history=2" in last
    assert newest[0].overall_note in last
    client.force_login(assigned)
    mine = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE]), {"history": 2}).content.decode()
    assert "Page 2 of 3" in mine and "note 14" in mine and "note 24" not in mine


@pytest.mark.parametrize("where", ["detail", "mine", "rest"])
def test_history_queries_do_not_grow_with_the_history(client, assigned, coach, version, indicators, course_key,
                                                      where):
    """10 and 500 observations of history: the same statements for the first and the last page."""
    figures = set()
    for total in (10, 500):
        Observation.objects.filter(learner=assigned).delete()
        bulk_history(assigned, coach, version, indicators, total, course_key)
        client.force_login(assigned if where == "mine" else coach)
        for page in (1, 50):
            if where == "detail":
                url, params = reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk]), {"history": page}
            elif where == "mine":
                url, params = reverse("miiwrap_fidelity:my_competency", args=[COURSE]), {"history": page}
            else:
                url = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/"
                params = {"learner": assigned.pk, "page": min(page, total // 10), "page_size": 10}
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, params)
            assert response.status_code == 200
            if where == "rest":
                assert len(response.json()["results"]) == 10 and response.json()["count"] == total
            figures.add(len(data_queries(queries)))
    assert len(figures) == 1, figures
