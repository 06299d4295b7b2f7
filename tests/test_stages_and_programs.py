"""
Stages and programs (policy rules v2, ADR 0013): a later stage needs the earlier stage's active
certification and counts only practice observed after it; a change in the earlier stage (revoked)
re-evaluates the later one; courses of a program share evidence. End to end through the api and the
real certificate gate.
"""
import itertools
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.urls import reverse
from django.utils import timezone
from policy_form import policy_post

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CompetencyPolicy, LearnerStatus
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.wording.reason_sentences import sentence
from sandbox.models import CourseRole

from conftest import OTHER_COURSE, assign_coach, one_set, ratings_for, run_gate
from conftest import gate_refusal as refusal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stage2(policy, lead, coach, version, course_key):
    """A second course (stage 2, or a program sibling) with the same rules, the same lead and coach."""
    other = api.parse_course_key(OTHER_COURSE)
    CourseRole.objects.create(course_key=other, user=lead, role="staff")
    api.save_policy(lead, other, requirement_sets=one_set(version, min_observations=2))
    return other


SESSIONS = itertools.count()


def observe(coach, learner, course_key, indicators, days_ago):
    """A session of its own (two on one day differ by their note: the same one sent again is not a second)."""
    day = (timezone.now().date() - timedelta(days=days_ago)).isoformat()
    api.save_observation(coach, learner, course_key, {"practice_date": day, "setting": "home_visit",
                                                      "overall_note": f"Session {next(SESSIONS)}.",
                                                      "ratings": ratings_for(indicators)}, submit=True)


def state(learner, course_key):
    return LearnerStatus.objects.get(learner=learner, course_key=course_key).state


def test_stage_two_counts_only_practice_after_stage_one_and_follows_its_revocation(
        stage2, lead, coach, learner, course_key, indicators):
    api.save_policy(lead, stage2, prerequisite_course=str(course_key))
    for course in (course_key, stage2):
        assign_coach(lead, course, coach, learner)
    for days in (40, 30):  # stage-2 practice before stage 1 is certified: does not count there
        observe(coach, learner, stage2, indicators, days)
    # the earlier stage by its name (issue 25: the reason showed the course id)
    assert ("First, your certification in the earlier stage “MiiWrap: high-fidelity wraparound (sandbox)” "
            "must be active") in refusal(learner, stage2)
    assert "0 of 2 qualifying observations" in refusal(learner, stage2)

    for days in (20, 15, 10):
        observe(coach, learner, course_key, indicators, days)
    api.sign_off(coach, learner, course_key)
    assert run_gate(learner, course_key)[0] == learner
    assert "0 of 2 qualifying observations" in refusal(learner, stage2)  # stage 1 certified today
    for days in (0, 0):  # practice after stage 1's certification (today counts only after its day)
        observe(coach, learner, stage2, indicators, days)
    assert state(learner, stage2) == "in_progress"  # both on the day of stage 1's certification

    # Move stage 1's certification back a few days: the stage-2 practice of today now counts.
    from miiwrap_fidelity.records.models import Certification  # pylint: disable=import-outside-toplevel

    Certification.objects.filter(course_key=course_key, learner=learner).update(
        issued_at=timezone.now() - timedelta(days=5))
    api.reevaluate(learner, stage2)
    assert state(learner, stage2) == "ready"

    # Stage 1 revoked: stage 2 is evaluated again by itself (signal, task), and cannot be signed off.
    api.revoke(coach, learner, course_key, "Practice drifted.")
    assert state(learner, stage2) == "in_progress"
    assert "earlier stage" in refusal(learner, stage2)
    with pytest.raises(api.ValidationError):
        api.sign_off(coach, learner, stage2)


def test_a_stage_two_certification_stands_when_stage_one_is_later_revoked(
        stage2, lead, coach, learner, course_key, indicators):
    api.save_policy(lead, stage2, prerequisite_course=str(course_key))
    for course in (course_key, stage2):
        assign_coach(lead, course, coach, learner)
    for days in (30, 20, 10):
        observe(coach, learner, course_key, indicators, days)
    api.sign_off(coach, learner, course_key)
    from miiwrap_fidelity.records.models import Certification  # pylint: disable=import-outside-toplevel

    Certification.objects.filter(course_key=course_key, learner=learner).update(
        issued_at=timezone.now() - timedelta(days=9))
    for days in (5, 3):
        observe(coach, learner, stage2, indicators, days)
    api.sign_off(coach, learner, stage2)
    assert run_gate(learner, stage2)[0] == learner
    api.revoke(coach, learner, course_key, "Practice drifted.")
    assert state(learner, stage2) == "certified" and run_gate(learner, stage2)[0] == learner


def test_program_courses_share_evidence(stage2, lead, coach, learner, course_key, indicators):
    for course in (course_key, stage2):
        api.save_policy(lead, course, program="wraparound-2026")
        assign_coach(lead, course, coach, learner)
    observe(coach, learner, course_key, indicators, 20)
    assert state(learner, stage2) == "in_progress"  # one observation in the sibling course counts here
    observe(coach, learner, course_key, indicators, 10)
    assert state(learner, stage2) == "ready"  # re-evaluated when the sibling's evidence changed
    assert api.learner_status(coach, learner, stage2).qualifying_count == 2
    api.sign_off(coach, learner, stage2)
    assert run_gate(learner, stage2)[0] == learner
    assert "1 of 3" not in (refusal(learner, course_key) or "") and state(learner, course_key) == "in_progress"
    api.save_policy(lead, stage2, program="")  # leaves the program: its evidence is its own again
    assert api.learner_status(coach, learner, stage2).state == "certified"  # a certification stands


