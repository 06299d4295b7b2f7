"""The coach sign-off block in the workbench runtime: learner status, coach actions, permissions."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Certification, Observation, Reflection, SignOff

from conftest import OTHER_COURSE, assign_coach, data_queries, make_user, ratings_for
from xblock_support import SIGNOFF, call, view

pytestmark = pytest.mark.django_db
COACH_HANDLERS = ["learner_state", "record_observation", "decide", "comment_reflection", "find_learners"]


def test_learner_sees_read_only_status_and_feedback(client, workbench, assigned, coach, observe):
    observe(coach, assigned, days_ago=4, miss=("mi-summaries",))
    client.force_login(assigned)
    page = view(client, SIGNOFF)
    assert "Qualifying observations: 1 of 3." in page
    assert "2 more" not in page and "Your coach has not signed off your competency yet." in page
    assert "Summaries" in page and "Good example." in page
    assert "mwf-learner-picker" not in page and "Approve competency" not in page
    assert "/miiwrap-fidelity/courses/" in page, "links to the growth page"


def test_no_policy_course_says_so(client, workbench, learner):
    client.force_login(learner)
    assert "does not use observation-based competency" in view(client, SIGNOFF)


def test_coach_records_observation_and_signs_off(client, workbench, assigned, coach, indicators,
                                                 observe, django_capture_on_commit_callbacks):
    for days in (40, 20):
        observe(coach, assigned, days_ago=days)
    client.force_login(coach)
    page = view(client, SIGNOFF)
    assert "mwf-learner-picker" in page and assigned.username in page
    assert "Elicits and reflects at least two specific strengths" in page, "anchors are visible"
    data = {"learner_id": assigned.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "ratings": ratings_for(indicators)}
    status, body = call(client, SIGNOFF, "record_observation", data)
    assert status == 200 and body["observation"]["status"] == "draft"
    draft = body["observation"]
    status, body = call(client, SIGNOFF, "record_observation",
                        {**data, "submit": True, "observation_id": draft["id"], "revision": draft["revision"]})
    assert status == 200 and body["observation"]["status"] == "submitted"
    assert Observation.objects.filter(learner=assigned).count() == 3, "the draft was submitted, not copied"
    assert body["state"]["status"]["state"] == "ready"
    with django_capture_on_commit_callbacks(execute=True):
        status, body = call(client, SIGNOFF, "decide", {"learner_id": assigned.pk, "action": "approve"})
    assert status == 200 and body["state"]["status"]["state"] == "certified"
    client.force_login(assigned)
    page = view(client, SIGNOFF)
    assert "valid until" in page and "What this certification rests on" in page
    assert "Qualifying observations: 0 of 3" not in page


def test_coach_handler_errors_are_400_with_messages(client, workbench, assigned, coach):
    client.force_login(coach)
    assert call(client, SIGNOFF, "learner_state", {})[0] == 400
    assert call(client, SIGNOFF, "learner_state", {"learner_id": "nobody-like-this"})[0] == 400
    status, body = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk})
    assert status == 200 and "Waiting for a coach's sign-off." in body["status"]["reasons"], "worded for the coach"
    status, body = call(client, SIGNOFF, "decide", {"learner_id": assigned.pk, "action": "approve"})
    assert status == 400 and "0 of 3 qualifying observations" in body["errors"]["evidence"][0]
    assert call(client, SIGNOFF, "decide", {"learner_id": assigned.pk, "action": "explode"})[0] == 400
    status, body = call(client, SIGNOFF, "record_observation",
                        {"learner_id": assigned.pk, "practice_date": "2026-13-45", "setting": "x", "ratings": 5,
                         "observation_id": "abc"})
    assert status == 400 and {"practice_date", "setting", "observation"} <= set(body["errors"])
    assert SignOff.objects.count() == 0 and Observation.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "learner", "other_course_coach", "unassigned_coach"])
@pytest.mark.parametrize("handler", COACH_HANDLERS)
def test_every_coach_handler_refuses_the_wrong_people(client, workbench, assigned, coach, lead, who,
                                                      handler, indicators, ready_learner):
    client.force_login(assigned)
    from xblock_support import REFLECTION  # pylint: disable=import-outside-toplevel

    call(client, REFLECTION, "submit_reflection", {"answers": {"p1": "A long enough answer about my own practice this week."}})
    if who == "learner":
        client.force_login(make_user("another_learner"))
    elif who == "other_course_coach":
        other = make_user("other_coach")
        from sandbox.models import CourseRole  # pylint: disable=import-outside-toplevel

        CourseRole.objects.create(course_key=api.parse_course_key(OTHER_COURSE), user=lead, role="staff")
        assign_coach(lead, OTHER_COURSE, other, assigned)
        client.force_login(other)
    elif who == "unassigned_coach":
        client.force_login(make_user("unassigned"))
    else:
        client.logout()
    payload = {"learner_id": assigned.pk, "action": "approve", "reason": "x", "practice_date": "2026-01-01",
               "setting": "home_visit", "ratings": ratings_for(indicators), "submit": True,
               "reflection_id": Reflection.objects.get().pk, "text": "Nice"}
    status, body = call(client, SIGNOFF, handler, payload)
    assert status == 403, body
    assert not {"status", "state", "learners"} & set(body), "never data"
    assert not Certification.objects.exists() and SignOff.objects.count() == 0
    assert Observation.objects.filter(learner=assigned).count() == 3


def test_graded_block_publishes_score_when_certified(client, workbench, ready_learner, coach, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    from workbench.runtime import WorkbenchRuntime  # pylint: disable=import-outside-toplevel

    from miiwrap_xblocks.coach_signoff import CoachSignOffXBlock  # pylint: disable=import-outside-toplevel

    published = []
    monkeypatch.setattr(WorkbenchRuntime, "publish", lambda self, block, event, data: published.append((event, data)))
    monkeypatch.setattr(CoachSignOffXBlock, "graded", True)
    client.force_login(ready_learner)
    view(client, SIGNOFF)
    assert published == [("grade", {"value": 0.0, "max_value": 1.0})]
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, api.parse_course_key("course-v1:MiiWrap+FID101+2026"))
    view(client, SIGNOFF)
    view(client, SIGNOFF)
    assert published[-1] == ("grade", {"value": 1.0, "max_value": 1.0}) and len(published) == 2


def test_staff_narrow_a_long_picker_by_name_or_username(client, workbench, policy, lead, coach, course_key, monkeypatch):
    from miiwrap_xblocks import coach_signoff  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(coach_signoff, "PICKER_SIZE", 3)
    for index in range(5):
        assign_coach(lead, course_key, coach, make_user(f"team{index}"))
    assign_coach(lead, course_key, coach, make_user("solo_ana"))
    client.force_login(lead)
    page = view(client, SIGNOFF)
    assert "Showing 3 of 6 learners; type the beginning of a name or username to find the others." in page
    picker = page.split('class="mwf-learner-picker">')[1].split("</select>")[0]
    assert picker.count("<option value=") == 3 + 1, "three learners and the empty choice"
    # The beginning of a username (or a full name: tests/test_people_by_name.py), not a part inside it.
    assert call(client, SIGNOFF, "find_learners", {"search": "ana"})[1]["total"] == 0
    status, body = call(client, SIGNOFF, "find_learners", {"search": "solo"})
    assert status == 200 and body["total"] == 1 and [row["username"] for row in body["learners"]] == ["solo_ana"]
    status, body = call(client, SIGNOFF, "find_learners", {"search": "team"})
    assert body["total"] == 5 and len(body["learners"]) == 3
    assert call(client, SIGNOFF, "find_learners", {"search": "x" * 151})[0] == 400
    client.force_login(coach)
    assert "type the beginning of a name or username" in view(client, SIGNOFF), "a coach with many learners too"


def test_a_handler_whose_write_keeps_losing_lock_conflicts_answers_503(client, workbench, ready_learner, coach,
                                                                       monkeypatch, settings):
    from django.db import OperationalError  # pylint: disable=import-outside-toplevel

    def deadlocked(*args, **kwargs):
        raise OperationalError(1213, "Deadlock found when trying to get lock")

    settings.MIIWRAP_FIDELITY_WRITE_ATTEMPTS = 2
    monkeypatch.setattr(api, "sign_off", deadlocked)
    client.force_login(coach)
    status, body = call(client, SIGNOFF, "decide", {"learner_id": ready_learner.pk, "action": "approve"})
    assert status == 503 and "try again" in body["error"]
    assert SignOff.objects.count() == 0


def test_the_block_shows_the_history_a_page_at_a_time(client, workbench, assigned, coach, observe):
    """Issue 17: the block reads one page of observations, not the whole history (its queries do not grow)."""
    def state(page=1):
        with CaptureQueriesContext(connection) as captured:
            status, body = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk, "history_page": page})
        assert status == 200, body
        return len(data_queries(captured)), body

    for days in range(1, 13):
        observe(coach, assigned, days_ago=days)
    client.force_login(coach)
    few, body = state()
    assert len(body["observations"]) == 10
    assert body["history"] == {"page": 1, "pages": 2, "count": 12, "first": 1, "last": 10}
    for days in range(13, 26):
        observe(coach, assigned, days_ago=days)
    many, body = state()
    assert many == few and body["history"]["count"] == 25
    queries, body = state(3)
    assert queries == few and body["history"] == {"page": 3, "pages": 3, "count": 25, "first": 21, "last": 25}
    assert [o["practice_date"] for o in body["observations"]] == sorted(
        (o["practice_date"] for o in body["observations"]), reverse=True), "newest first"
    assert state("not a page")[1]["history"]["page"] == 1 and state(99)[1]["history"]["page"] == 3
    client.force_login(assigned)
    page = view(client, SIGNOFF)
    assert "The latest 10 of your 25 observations." in page and "See them all on your competency page" in page
    assert page.count("mwf-observation-summary") == 10


def test_the_block_offers_approve_and_revoke_as_the_learners_state_allows(client, workbench, assigned, coach,
                                                                         observe):
    """Reviewer's finding: the block offered Approve and Revoke in every state (the page offers them by state)."""
    client.force_login(coach)
    status, body = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk})
    assert status == 200 and body["actions"]["approve"] is False and body["actions"]["revoke"] is False
    assert "Approval opens when the observations meet" in body["actions"]["why_not"]
    for days in (50, 20, 5):
        observe(coach, assigned, days_ago=days)
    body = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk})[1]
    assert body["actions"] == {"approve": True, "revoke": False, "level": "coach", "why_not": ""}
    body = call(client, SIGNOFF, "decide", {"learner_id": assigned.pk, "action": "approve"})[1]["state"]
    assert body["actions"]["approve"] is False and body["actions"]["revoke"] is True
    assert body["actions"]["why_not"].startswith("Certified: nothing to approve now.")
    page = view(client, SIGNOFF)
    assert 'data-decide="approve" hidden' in page and 'data-decide="revoke" hidden' in page, "hidden until a learner is chosen"
