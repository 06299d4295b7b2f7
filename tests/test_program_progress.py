"""
Program progress (issue 25, ADR 0025): courses whose policies name the same program, as the learner,
their coaches and course staff may see them (page, REST, export), and the program's completed event,
recorded once per change through the outbox.
"""
import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import exports, outbox
from miiwrap_fidelity.records.models import Certification, Consequence
from miiwrap_fidelity.records.program_completion import ProgramCompletion
from miiwrap_fidelity.rules import programs
from sandbox.enrollment import enroll
from sandbox.models import CourseRole, TrackingEvent

from conftest import COURSE, OTHER_COURSE, make_user, ratings_for

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/api/miiwrap-fidelity/v1/courses"
COMPLETED, LAPSED = "edx.miiwrap_fidelity.program.completed", "edx.miiwrap_fidelity.program.completion_lapsed"


def requirement_sets(version):
    return [{"instrument_version": version.pk, "min_observations": 1, "window_days": 180, "min_distinct_observers": 1,
             "setting": "", "conditions": [{"measure": "percent", "op": ">=", "value": 80}]}]


@pytest.fixture
def program(db, version, indicators):
    """Courses A and B in program "p1": staff of both, a coach in each, a learner of both."""
    key_a, key_b = api.parse_course_key(COURSE), api.parse_course_key(OTHER_COURSE)
    staff, staff_b = make_user("staff"), make_user("staff_b")
    for key in (key_a, key_b):
        CourseRole.objects.create(course_key=key, user=staff, role="staff")
    CourseRole.objects.create(course_key=key_b, user=staff_b, role="staff")
    for key in (key_a, key_b):
        api.save_policy(staff, key, requirement_sets=requirement_sets(version), program="p1")
    learner, coach_a, coach_b = make_user("learner"), make_user("coach_a"), make_user("coach_b")
    for key, coach in ((key_a, coach_a), (key_b, coach_b)):
        enroll(learner, key)
        api.assign_coach(staff, key, coach, learner)

    class Program:
        a, b = key_a, key_b

        def observe(self, coach, course):
            day = (timezone.now().date() - timedelta(days=1)).isoformat()
            api.save_observation(coach, learner, course, {"practice_date": day, "setting": "home_visit",
                                                          "ratings": ratings_for(indicators)}, submit=True)

        def certify_both(self):
            self.observe(coach_a, key_a)  # program evidence: it counts in B too
            api.sign_off(coach_a, learner, key_a)
            api.sign_off(coach_b, learner, key_b)

    world = Program()
    world.staff, world.staff_b, world.learner, world.coach_a, world.coach_b = staff, staff_b, learner, coach_a, coach_b
    return world


@pytest.fixture
def solo(db, version, indicators):
    """A course in no program, with a learner observed once (ready) and their coach."""
    key = api.parse_course_key(COURSE)
    staff, learner, coach = make_user("solo_staff"), make_user("solo_learner"), make_user("solo_coach")
    CourseRole.objects.create(course_key=key, user=staff, role="staff")
    api.save_policy(staff, key, requirement_sets=requirement_sets(version))
    enroll(learner, key)
    api.assign_coach(staff, key, coach, learner)
    day = (timezone.now().date() - timedelta(days=1)).isoformat()
    api.save_observation(coach, learner, key, {"practice_date": day, "setting": "home_visit",
                                               "ratings": ratings_for(indicators)}, submit=True)
    return key, learner, coach


def events(name):
    return list(TrackingEvent.objects.filter(name=name).values_list("data", flat=True))


# --- the api ---------------------------------------------------------------------------------------

def test_the_learner_sees_every_course_of_the_program_in_order(program):
    program.observe(program.coach_a, program.a)
    api.sign_off(program.coach_a, program.learner, program.a)
    progress = api.program_progress(program.learner, program.learner, program.a)
    assert (progress.program, progress.total, progress.done, progress.hidden, progress.completed) == ("p1", 2, 1, 0,
                                                                                                       False)
    assert [(c.course_key, c.state, c.done) for c in progress.courses] == [(COURSE, "certified", True),
                                                                          (OTHER_COURSE, "ready", False)]
    assert progress.courses[1].state_label == "Ready for sign-off"
    assert progress.courses[0].certified_until == Certification.objects.get(course_key=program.a).expires_at


def test_complete_when_every_course_is_certified_and_no_longer_once_one_expires(program):
    program.certify_both()
    progress = api.program_progress(program.learner, program.learner, program.b)
    assert (progress.done, progress.completed) == (2, True)
    expiry = timezone.now() + timedelta(days=1)
    Certification.objects.filter(course_key=program.b).update(expires_at=expiry)  # B's lapses first
    later = api.program_progress(program.learner, program.learner, program.b, now=expiry + timedelta(seconds=1))
    assert (later.done, later.completed) == (1, False)
    assert later.courses[1].state == "expired", "the clock is applied on reading (the row is not stale-stored yet)"


