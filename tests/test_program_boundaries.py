"""
Programs and coach assignments cannot reach across courses (issue 24's high finding, ADR 0018).

The attack as it was seen: staff of course B set B's program to course A's, assigned B's coach to a
learner of A who was not enrolled in B, and B's coach recorded observations in B that made the
learner ready in A; A's coach approved without seeing that evidence. Each step is reproduced here
through the REST API (where it was found) and the api.
"""
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment, CompetencyPolicy, LearnerStatus
from sandbox.enrollment import enroll
from sandbox.models import CourseRole

from conftest import COURSE, OTHER_COURSE, make_user, one_set, ratings_for

pytestmark = pytest.mark.django_db(transaction=True)
OTHER_BASE = f"/api/miiwrap-fidelity/v1/courses/{OTHER_COURSE}"


@pytest.fixture
def course_b(version):
    """Course B: its own staff and coach, a policy of its own; course A's people have no role in it."""
    key = api.parse_course_key(OTHER_COURSE)
    staff_b, coach_b = make_user("staff_b"), make_user("coach_b")
    CourseRole.objects.create(course_key=key, user=staff_b, role="staff")
    api.save_policy(staff_b, key, requirement_sets=one_set(version))
    return key, staff_b, coach_b


def send(client, method, path, data):
    return getattr(client, method)(f"{OTHER_BASE}/{path}", json.dumps(data), content_type="application/json")


def observe(observer, learner, course, indicators, days_ago):
    day = (timezone.now().date() - timedelta(days=days_ago)).isoformat()
    api.save_observation(observer, learner, course, {"practice_date": day, "setting": "home_visit",
                                                     "ratings": ratings_for(indicators)}, submit=True)


def test_staff_of_another_course_cannot_join_its_program(client, policy, lead, course_key, course_b):
    api.save_policy(lead, course_key, program="wraparound-a")
    key_b, staff_b, _coach_b = course_b
    client.force_login(staff_b)
    answer = send(client, "patch", "policy/", {"program": "wraparound-a"})
    assert answer.status_code == 400, answer.content
    assert "program" in answer.json()
    assert "staff in every course" in answer.content.decode()
    assert COURSE not in answer.content.decode(), "the program's courses are not named to an outsider"
    assert CompetencyPolicy.objects.get(course_key=key_b).program == ""
    with pytest.raises(api.ValidationError) as refused:
        api.save_policy(staff_b, key_b, program="wraparound-a")
    assert "program" in refused.value.message_dict


def test_staff_of_every_course_of_the_program_may_join_it_and_anyone_may_leave(policy, lead, course_key, course_b):
    key_b, staff_b, _coach_b = course_b
    CourseRole.objects.create(course_key=key_b, user=lead, role="staff")
    api.save_policy(lead, course_key, program="wraparound-a")
    api.save_policy(lead, key_b, program="wraparound-a")  # staff of both: joins
    assert CompetencyPolicy.objects.get(course_key=key_b).program == "wraparound-a"
    api.save_policy(staff_b, key_b, program="")  # leaving shares nothing: B's own staff may
    assert CompetencyPolicy.objects.get(course_key=key_b).program == ""
    api.save_policy(staff_b, key_b, program="b-only")  # a new program name: B's alone
    staff_a = make_user("staff_a")
    CourseRole.objects.create(course_key=course_key, user=staff_a, role="staff")
    with pytest.raises(api.ValidationError):
        api.save_policy(staff_a, course_key, program="b-only")  # staff of A alone have no right in B


def test_a_coach_is_assigned_only_to_a_learner_of_the_course(client, policy, lead, course_key, course_b, learner):
    key_b, staff_b, coach_b = course_b
    enroll(learner, course_key)  # a learner of course A only
    client.force_login(staff_b)
    answer = send(client, "post", "coach-assignments/", {"coach": coach_b.pk, "learner": learner.pk})
    assert answer.status_code == 400, answer.content
    assert "not enrolled in this course" in answer.content.decode()
    upload = client.post(f"{OTHER_BASE}/coach-assignments/upload/",
                         {"file": _csv(f"coach,learner\n{coach_b.username},{learner.username}\n")})
    assert upload.status_code == 400 and "not enrolled in this course" in upload.content.decode()
    assert not CoachAssignment.objects.filter(course_key=key_b).exists()
    assert not LearnerStatus.objects.filter(course_key=key_b, learner=learner).exists()
    enroll(learner, key_b)
    assert send(client, "post", "coach-assignments/", {"coach": coach_b.pk, "learner": learner.pk}).status_code == 201


