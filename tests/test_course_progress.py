"""The learner's course progress on the coach's learner page and in the REST learner detail."""
import pytest
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.seams import course_progress
from sandbox.fake_platform import FakePlatform

from conftest import COURSE

pytestmark = pytest.mark.django_db
DOMAINS = ["Engagement", "Team preparation", "Planning", "MI skills"]


def section(title, tags, *scores):
    return {"id": title, "title": title, "tags": tags,
            "subsections": [{"id": f"{title}{i}", "title": f"{title} {i}", "earned": earned, "possible": possible}
                            for i, (earned, possible) in enumerate(scores)]}


def test_sections_are_grouped_by_the_rubrics_domains_in_its_order():
    progress = {"units": {"complete": 6, "incomplete": 14, "locked": 2}, "sections": [
        section("OARS", [" mi SKILLS "], (3, 8), (1, 4)),
        section("Foundations", ["Engagement", "Week 1"], (4, 4)),
        section("Wrap-up", ["Week 9"], (0, 0)),
        section("Supports", ["Team preparation"], (2, 5)),
    ]}
    summary = course_progress.summarize(progress, DOMAINS)
    assert (summary.units_complete, summary.units_total, summary.units_locked, summary.units_percent) == (6, 20, 2, 30)
    assert [(group.domain, [s.title for s in group.sections], group.percent) for group in summary.domains] == [
        ("Engagement", ["Foundations"], 100), ("Team preparation", ["Supports"], 40), ("MI skills", ["OARS"], 33),
        (None, ["Wrap-up"], None)]
    assert summary.domains[-1].sections[0].percent is None  # no scored checks, not 0%


def test_nothing_yet():
    summary = course_progress.summarize({"units": {}, "sections": []}, DOMAINS)
    assert (summary.units_total, summary.units_percent, summary.domains) == (0, None, ())


def test_coach_sees_the_learners_progress_on_the_learner_page(client, assigned, coach):
    assigned.username = "learner_ben"  # a seeded profile of the sandbox course: two thirds of the units
    assigned.save()
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])).content.decode()
    assert "Course progress" in page
    assert "16 of 24 units completed (67%)" in page
    assert "Engagement: 90%" in page and "Planning: 80%" in page
    assert "<th scope=\"colgroup\" colspan=\"2\">MI skills</th>" in page  # not reached: no score, not 0%
    assert "no knowledge checks answered yet" in page and "Not tagged with a domain" in page


def test_rest_learner_detail_carries_the_progress_and_only_for_who_may_see(client, assigned, coach, stranger):
    url = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/{assigned.pk}/"
    client.force_login(coach)
    progress = client.get(url).json()["course_progress"]
    expected = course_progress.summarize(FakePlatform().course_progress(assigned, api.parse_course_key(COURSE)),
                                         [d for d in dict.fromkeys(i.domain for i in api.policy_indicators(COURSE))])
    assert progress["units_total"] == expected.units_total == 24
    assert [group["domain"] for group in progress["domains"]] == [group.domain for group in expected.domains]
    first = expected.domains[0].sections[0]
    assert progress["domains"][0]["sections"][0] == {"title": "Wraparound foundations", "earned": first.earned,
                                                     "possible": first.possible, "percent": first.percent}
    client.force_login(stranger)
    assert client.get(url).status_code == 403
    with pytest.raises(api.PermissionDenied):
        api.learner_course_progress(stranger, assigned, COURSE)


def test_a_platform_failure_leaves_the_page_working(client, assigned, coach, monkeypatch):
    def broken(self, user, course_key):
        raise LookupError("course not in the modulestore")

    monkeypatch.setattr(FakePlatform, "course_progress", broken)
    client.force_login(coach)
    response = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk]))
    assert response.status_code == 200
    assert "The course progress cannot be shown right now." in response.content.decode()
    assert client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/{assigned.pk}/").json()[
        "course_progress"] is None
