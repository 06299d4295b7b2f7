"""
Enrolled learners are listed before anyone coaches them: openedx-events' COURSE_ENROLLMENT_CREATED
(sent by the sandbox as edx-platform sends it, received through the plugin's signals_config) and the
platform's enrollments when a policy is set up later.
"""
import pytest
from django.core.exceptions import PermissionDenied
from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import LearnerStatus
from sandbox.enrollment import enroll

from conftest import COURSE, OTHER_COURSE, assign_coach, make_user, one_set

pytestmark = pytest.mark.django_db


def listed(viewer, course_key, **filters):
    rows = api.learner_rows(api.learner_statuses(viewer, course_key, **filters)[:50])
    return [row["learner"].username for row in rows]


def test_an_enrolled_learner_is_listed_for_staff_until_a_coach_takes_them(policy, lead, coach, course_key):
    newcomer = make_user("newcomer")
    enroll(newcomer, course_key)
    status = LearnerStatus.objects.get(learner=newcomer, course_key=course_key)
    assert status.state == "not_started" and status.required_count == 3
    assert listed(lead, course_key) == ["newcomer"]
    assert listed(lead, course_key, coach="none") == ["newcomer"]
    with pytest.raises(PermissionDenied):  # not a coach of anyone yet
        api.learner_statuses(coach, course_key)
    assign_coach(lead, course_key, coach, newcomer)
    assert listed(lead, course_key, coach="none") == []
    assert listed(coach, course_key) == ["newcomer"]
    with pytest.raises(PermissionDenied):
        api.learner_statuses(coach, course_key, coach="none")


def test_enrolling_where_there_is_no_policy_writes_nothing(policy, course_key):
    enroll(make_user("elsewhere"), api.parse_course_key(OTHER_COURSE))
    assert not LearnerStatus.objects.filter(learner__username="elsewhere").exists()


def test_an_inactive_or_unknown_enrollment_is_ignored(policy, course_key):
    user = make_user("inactive")
    for user_id, active in ((user.pk, False), (99999, True)):
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=CourseEnrollmentData(
            user=UserData(id=user_id, is_active=True, pii=UserPersonalData(username="x", email="x@example.com")),
            course=CourseData(course_key=course_key), mode="audit", is_active=active, creation_date=None))
    assert not LearnerStatus.objects.exists()


def test_a_policy_set_up_later_lists_the_learners_already_enrolled(lead, version, course_key,
                                                                   django_capture_on_commit_callbacks):
    early = [make_user(f"early{i}") for i in range(3)]
    for user in early:
        enroll(user, course_key)
    assert not LearnerStatus.objects.exists(), "no policy yet"
    with django_capture_on_commit_callbacks(execute=True):
        api.save_policy(lead, course_key, requirement_sets=one_set(version))
    assert listed(lead, course_key, coach="none") == ["early0", "early1", "early2"]


def test_the_workspace_offers_the_no_coach_filter_to_staff(client, policy, lead, coach, course_key):
    enroll(make_user("waiting"), course_key)
    assign_coach(lead, course_key, coach, make_user("taken"))
    client.force_login(lead)
    page = client.get(f"/miiwrap-fidelity/courses/{COURSE}/coaching/", {"coach": "none"}).content.decode()
    assert "No coach yet" in page and "waiting" in page and "taken" not in page
    response = client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/", {"coach": "none"})
    assert [row["learner"]["username"] for row in response.json()["results"]] == ["waiting"]
    assert client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/", {"coach": "nobody"}).status_code == 400


def test_leaving_before_anything_was_recorded_leaves_the_list_records_stay(policy, lead, coach, course_key,
                                                                           observe):
    from sandbox.enrollment import unenroll  # pylint: disable=import-outside-toplevel

    passer_by, practitioner = make_user("passer_by"), make_user("practitioner")
    for person in (passer_by, practitioner):
        enroll(person, course_key)
    assign_coach(lead, course_key, coach, practitioner)
    observe(coach, practitioner, days_ago=3)
    for person in (passer_by, practitioner):
        unenroll(person, course_key)
    assert listed(lead, course_key) == ["practitioner"], "observed practice is a professional record"
    rows = api.learner_rows(api.learner_statuses(lead, course_key)[:10])
    assert rows[0]["enrolled"] is False, "shown as having left"
    enroll(passer_by, course_key)
    enroll(practitioner, course_key)
    assert listed(lead, course_key) == ["passer_by", "practitioner"], "enrolling again lists them again"
    assert all(row["enrolled"] for row in api.learner_rows(api.learner_statuses(lead, course_key)[:10]))


def test_the_workspace_and_api_mark_who_left(client, policy, lead, coach, course_key, observe):
    from sandbox.enrollment import unenroll  # pylint: disable=import-outside-toplevel

    leaver = make_user("leaver")
    enroll(leaver, course_key)
    assign_coach(lead, course_key, coach, leaver)
    unenroll(leaver, course_key)
    client.force_login(coach)
    assert "(left the course)" in client.get(f"/miiwrap-fidelity/courses/{COURSE}/coaching/").content.decode()
    row = client.get(f"/api/miiwrap-fidelity/v1/courses/{COURSE}/learners/").json()["results"][0]
    assert row["learner"]["username"] == "leaver" and row["enrolled"] is False
