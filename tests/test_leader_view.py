"""
The leader view (issue 15): 0 is shown as 0 and 1 to 4 learners are suppressed by one rule; every
figure is explained; time to certification, coaching cadence and lapsed / revoked shares; numbers
written as the reader's language writes them; a bounded number of queries however many learners.
"""
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from miiwrap_fidelity import api
from miiwrap_fidelity.records import aggregates
from miiwrap_fidelity.records.models import Certification
from miiwrap_fidelity.wording import bar_charts as charts
from miiwrap_fidelity.wording import formatting
from sandbox.models import Enrollment

from conftest import COURSE, assign_coach, data_queries, make_user

pytestmark = pytest.mark.django_db
URL = reverse("miiwrap_fidelity:leaders", args=[COURSE])


@pytest.mark.parametrize("learners, suppressed", [(0, False), (1, True), (4, True), (5, False), (40, False)])
def test_one_small_cell_rule(learners, suppressed):
    assert aggregates.cell(learners, learners)["suppressed"] is suppressed
    if not suppressed:
        assert aggregates.cell(learners, learners)["value"] == learners


def test_a_share_is_suppressed_when_its_part_or_whole_is_small():
    assert aggregates.share_cell(0, 10)["value"] == 0.0  # nobody: singles no one out
    assert aggregates.share_cell(3, 10)["suppressed"] is True  # 3 revoked learners could be named
    assert aggregates.share_cell(5, 4)["suppressed"] is True
    assert aggregates.share_cell(5, 20)["value"] == 25.0