def test_course_staff_record_observations_only_of_a_learner_of_the_course(
        client, policy, course_key, course_b, learner, indicators):
    key_b, staff_b, _coach_b = course_b
    enroll(learner, course_key)
    client.force_login(staff_b)
    answer = send(client, "post", "observations/", {
        "learner": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
        "ratings": ratings_for(indicators), "submit": True})
    assert answer.status_code == 400 and "not enrolled in this course" in answer.content.decode()
    assert not LearnerStatus.objects.filter(course_key=key_b, learner=learner).exists()
    # B's learner endpoint describes no learner of another course.
    assert client.get(f"{OTHER_BASE}/learners/{learner.pk}/").status_code == 404


def test_the_attack_as_seen_leaves_the_learner_of_a_where_they_were(
        client, policy, lead, coach, course_key, course_b, learner, indicators):
    """The whole finding, step by step through REST: every step is refused and A's status stays."""
    api.save_policy(lead, course_key, program="wraparound-a")
    enroll(learner, course_key)
    api.assign_coach(lead, course_key, coach, learner)
    before = api.learner_status(coach, learner, course_key)
    key_b, staff_b, coach_b = course_b
    client.force_login(staff_b)
    assert client.get(f"{OTHER_BASE}/policy/").status_code == 200
    assert send(client, "patch", "policy/", {"program": "wraparound-a"}).status_code == 400
    assert send(client, "post", "coach-assignments/", {"coach": coach_b.pk, "learner": learner.pk}).status_code == 400
    client.force_login(coach_b)
    for _ in range(4):
        answer = send(client, "post", "observations/", {
            "learner": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "ratings": ratings_for(indicators), "submit": True})
        assert answer.status_code == 403
    after = api.learner_status(coach, learner, course_key)
    assert (after.state, after.qualifying_count) == (before.state, before.qualifying_count) == ("not_started", 0)


def test_the_approving_coach_sees_every_observation_the_decision_rests_on(
        client, policy, lead, coach, course_key, course_b, learner, indicators):
    key_b, _staff_b, coach_b = course_b
    CourseRole.objects.create(course_key=key_b, user=lead, role="staff")
    for course, its_coach in ((course_key, coach), (key_b, coach_b)):
        enroll(learner, course)
        api.save_policy(lead, course, program="wraparound-a")
        api.assign_coach(lead, course, its_coach, learner)
    for days in (30, 20, 10):
        observe(coach_b, learner, key_b, indicators, days)
    status = api.learner_status(coach, learner, course_key)
    assert (status.state, status.qualifying_count) == ("ready", 3)
    history = api.observation_history(coach, learner, course_key)
    assert history.count() == 3, "A's coach sees the evidence recorded in B"
    assert {observation.course_key for observation in history[0:10]} == {OTHER_COURSE}
    client.force_login(coach)
    listed = client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/observations/", {"learner": learner.pk}).json()
    assert listed["count"] == 3 and {row["course_id"] for row in listed["results"]} == {OTHER_COURSE}
    page = client.get(f"/miiwrap-fidelity/courses/{COURSE}/coaching/learners/{learner.pk}/")
    assert page.status_code == 200 and "Recorded in course-v1:MiiWrap+OTHER+2026, a course of the same program" in page.content.decode()
    # The learner sees them too, on their own page of course A.
    assert api.observation_history(learner, learner, course_key).count() == 3


def _csv(text):
    from django.core.files.uploadedfile import SimpleUploadedFile  # pylint: disable=import-outside-toplevel

    return SimpleUploadedFile("assign.csv", text.encode(), content_type="text/csv")