def test_stages_come_first_whatever_their_ids(program, version):
    api.save_policy(program.staff, program.a, prerequisite_course=OTHER_COURSE)  # B is A's stage 1
    progress = api.program_progress(program.learner, program.learner, program.a)
    assert [c.course_key for c in progress.courses] == [OTHER_COURSE, COURSE]
    assert programs.stage_order({"c": "", "a": "", "b": "c"}) == ["a", "c", "b"]
    assert programs.stage_order({"x": "y", "y": "x"}) == ["x", "y"], "a circle (refused on save) still lists"


def test_a_coach_of_course_a_only_is_not_told_course_bs_state(program):
    program.certify_both()
    progress = api.program_progress(program.coach_a, program.learner, program.a)
    assert [c.course_key for c in progress.courses] == [COURSE]
    assert (progress.total, progress.hidden, progress.done, progress.completed) == (2, 1, 1, None)
    with pytest.raises(api.PermissionDenied):  # nor from B's side
        api.program_progress(program.coach_a, program.learner, program.b)
    staff_b = api.program_progress(program.staff_b, program.learner, program.b)
    assert [c.course_key for c in staff_b.courses] == [OTHER_COURSE] and staff_b.completed is None
    both = api.program_progress(program.staff, program.learner, program.a)
    assert (both.hidden, both.done, both.completed) == (0, 2, True)


def test_a_visible_course_not_done_tells_the_program_is_not_complete(program):
    program.observe(program.coach_a, program.a)
    api.sign_off(program.coach_b, program.learner, program.b)  # B certified, A not
    progress = api.program_progress(program.coach_a, program.learner, program.a)
    assert (progress.hidden, progress.done, progress.completed) == (1, 0, False)


def test_refusals(program, version):
    stranger = make_user("stranger")
    with pytest.raises(api.PermissionDenied):
        api.program_progress(stranger, program.learner, program.a)
    with pytest.raises(api.ValidationError):
        api.program_progress(program.staff, program.learner, "not-a-course")
    with pytest.raises(api.ValidationError):
        api.program_progress(program.staff, 999999, program.a)
    outsider = make_user("outsider")  # a learner of no course of the program
    with pytest.raises(api.NotEnrolled):
        api.program_progress(program.staff, outsider, program.a)
    solo = api.parse_course_key("course-v1:MiiWrap+SOLO+2026")
    CourseRole.objects.create(course_key=solo, user=program.staff, role="staff")
    api.save_policy(program.staff, solo, requirement_sets=requirement_sets(version))
    enroll(program.learner, solo)
    assert api.program_progress(program.learner, program.learner, solo) is None


def test_the_api_call_costs_a_fixed_number_of_queries(program, django_assert_num_queries):
    program.certify_both()
    # The policy, the program's courses, the learner's status rows in them.
    with django_assert_num_queries(3):
        api.program_progress(program.learner, program.learner, program.a)
    coach = api.get_user(program.coach_a.pk)
    # And who may see the learner: the coach's assignment here, their course roles (read once), and
    # whether they coach the learner in the program's other course.
    with django_assert_num_queries(6):
        api.program_progress(coach, program.learner, program.a)


# --- the program's event ---------------------------------------------------------------------------

def test_completing_the_program_is_announced_once(program):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    api.program_completion_changed.connect(receiver, dispatch_uid="test.program")
    try:
        program.certify_both()
        assert len(events(COMPLETED)) == 1
        event = events(COMPLETED)[0]
        assert event == {"user_id": program.learner.pk, "course_id": OTHER_COURSE, "program": "p1",
                         "course_ids": [COURSE, OTHER_COURSE]}
        assert [(r["learner_id"], r["program"], r["completed"]) for r in received] == [(program.learner.pk, "p1", True)]
        # Evaluated again, in both courses, by every path: nothing is announced twice.
        for key in (program.a, program.b):
            api.reevaluate(program.learner, key)
            api.reevaluate_course(key)
        api.refresh_stale_statuses(now=timezone.now() + timedelta(days=1))
        api.deliver_consequences(now=timezone.now() + timedelta(hours=2))
        assert api.settle_program(program.learner.pk, "p1", program.a) is None
        assert len(events(COMPLETED)) == 1 and len(received) == 1
        assert ProgramCompletion.objects.get(learner=program.learner, program="p1").completed
    finally:
        api.program_completion_changed.disconnect(dispatch_uid="test.program")