def test_zero_is_shown_as_zero_not_as_fewer_than_five(client, policy, lead, coach, course_key, observe):
    for i in range(6):
        learner = make_user(f"z{i}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=10)
    view = api.leader_view(lead, course_key)
    pipeline = {row["state"]: row for row in view["pipeline"]}
    assert pipeline["in_progress"]["value"] == 6
    assert pipeline["certified"] == {"state": "certified", "label": pipeline["certified"]["label"],
                                     "suppressed": False, "learners": 0, "value": 0}
    client.force_login(lead)
    body = client.get(URL).content.decode()
    certified_row = body[body.index("<th scope=\"row\">Certified</th>"):][:200]
    assert ">0</td>" in certified_row and "suppressed" not in certified_row


def certify(learner, policy, course_key, issued_days_ago, expires_in_days=None, revoked=False):
    now = timezone.now()
    return Certification.objects.create(
        course_key=course_key, learner=learner, policy=policy, evidence_digest="x" * 64,
        issued_at=now - timedelta(days=issued_days_ago),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
        revoked_at=now if revoked else None)


def enroll(learner, course_key, days_ago):
    Enrollment.objects.create(course_key=course_key, user=learner)
    Enrollment.objects.filter(course_key=course_key, user=learner).update(
        created=timezone.now() - timedelta(days=days_ago))


def test_time_from_enrollment_to_certification_median_and_spread(policy, lead, course_key):
    # enrolled 100 days ago; certified after 10, 20, 30, 40 and 50 days
    for i, days in enumerate((10, 20, 30, 40, 50)):
        learner = make_user(f"t{i}")
        enroll(learner, course_key, 100)
        certify(learner, policy, course_key, issued_days_ago=100 - days)
        certify(learner, policy, course_key, issued_days_ago=1)  # a renewal: only the first one counts
    figure = api.leader_view(lead, course_key)["time_to_certification"]
    assert figure["learners"] == 5 and figure["value"] == {"median": 30, "spread": (20, 40)}


def test_time_to_certification_of_four_learners_is_suppressed(policy, lead, course_key):
    for i in range(4):
        learner = make_user(f"f{i}")
        enroll(learner, course_key, 30)
        certify(learner, policy, course_key, issued_days_ago=5)
    assert api.leader_view(lead, course_key)["time_to_certification"]["suppressed"] is True


def test_share_of_certifications_that_lapsed_or_were_revoked(client, policy, lead, course_key):
    learners = [make_user(f"c{i}") for i in range(12)]
    for learner in learners[:5]:  # lapsed: expired yesterday, not renewed
        certify(learner, policy, course_key, issued_days_ago=400, expires_in_days=-1)
    for learner in learners[5:7]:  # two revoked: too few to show
        certify(learner, policy, course_key, issued_days_ago=100, revoked=True)
    for learner in learners[7:]:  # active; the first of these renewed after a lapse
        certify(learner, policy, course_key, issued_days_ago=30, expires_in_days=300)
    certify(learners[7], policy, course_key, issued_days_ago=800, expires_in_days=-300)
    view = api.leader_view(lead, course_key)
    assert view["lapsed"]["value"] == pytest.approx(100 * 5 / 12, abs=0.05) and view["lapsed"]["count"] == 5
    assert view["revoked"]["suppressed"] is True
    client.force_login(lead)
    with translation.override("es"):
        body = client.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "41,7\u00a0%" in body


def test_coaching_cadence_per_coach_with_small_teams_suppressed(client, policy, lead, coach, coach2,
                                                                course_key, observe):
    coach.first_name, coach.last_name = "Casey", "Coach"
    coach.save()
    days = (3, 7, 10, 40, 50)
    for i, days_ago in enumerate(days):
        learner = make_user(f"a{i}")
        assign_coach(lead, course_key, coach, learner)
        observe(coach, learner, days_ago=days_ago)
    assign_coach(lead, course_key, coach, make_user("never"))  # assigned, not observed yet
    for i in range(2):
        learner = make_user(f"b{i}")
        assign_coach(lead, course_key, coach2, learner)
        observe(coach2, learner, days_ago=2)
    rows = {row["username"]: row for row in api.leader_view(lead, course_key)["cadence"]}
    assert rows["coach"]["value"]["median_days"] == {"suppressed": False, "learners": 5, "value": 10}
    # one learner never observed is a figure about one person: suppressed like every other cell
    assert rows["coach"]["value"]["never_observed"]["suppressed"] is True
    assert rows["coach"]["full_name"] == "Casey Coach"
    assert rows["coach2"]["suppressed"] is True and rows["coach2"]["value"] is None
    for i in range(2, 5):  # coach2 now has five learners, every one observed: 0 never observed is shown
        learner = make_user(f"b{i}")
        assign_coach(lead, course_key, coach2, learner)
        observe(coach2, learner, days_ago=2)
    rows = {row["username"]: row for row in api.leader_view(lead, course_key)["cadence"]}
    assert rows["coach2"]["value"]["never_observed"] == {"suppressed": False, "learners": 0, "value": 0}
    client.force_login(lead)
    body = client.get(URL).content.decode()
    cadence = body[body.index('id="mwf-cadence"'):]
    assert "Casey Coach" in cadence and "<small class=\"mwf-hint\">coach</small>" in cadence
    casey = cadence[cadence.index("Casey Coach"):cadence.index("</tr>", cadence.index("Casey Coach"))]
    assert ">10<" in casey and "suppressed (1 to 4 learners)" in casey


def test_every_figure_has_a_one_line_explanation(client, policy, lead, course_key):
    client.force_login(lead)
    body = client.get(URL).content.decode()
    headings = body.count("<h2>")
    assert headings >= 8 and body.count('<p class="mwf-explain">') == headings


def test_leader_page_queries_do_not_grow_with_learners(client, policy, lead, coach, course_key, observe):
    def page_queries():
        """(computing the figures, reading the kept ones)"""
        client.force_login(lead)
        counts = []
        for _ in range(2):  # the first view computes the figures (tasks run eagerly), the second reads them
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL).status_code == 200
            counts.append(len(data_queries(queries)))
        cache.clear()
        return counts

    def add_learners(prefix, n):
        for i in range(n):
            learner = make_user(f"{prefix}{i}")
            enroll(learner, course_key, 60)
            assign_coach(lead, course_key, coach, learner)
            observe(coach, learner, days_ago=3)
            certify(learner, policy, course_key, issued_days_ago=10)

    add_learners("s", 5)
    computing, reading = page_queries()
    add_learners("l", 15)
    assert page_queries() == [computing, reading]
    assert computing <= 25 and reading <= 8


@pytest.mark.parametrize("language, number, percent", [("en", "4.8", "96.7%"), ("es", "4,8", "96,7\u00a0%")])
def test_numbers_and_percents_follow_the_language(language, number, percent):
    with translation.override(language):
        assert formatting.number(4.8) == number
        assert formatting.percent(96.66) == percent
        assert formatting.percent(80) == ("80%" if language == "en" else "80\u00a0%")


def test_bar_chart_writes_values_in_the_language_and_says_what_is_suppressed():
    rows = [("High", {"suppressed": False, "learners": 7, "value": 95.24}),
            ("Low", {"suppressed": True, "learners": None, "value": None}),
            ("None", {"suppressed": False, "learners": 0, "value": None})]
    with translation.override("es"):
        svg = charts.bar_svg("c", "t", rows)
    assert "95,2\u00a0%" in svg and svg.count("<rect") == 1  # one bar: the suppressed and empty rows draw none
    assert "suprimido" in svg and ">ninguno<" in svg
    # every text at 14 units in a 400-unit-wide chart: >= 11 px down to a 315 px wide figure
    assert 'viewBox="0 0 400 ' in svg and set(re.findall(r'font-size="(\d+)"', svg)) == {"14"}