def test_prerequisite_is_validated_naming_the_field(stage2, lead, course_key):
    # issue 25: a typo in the prerequisite was accepted and dropped every learner of the course to 0 of 4
    for value, words in (("not a course", "Not a valid course id"), (str(stage2), "its own prerequisite"),
                         ("course-v1:MiiWrap+INTRO100+2026", "No course with a competency policy has the id "
                                                             "course-v1:MiiWrap+INTRO100+2026")):
        with pytest.raises(api.ValidationError) as caught:
            api.save_policy(lead, stage2, prerequisite_course=value)
        assert words in caught.value.message_dict["prerequisite_course"][0]
    api.save_policy(lead, stage2, prerequisite_course=str(course_key))
    with pytest.raises(api.ValidationError) as caught:  # stage 1 after stage 2 after stage 1
        api.save_policy(lead, course_key, prerequisite_course=str(stage2))
    assert "lead back to it" in caught.value.message_dict["prerequisite_course"][0]
    assert api.save_policy(lead, stage2, prerequisite_course="").prerequisite_course == ""


def test_prerequisite_rules_pure():
    now = datetime(2026, 6, 1, tzinfo=dt_timezone.utc)
    issued = now - timedelta(days=10)
    active = competency.CertificationRecord(1, issued, now + timedelta(days=20), None)
    observations = [competency.ObservationRecord(pk, 1, 1, (now - timedelta(days=days)).date(), 5, 5)
                    for pk, days in ((1, 11), (2, 10), (3, 9))]
    rules = competency.Rules((competency.simple_set(1, min_observations=1),))
    decision = competency.decide(rules, observations, [], None, now,
                                 prerequisite=competency.Prerequisite("course-v1:A+B+C", active))
    assert [obs.id for obs in decision.qualifying] == [3]  # strictly after the day it was issued
    assert decision.stale_after == active.expires_at  # when stage 1 expires, this decision may change
    missing = competency.decide(rules, observations, [], None, now,
                                prerequisite=competency.Prerequisite("course-v1:A+B+C", None))
    assert missing.reasons[0].code == "prerequisite_not_certified" and missing.qualifying == ()
    assert "earlier stage \u201ccourse-v1:A+B+C\u201d is not active" in sentence(missing.reasons[0], reviewer=True)


def test_gate_stays_at_most_two_queries_with_a_stage_a_program_and_a_deadline(
        stage2, lead, coach, learner, course_key, indicators):
    from django.db import connection  # pylint: disable=import-outside-toplevel
    from django.test.utils import CaptureQueriesContext  # pylint: disable=import-outside-toplevel

    api.save_policy(lead, stage2, prerequisite_course=str(course_key), program="p1", deadline_days=30)
    api.save_policy(lead, course_key, program="p1")
    for course in (course_key, stage2):
        assign_coach(lead, course, coach, learner)
    observe(coach, learner, course_key, indicators, 3)
    with CaptureQueriesContext(connection) as captured:
        assert "earlier stage" in refusal(learner, stage2)
    assert 1 <= len(captured.captured_queries) <= 2


def test_joining_a_program_re_evaluates_the_courses_already_in_it(stage2, lead, coach, learner, course_key,
                                                                    indicators):
    for course in (course_key, stage2):
        assign_coach(lead, course, coach, learner)
    for days in (20, 10):
        observe(coach, learner, course_key, indicators, days)
    api.save_policy(lead, stage2, program="wraparound-2026")  # alone in the program so far
    assert api.learner_status(coach, learner, stage2).qualifying_count == 0
    api.save_policy(lead, course_key, program="wraparound-2026")  # joins: stage2 now reads its evidence
    assert api.learner_status(coach, learner, stage2).qualifying_count == 2
    api.save_policy(lead, course_key, program="")  # leaves again
    assert api.learner_status(coach, learner, stage2).qualifying_count == 0


def test_the_policy_page_names_the_prerequisite_course(stage2, lead, course_key, client):
    api.save_policy(lead, stage2, prerequisite_course=str(course_key))
    client.force_login(lead)
    page = client.get(reverse("miiwrap_fidelity:policy", args=[str(stage2)])).content.decode()
    # chosen by name among the courses with a policy (issue 25: an id alone hid a typo)
    assert f'<option value="{course_key}" selected>MiiWrap: high-fidelity wraparound (sandbox)</option>' in page
    url = reverse("miiwrap_fidelity:policy", args=[str(stage2)])
    sets = CompetencyPolicy.objects.get(course_key=stage2).requirement_sets
    refused = client.post(url, policy_post(sets, prerequisite_course="course-v1:MiiWrap+INTRO100+2026"))
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()


def test_a_platform_that_cannot_name_the_earlier_course_does_not_stop_the_evaluation(stage2, lead, coach, learner,
                                                                                    course_key, monkeypatch):
    """The review: the LMS's course overview lookup can fail; the name only words a reason."""
    from miiwrap_fidelity.seams import platform  # pylint: disable=import-outside-toplevel

    def broken(self, key):
        raise RuntimeError("modulestore down")
    monkeypatch.setattr(type(platform.get_platform()), "course_name", broken)
    api.save_policy(lead, stage2, prerequisite_course=str(course_key))
    assign_coach(lead, stage2, coach, learner)
    assert "earlier stage \u201ccourse-v1:MiiWrap+FID101+2026\u201d" in refusal(learner, stage2)
