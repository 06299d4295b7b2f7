"""
Issue 17: the assignments and start-dates lists (pages and REST) read a page of rows, not the whole
course: the same statements for a course of 60 rows and of 120, first page and last.
"""
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from miiwrap_fidelity.records.models import CoachAssignment, LearnerStartDate

from conftest import COURSE, data_queries

pytestmark = pytest.mark.django_db
REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"


def add_learners(course_key, coach, count, offset=0):
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"p{offset + index:04d}") for index in range(count)])
    users = list(get_user_model().objects.filter(username__in=[u.username for u in users]))
    CoachAssignment.objects.bulk_create([CoachAssignment(course_key=course_key, coach=coach, learner=u) for u in users])
    LearnerStartDate.objects.bulk_create([LearnerStartDate(course_key=course_key, learner=u, start_date=date(2026, 1, 5))
                                          for u in users])


def measured(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(data_queries(captured)), response


@pytest.mark.parametrize("page_name, rest_path", [("assignments", "coach-assignments/"), ("start_dates", "start-dates/")])
def test_staff_lists_are_paged_with_the_same_statements_at_any_size(client, lead, coach, course_key, page_name,
                                                                    rest_path):
    add_learners(course_key, coach, 60)
    client.force_login(lead)
    url = reverse(f"miiwrap_fidelity:{page_name}", args=[COURSE])
    queries, response = measured(client, url)
    page = response.content.decode()
    assert "1 to 50 of 60" in page and "p0049" in page and "p0050" not in page and 'rel="next"' in page
    last_queries, last = measured(client, url, {"page": 2})
    assert "p0059" in last.content.decode() and "p0000" not in last.content.decode()
    rest_queries, rest = measured(client, f"{REST}/{rest_path}")
    assert rest.json()["count"] == 60 and len(rest.json()["results"]) < 60
    add_learners(course_key, coach, 60, offset=60)
    assert measured(client, url)[0] == queries and measured(client, url, {"page": 3})[0] == last_queries
    assert measured(client, f"{REST}/{rest_path}")[0] == rest_queries
    assert "101 to 120 of 120" in measured(client, url, {"page": 3})[1].content.decode()
    assert measured(client, url, {"page": "garbage"})[1].status_code == 200, "a bad page number shows the first"
