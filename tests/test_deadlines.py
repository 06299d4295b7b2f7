"""
Deadlines (policy rules v2, ADR 0013): "competent within N days of starting". The start is the
uploaded hire date, else the enrollment date; the due date's day edge falls in the learner's time
zone; the status row carries due date and overdue flag (list filter, export, the coach's notice).
"""
import csv
import io
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import AuditEvent, LearnerStartDate, LearnerStatus
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.rules.competency import Deadline, Rules, simple_set
from miiwrap_fidelity.tasks import messages as notifications
from miiwrap_fidelity.wording.reason_sentences import sentence
from sandbox.enrollment import enroll
from sandbox.fake_platform import FakePlatform
from sandbox.models import Enrollment

from conftest import assign_coach, make_user

pytestmark = pytest.mark.django_db

LOS_ANGELES, AUCKLAND = ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Auckland")


@pytest.fixture(autouse=True)
def time_zones():
    FakePlatform.TIME_ZONES.clear()
    yield FakePlatform.TIME_ZONES
    FakePlatform.TIME_ZONES.clear()


# --- the rule, at the day edge in the learner's time zone -------------------------------------------

@pytest.mark.parametrize("zone, last_moment_on_time", [
    (LOS_ANGELES, datetime(2026, 6, 2, 6, 59, 59, tzinfo=dt_timezone.utc)),  # 23:59:59 on June 1 in California
    (AUCKLAND, datetime(2026, 6, 1, 11, 59, 59, tzinfo=dt_timezone.utc)),  # 23:59:59 on June 1 in New Zealand
    (dt_timezone.utc, datetime(2026, 6, 1, 23, 59, 59, tzinfo=dt_timezone.utc)),
])
def test_overdue_from_the_first_moment_after_the_due_day_in_the_learners_zone(zone, last_moment_on_time):
    deadline = Deadline(date(2026, 5, 2), 30, zone)
    assert deadline.due_date == date(2026, 6, 1)
    assert not deadline.overdue(last_moment_on_time)
    assert deadline.overdue(last_moment_on_time + timedelta(seconds=1))
    rules = Rules((simple_set(1),))
    on_time = competency.decide(rules, [], [], None, last_moment_on_time, deadline=deadline)
    late = competency.decide(rules, [], [], None, last_moment_on_time + timedelta(seconds=1), deadline=deadline)
    assert (on_time.overdue, late.overdue) == (False, True)
    assert on_time.stale_after == last_moment_on_time + timedelta(seconds=1)  # refreshed exactly at the edge
    assert [r.code for r in on_time.reasons][-1] == "due_by" and "overdue" in [r.code for r in late.reasons]
    assert on_time.evidence_met is False and late.state == on_time.state  # informational: the state is the same


def test_a_certification_meets_the_deadline_for_good():
    deadline = Deadline(date(2026, 1, 1), 30)
    issued = datetime(2026, 1, 20, tzinfo=dt_timezone.utc)
    certification = competency.CertificationRecord(1, issued, issued + timedelta(days=30), None)
    later = datetime(2026, 6, 1, tzinfo=dt_timezone.utc)  # expired by now, yet never overdue
    decision = competency.decide(Rules((simple_set(1),)), [], [], certification, later, deadline=deadline)
    assert decision.overdue is False and decision.due_date == date(2026, 1, 31)
    assert not {"due_by", "overdue"} & {r.code for r in decision.reasons}


def test_deadline_sentences_in_the_learners_words():
    assert sentence(competency.Reason("due_by", {"date": "2026-06-01"})) == \
        "Your due date: competent by 2026-06-01."
    assert sentence(competency.Reason("overdue", {"date": "2026-06-01"}), reviewer=True) == \
        "Overdue: the due date was 2026-06-01."


# --- end to end ----------------------------------------------------------------------------------

def _deadline(lead, course_key, days):
    api.save_policy(lead, course_key, deadline_days=days)
    api.reevaluate_course(course_key)


def _status(learner, course_key):
    return LearnerStatus.objects.get(learner=learner, course_key=course_key)