def test_staff_read_program_evidence_only_of_their_own_learners(
        client, policy, lead, coach, course_key, course_b, learner, indicators):
    """Review finding: the history added the program's evidence for any user id, learner here or not."""
    key_b, _staff_b, coach_b = course_b
    CourseRole.objects.create(course_key=key_b, user=lead, role="staff")
    for course in (course_key, key_b):
        api.save_policy(lead, course, program="wraparound-a")
    enroll(learner, key_b)  # a learner of B only
    api.assign_coach(lead, key_b, coach_b, learner)
    observe(coach_b, learner, key_b, indicators, 5)
    staff_a = make_user("staff_a_only")
    CourseRole.objects.create(course_key=course_key, user=staff_a, role="staff")
    assert api.observation_history(staff_a, learner, course_key).count() == 0
    enroll(learner, course_key)  # now a learner of A too: A's decision rests on that evidence
    assert api.observation_history(staff_a, learner, course_key).count() == 1


def test_a_start_date_is_set_only_for_a_learner_of_the_course(policy, course_key, course_b, learner):
    """Review finding: a start date made a status row for anyone, and with it a 'learner of the course'."""
    key_b, staff_b, coach_b = course_b
    enroll(learner, course_key)
    with pytest.raises(api.ValidationError):
        api.set_start_date(staff_b, key_b, learner, "2026-01-05")
    report, changed = api.set_start_dates_from_csv(staff_b, key_b, f"learner,start_date\n{learner.username},2026-01-05\n")
    assert changed == 0 and report[0]["errors"] == ["This learner is not enrolled in this course."]
    assert not LearnerStatus.objects.filter(course_key=key_b, learner=learner).exists()
    with pytest.raises(api.ValidationError):
        api.assign_coach(staff_b, key_b, coach_b, learner)


@pytest.mark.parametrize("upload", ["coaches", "start_dates"])
def test_a_csv_upload_checks_every_learner_in_a_fixed_number_of_statements(policy, lead, coach, course_key, upload):
    """Review finding: each row's 'learner of the course' check cost two statements (N+1)."""
    def statements(count):
        learners = [make_user(f"csv_{upload}_{count}_{index}") for index in range(count)]
        for learner in learners:
            enroll(learner, course_key)
        if upload == "coaches":
            text = "coach,learner\n" + "".join(f"{coach.username},{learner.username}\n" for learner in learners)
            run = lambda: api.assign_coaches_from_csv(lead, course_key, text + "nobody,nobody\n")  # noqa: E731
        else:
            text = "learner,start_date\n" + "".join(f"{learner.username},2026-01-05\n" for learner in learners)
            run = lambda: api.set_start_dates_from_csv(lead, course_key, text + "nobody,2026-01-05\n")  # noqa: E731
        with CaptureQueriesContext(connection) as captured:
            report, changed = run()  # one unknown row: all or nothing, so only the checks run
        assert changed == 0 and len(report) == count + 1
        return len(captured.captured_queries)

    assert statements(2) == statements(20)


def test_joining_a_course_already_ready_from_the_programs_evidence_is_announced(
        policy, lead, course_key, course_b, learner, indicators):
    """Issue 23: an enrollment or an assignment that stores a state at once has its consequences too."""
    from miiwrap_fidelity.records.models import Consequence  # pylint: disable=import-outside-toplevel

    key_b, _staff_b, coach_b = course_b
    CourseRole.objects.create(course_key=key_b, user=lead, role="staff")
    for course in (course_key, key_b):
        api.save_policy(lead, course, program="wraparound-a")
    enroll(learner, key_b)
    api.assign_coach(lead, key_b, coach_b, learner)
    for days in (30, 20, 10):
        observe(coach_b, learner, key_b, indicators, days)
    enroll(learner, course_key)  # the platform's enrollment: A's row is made, ready at once
    assert api.learner_status(lead, learner, course_key).state == "ready"
    announced = Consequence.objects.filter(kind="announce", course_key=course_key, learner_id=learner.pk)
    assert [(row.payload["state"], row.payload["cause"]) for row in announced] == [("ready", "enrolled")]