def test_a_revocation_ends_the_completion_once(program):
    program.certify_both()
    api.revoke(program.staff, program.learner, program.b, "Practice no longer meets the model.")
    assert len(events(LAPSED)) == 1 and len(events(COMPLETED)) == 1
    assert not ProgramCompletion.objects.get(learner=program.learner, program="p1").completed
    api.reevaluate(program.learner, program.b)
    assert len(events(LAPSED)) == 1


def test_an_expiry_stored_by_the_clock_ends_the_completion(program):
    program.certify_both()
    expiry = Certification.objects.get(course_key=program.a).expires_at
    api.expire_certifications(now=expiry + timedelta(minutes=1))
    api.deliver_consequences(now=expiry + timedelta(minutes=1))
    assert len(events(LAPSED)) == 1


def test_the_event_waits_in_the_outbox_while_it_cannot_be_decided(program):
    """A handler that fails (the database or a worker down) leaves the check due; the next pass sends the event once."""
    def failing(row):
        raise RuntimeError("down")

    kept = outbox.HANDLERS[programs.PROGRAM_CHECK]
    outbox.HANDLERS[programs.PROGRAM_CHECK] = failing
    try:
        program.certify_both()
    finally:
        outbox.HANDLERS[programs.PROGRAM_CHECK] = kept
    assert events(COMPLETED) == []
    assert Consequence.objects.filter(kind=programs.PROGRAM_CHECK, delivered_at__isnull=True).exists()
    later = timezone.now() + timedelta(hours=2)
    api.deliver_consequences(now=later)
    api.deliver_consequences(now=later)
    assert len(events(COMPLETED)) == 1


def test_a_course_in_no_program_records_no_program_check(solo):
    key, learner, coach = solo
    api.sign_off(coach, learner, key)
    assert api.learner_status(learner, learner, key).state == "certified"
    assert not Consequence.objects.filter(kind__in=[programs.PROGRAM_CHECK, programs.PROGRAM_CHANGED]).exists()
    assert not ProgramCompletion.objects.exists()


def test_retirement_forgets_the_learners_programs(program):
    program.certify_both()
    api.retire_user(program.learner.pk)
    assert not ProgramCompletion.objects.exists()


# --- pages -----------------------------------------------------------------------------------------

def test_the_learners_page_and_the_coachs_page_show_the_program(client, program):
    program.observe(program.coach_a, program.a)
    api.sign_off(program.coach_a, program.learner, program.a)
    client.force_login(program.learner)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert "Program p1: 1 of 2 courses certified." in page
    assert OTHER_COURSE in page and "Ready for sign-off" in page
    client.force_login(program.coach_a)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, program.learner.pk])).content.decode()
    assert "Program p1: 1 of the 1 course you can see certified." in page
    assert "1 other course of the program is not shown" in page
    assert OTHER_COURSE not in page, "course B is not named to a coach of A only"
    client.force_login(program.staff)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, program.learner.pk])).content.decode()
    assert "Program p1: 1 of 2 courses certified." in page


def test_a_page_of_a_course_in_no_program_shows_none(client, solo):
    _key, learner, _coach = solo
    client.force_login(learner)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert "Ready for sign-off" in page and "mwf-program" not in page


# --- REST ------------------------------------------------------------------------------------------

def test_rest_program_progress(client, program):
    program.certify_both()
    path = f"{BASE}/{COURSE}/learners/{program.learner.pk}/program/"
    client.force_login(program.learner)
    answer = client.get(path)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["program"], body["total"], body["done"], body["hidden"], body["completed"]) == ("p1", 2, 2, 0, True)
    assert [c["course_id"] for c in body["courses"]] == [COURSE, OTHER_COURSE]
    client.force_login(program.coach_a)
    body = client.get(path).json()
    assert [c["course_id"] for c in body["courses"]] == [COURSE] and body["completed"] is None
    assert OTHER_COURSE not in client.get(path).content.decode()
    assert client.get(f"{BASE}/{OTHER_COURSE}/learners/{program.learner.pk}/program/").status_code == 403
    client.force_login(make_user("stranger"))
    assert client.get(path).status_code == 403


def test_rest_refuses_bad_input_with_a_400_never_a_500(client, program):
    client.force_login(program.staff)
    assert client.get(f"{BASE}/not-a-course/learners/{program.learner.pk}/program/").status_code == 400
    assert client.get(f"{BASE}/{COURSE}/learners/999999/program/").status_code == 400
    outsider = make_user("outsider")
    assert client.get(f"{BASE}/{COURSE}/learners/{outsider.pk}/program/").status_code == 404
    elsewhere = f"{BASE}/course-v1:MiiWrap+NONE+2026/learners/{program.learner.pk}/program/"
    assert client.get(elsewhere).status_code == 403, "no right in a course without a policy"
    client.force_login(program.learner)
    assert client.get(elsewhere).status_code == 400, "the learner themselves: that course has no policy"