def test_enrollment_date_then_uploaded_hire_date_set_the_due_date(policy, lead, coach, learner, course_key,
                                                                  time_zones):
    time_zones[learner.pk] = "Pacific/Auckland"
    enroll(learner, course_key)
    enrolled_at = datetime(2026, 3, 1, 11, 30, tzinfo=dt_timezone.utc)  # already March 2 in Auckland
    Enrollment.objects.filter(user=learner).update(created=enrolled_at)
    assign_coach(lead, course_key, coach, learner)
    _deadline(lead, course_key, 90)
    assert _status(learner, course_key).due_date == date(2026, 3, 2) + timedelta(days=90)

    api.set_start_date(lead, course_key, learner.username, "2026-01-15")
    status = _status(learner, course_key)
    assert status.due_date == date(2026, 4, 15) and status.overdue  # re-evaluated when the date was set
    assert AuditEvent.objects.filter(action="start_date.set", subject_user_id=learner.pk).count() == 1
    assert "Your due date was 2026-04-15" in " ".join(api.reason_sentences(
        api.learner_status(learner, learner, course_key).reasons))


def test_overdue_turns_on_at_the_day_edge_and_the_filter_and_export_follow(policy, lead, coach, learner,
                                                                           course_key, client):
    assign_coach(lead, course_key, coach, learner)
    today = timezone.now().date()
    api.set_start_date(lead, course_key, learner, (today - timedelta(days=10)).isoformat())
    _deadline(lead, course_key, 10)
    status = _status(learner, course_key)
    assert (status.due_date, status.overdue) == (today, False)
    edge = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=dt_timezone.utc)
    assert status.stale_after == edge
    assert learner.pk not in {row["learner"].pk for row in api.learner_statuses(lead, course_key, state="overdue")}
    api.refresh_stale_statuses(now=edge - timedelta(seconds=1))
    assert not _status(learner, course_key).overdue
    api.refresh_stale_statuses(now=edge)
    assert _status(learner, course_key).overdue
    assert [row["learner"].pk for row in api.learner_statuses(lead, course_key, state="overdue")] == [learner.pk]
    client.force_login(lead)
    response = client.get(reverse("miiwrap_fidelity:export", args=[str(course_key), "learners"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert (rows[0]["due_date"], rows[0]["overdue"]) == (today.isoformat(), "True")
    # issue 25: REST learner rows carried neither: a client queried once per filter
    listed = client.get(f"/api/miiwrap-fidelity/v1/courses/{course_key}/learners/").json()["results"]
    assert [(row["due_on"], row["overdue"]) for row in listed] == [(today.isoformat(), True)]


@pytest.mark.django_db(transaction=True)
def test_coaches_are_told_once_when_a_learner_is_overdue(policy, lead, coach, coach2, learner, course_key):
    for person in (coach, coach2):
        assign_coach(lead, course_key, person, learner)
    api.set_start_date(lead, course_key, learner, "2025-01-01")
    _deadline(lead, course_key, 30)
    mail.outbox.clear()
    assert notifications.send_overdue_notices.apply().get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coach.email, coach2.email])
    assert learner.username in mail.outbox[0].subject and date_format(date(2025, 1, 31)) in mail.outbox[0].body
    assert notifications.send_overdue_notices.apply().get() == 0  # once per due date


def test_without_a_deadline_nothing_is_due_and_no_query_is_added(policy, lead, learner, course_key,
                                                                 django_assert_num_queries):
    assign_coach(lead, course_key, make_user("c9"), learner)
    assert _status(learner, course_key).due_date is None
    from miiwrap_fidelity.records import evaluation  # pylint: disable=import-outside-toplevel

    with django_assert_num_queries(3):  # observations, sign-offs, certifications
        evaluation.load_records(evaluation.CourseContext(policy, course_key), [learner.pk])
    _deadline(lead, course_key, 30)
    policy.refresh_from_db()
    with django_assert_num_queries(5):  # and with a deadline: enrollment dates, hire dates (zones: none here)
        evaluation.load_records(evaluation.CourseContext(policy, course_key), [learner.pk])


# --- uploading hire dates: validated, all or nothing, staff only --------------------------------------

def test_csv_upload_is_all_or_nothing_with_a_report(policy, lead, course_key):
    for person in (make_user("ann"), make_user("bo")):
        enroll(person, course_key)  # start dates are for learners of the course
    text = "learner,start_date\nann,2026-01-10\nbo,2026-13-01\nghost,2026-01-01\nann,2026-01-11\n"
    report, changed = api.set_start_dates_from_csv(lead, course_key, text)
    assert changed == 0 and not LearnerStartDate.objects.exists()
    assert [(row["row"], row["status"]) for row in report] == [(2, "pending"), (3, "error"), (4, "error"),
                                                               (5, "error")]
    assert "YYYY-MM-DD" in report[1]["errors"][0] and "Unknown learner" in report[2]["errors"][0]
    assert "earlier line" in report[3]["errors"][0]
    report, changed = api.set_start_dates_from_csv(lead, course_key, "learner,start_date\nann,2026-01-10\nbo,"
                                                                     "1949-12-31\n")
    assert changed == 0 and "1950-01-01" in report[1]["errors"][0]
    report, changed = api.set_start_dates_from_csv(lead, course_key, "\ufefflearner,start_date\nann,2026-01-10\n"
                                                                     "bo,2026-02-01\n")
    assert changed == 2 and [row["status"] for row in report] == ["set", "set"]
    _report, changed = api.set_start_dates_from_csv(lead, course_key, "learner,start_date\nann,2026-01-10\n")
    assert changed == 0 and _report[0]["status"] == "unchanged"
    assert [(d.username, d.start_date) for d in api.start_dates(lead, course_key)] == [
        ("ann", date(2026, 1, 10)), ("bo", date(2026, 2, 1))]
    with pytest.raises(api.ValidationError) as caught:
        api.set_start_dates_from_csv(lead, course_key, "coach,learner\nann,bo\n")
    assert "learner,start_date" in caught.value.message_dict["file"][0]


def test_only_course_staff_set_start_dates(policy, coach, learner, course_key):
    with pytest.raises(api.PermissionDenied):
        api.set_start_date(coach, course_key, learner, "2026-01-01")
    with pytest.raises(api.PermissionDenied):
        api.set_start_dates_from_csv(coach, course_key, "learner,start_date\nx,2026-01-01\n")


def test_start_dates_page_and_rest(policy, lead, coach, learner, course_key, client):
    enroll(learner, course_key)
    client.force_login(lead)
    url = reverse("miiwrap_fidelity:start_dates", args=[str(course_key)])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "set", "learner": learner.username, "start_date": "soon"}).status_code == 400
    assert client.post(url, {"action": "set", "learner": learner.username, "start_date": "2026-01-05"}).status_code \
        == 302
    upload = SimpleUploadedFile("dates.csv", b"learner,start_date\nnobody,2026-01-01\n", content_type="text/csv")
    refused = client.post(url, {"action": "upload", "file": upload})
    assert refused.status_code == 400 and "Unknown learner username." in refused.content.decode()
    rest = APIClient()
    rest.force_authenticate(lead)
    base = f"/api/miiwrap-fidelity/v1/courses/{course_key}/start-dates/"
    assert rest.get(base).json()["results"][0]["start_date"] == "2026-01-05"
    bad = rest.post(base, {"learner": learner.username, "start_date": "2026-02-30"}, format="json")
    assert bad.status_code == 400 and "start_date" in bad.json()
    assert rest.post(base, {"learner": learner.pk, "start_date": "2026-02-03"}, format="json").status_code == 200
    upload = SimpleUploadedFile("dates.csv", f"learner,start_date\n{learner.username},2026-02-04\n".encode(),
                                content_type="text/csv")
    assert rest.post(base + "upload/", {"file": upload}, format="multipart").json()["saved"] == 1
    rest.force_authenticate(coach)
    assert rest.get(base).status_code == 403


def test_retirement_removes_the_hire_date(policy, lead, learner, course_key):
    enroll(learner, course_key)
    api.set_start_date(lead, course_key, learner, "2026-01-05")
    api.retire_user(learner.pk)
    assert not LearnerStartDate.objects.filter(learner=learner).exists()


def test_start_dates_list_reads_in_a_fixed_number_of_queries(policy, lead, course_key, django_assert_num_queries):
    learners = [make_user(f"hired{n}") for n in range(3)]
    for person in learners:
        enroll(person, course_key)
    api.set_start_date(lead, course_key, learners[0], "2026-01-01")
    api.start_dates(lead, course_key)  # the lead's roles are read once and kept on the user
    with django_assert_num_queries(1):
        assert len(api.start_dates(lead, course_key)) == 1
    for learner in learners[1:]:
        api.set_start_date(lead, course_key, learner, "2026-01-02")
    with django_assert_num_queries(1):
        assert [row.username for row in api.start_dates(lead, course_key)] == ["hired0", "hired1", "hired2"]