def test_rest_answers_404_outside_a_program(client, solo):
    _key, learner, _coach = solo
    client.force_login(learner)
    answer = client.get(f"{BASE}/{COURSE}/learners/{learner.pk}/program/")
    assert answer.status_code == 404 and answer.json()["detail"]


def test_the_schema_documents_program_progress(client):
    paths = client.get("/api/miiwrap-fidelity/v1/schema/").json()["paths"]
    operation = paths["/api/miiwrap-fidelity/v1/courses/{course_id}/learners/{user_id}/program/"]["get"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])


# --- the export ------------------------------------------------------------------------------------

def read_csv(lines):
    return list(csv.reader(io.StringIO("".join(lines).lstrip("\ufeff"))))


def test_the_export_shows_the_courses_the_exporter_is_staff_in(program, monkeypatch):
    program.certify_both()
    others = [make_user(f"learner{n}") for n in range(3)]
    for other in others:
        enroll(other, program.a)
    monkeypatch.setattr(exports, "CHUNK", 2)  # streamed: chunks of two learners
    header, *rows = read_csv(api.export_lines(program.staff, program.a, "program"))
    assert header == [*exports.PROGRAM_HEADER, f"state:{COURSE}", f"state:{OTHER_COURSE}"]
    by_learner = {row[1]: row for row in rows}
    assert set(by_learner) == {"learner", "learner0", "learner1", "learner2"}
    assert by_learner["learner"][2:] == ["p1", "2", "2", "2", "True", "certified", "certified"]
    assert by_learner["learner0"][2:] == ["p1", "2", "2", "0", "False", "not_started", "not_enrolled"]
    # Staff of B alone: B's column only; the completion depends on A, which they cannot see.
    header, *rows = read_csv(api.export_lines(program.staff_b, program.b, "program"))
    assert header[-1] == f"state:{OTHER_COURSE}" and f"state:{COURSE}" not in header
    assert [row[2:] for row in rows] == [["p1", "2", "1", "1", "", "certified"]]


def test_the_export_through_the_page_is_staff_only(client, program):
    client.force_login(program.staff)
    url = reverse("miiwrap_fidelity:export", args=[COURSE, "program"])
    answer = client.get(url)
    assert answer.status_code == 200 and "program_completed" in b"".join(answer.streaming_content).decode()
    client.force_login(program.coach_a)
    assert client.get(url).status_code == 403


# --- xAPI (where event-routing-backends is installed: the xapi tox env) ------------------------------

def test_the_program_events_become_valid_xapi_statements(program, settings, monkeypatch):
    pytest.importorskip("event_routing_backends")
    # pylint: disable=import-outside-toplevel  (the package is there only in the xapi env)
    from event_routing_backends.processors.xapi.transformer_processor import XApiProcessor
    from tincan import Statement

    from miiwrap_fidelity.seams import xapi

    lms = "https://lms.example.org"
    settings.LMS_ROOT_URL, settings.XAPI_EVENTS_ENABLED, settings.XAPI_AGENT_IFI_TYPE = lms, True, "external_id"
    monkeypatch.setattr("event_routing_backends.processors.xapi.transformer.get_anonymous_user_id",
                        lambda user_id, kind: f"anon-{user_id}")
    program.certify_both()
    api.revoke(program.staff, program.learner, program.b, "Practice no longer meets the model.")
    tracked = [{"name": event.name, "timestamp": event.created_at.isoformat(), "data": event.data, "context": {}}
               for event in TrackingEvent.objects.filter(name__in=[COMPLETED, LAPSED]).order_by("id")]
    statements = XApiProcessor()(tracked)
    assert len(statements) == len(tracked) == 2
    completed, lapsed = (Statement.from_json(json.dumps(statement)) for statement in statements)
    assert completed.verb.id == "http://adlnet.gov/expapi/verbs/completed" and completed.result.completion
    assert lapsed.verb.id == xapi.VOCABULARY + "/verbs/lapsed"
    for statement, course in ((completed, OTHER_COURSE), (lapsed, OTHER_COURSE)):
        assert statement.object.id == f"{lms}/miiwrap-fidelity/program/p1"
        assert statement.actor.account.name == f"anon-{program.learner.pk}"
        assert statement.context.context_activities.parent[0].id == f"{lms}/course/{course}"
        assert statement.context.extensions[xapi.extension("course-ids")] == [COURSE, OTHER_COURSE]
