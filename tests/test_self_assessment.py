"""
Self-assessment (ADR 0014): the learner rates an observed session on the same rubric, blind to the
coach's ratings until both are in; then both are side by side. Never evidence.
"""
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import evaluation
from miiwrap_fidelity.records.models import (
    AuditEvent,
    CompetencyPolicy,
    DriftAlert,
    LearnerStatus,
    SelfAssessment,
    SignOff,
)
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.rules.competency import SelfAssessmentState

from conftest import COURSE, make_user, ratings_for
from observation_oracle import observations_for

NOTE = "Observed a home visit."  # the coach's overall note (conftest ``observe``)
FEEDBACK = "Good example."  # the coach's strength text on every indicator (conftest ``ratings_for``)
ESSENTIAL = "eng-voice-choice"


@pytest.fixture
def asked(policy, lead, course_key):
    """The course's policy asks learners for self-assessments."""
    api.save_policy(lead, course_key, self_assessment=True)
    return policy


@pytest.fixture
def session(asked, assigned, coach, observe):
    """A submitted observation the learner is asked to rate: the coach missed one essential indicator."""
    return observe(coach, assigned, days_ago=2, miss=(ESSENTIAL,))


def own_levels(indicators, **levels):
    """The learner's levels: ``met`` everywhere unless given (``na`` spelled ``"na"``)."""
    return {ind.key: levels.get(ind.key.replace("-", "_"), "met") for ind in indicators}


def submit(learner, session, indicators, note="I think I involved the family.", **levels):
    return api.save_self_assessment(learner, COURSE, session.pk,
                                    {"ratings": own_levels(indicators, **levels), "note": note})


def age(session, days):
    """Move the request ``days`` into the past (the clock of the open window)."""
    SelfAssessment.objects.filter(observation_id=session.pk).update(
        requested_at=timezone.now() - timedelta(days=days))


# --- the rules (pure) ---------------------------------------------------------------------------

def test_an_unanswered_request_lapses_exactly_when_its_window_closes():
    requested = timezone.now()
    closes = requested + timedelta(days=competency.SELF_ASSESSMENT_OPEN_DAYS)
    assert competency.self_assessment_state("requested", requested, closes - timedelta(seconds=1)) == \
        SelfAssessmentState.AWAITING
    assert competency.self_assessment_state("requested", requested, closes) == SelfAssessmentState.LAPSED
    assert competency.self_assessment_state("submitted", requested, closes) == SelfAssessmentState.SUBMITTED
    assert competency.self_assessment_state("declined", requested, requested) == SelfAssessmentState.DECLINED
    assert [competency.coach_ratings_hidden_from_learner(s) for s in SelfAssessmentState] == [True, False, False,
                                                                                              False]
    assert [competency.learner_ratings_visible(s) for s in SelfAssessmentState] == [False, True, False, False]


@pytest.mark.parametrize("coach_level, coach_met, own_level, own_met, expected", [
    ("met", "met", "met", "met", "same"),
    ("partly", "not_yet", "absent", "not_yet", "close"),
    ("partly", "not_yet", "met", "met", "differ"),
    ("na", "na", "met", "met", "differ"),
    ("met", "met", "", "unrated", "unrated"),
])
def test_agreement_per_indicator(coach_level, coach_met, own_level, own_met, expected):
    assert competency.rating_agreement(coach_level, coach_met, own_level, own_met) == expected


# --- asking ---------------------------------------------------------------------------------------

def test_without_the_policy_switch_nothing_is_asked_and_learners_see_ratings_at_once(assigned, coach, observe):
    observation = observe(coach, assigned, days_ago=2)
    assert not SelfAssessment.objects.exists()
    seen = observations_for(assigned, assigned, COURSE)[0]
    assert not seen.blinded and seen.ratings and seen.overall_note == NOTE
    assert api.self_assessments_for(assigned, assigned, COURSE) == []
    with pytest.raises(api.NotFound):
        api.self_assessment_for(assigned, COURSE, observation.pk)


def test_submitting_an_observation_asks_for_a_self_assessment_once_and_audits_it(session, assigned, coach):
    row = SelfAssessment.objects.get()
    assert (row.observation_id, row.learner_id, row.status) == (session.pk, assigned.pk, SelfAssessment.REQUESTED)
    assert row.requested_at == session.submitted_at
    assert AuditEvent.objects.filter(action="self_assessment.requested", object_id=str(row.pk)).count() == 1


def test_drafts_co_ratings_and_reference_ratings_are_never_self_assessed(asked, assigned, coach, coach2, lead,
                                                                       observe, indicators):
    draft = observe(coach, assigned, days_ago=3, submit=False)
    co = api.save_observation(coach2, assigned, COURSE, {"co_observation_of": draft.pk,
                                                         "ratings": ratings_for(indicators)}, submit=True)
    assert SelfAssessment.objects.count() == 0
    api.save_observation(coach, assigned, COURSE, {"practice_date": draft.practice_date.isoformat(),
                                                   "setting": draft.setting, "ratings": ratings_for(indicators),
                                                   "revision": draft.revision}, observation_id=draft.pk, submit=True)
    reference = api.save_observation(lead, assigned, COURSE, {"co_observation_of": draft.pk, "is_reference": True,
                                                              "ratings": ratings_for(indicators)}, submit=True)
    assert list(SelfAssessment.objects.values_list("observation_id", flat=True)) == [draft.pk]
    assert co.observation.pk != reference.observation.pk


# --- blindness at every read path -------------------------------------------------------------------

def test_the_learner_does_not_see_the_coachs_judgement_until_they_rate(session, assigned, coach, indicators):
    listed = observations_for(assigned, assigned, COURSE)
    one = api.get_observation(assigned, COURSE, session.pk)
    for seen in (listed[0], one):
        assert seen.blinded and seen.pk == session.pk and seen.practice_date == session.practice_date
        assert seen.ratings == () and seen.percent is None and seen.met_count is None
        assert seen.critical_missed == () and seen.overall_note == ""
    mine = api.self_assessments_for(assigned, assigned, COURSE)[0]
    assert (mine.state, mine.coach_visible, mine.learner_visible) == ("awaiting", False, False)
    assert all(row.coach is None and row.agreement == "" for row in mine.rows)
    assert [row.indicator_key for row in mine.rows] == [ind.key for ind in indicators]
    assert api.self_assessment_for(assigned, COURSE, session.pk) == mine

    submit(assigned, session, indicators)
    seen = api.get_observation(assigned, COURSE, session.pk)
    assert not seen.blinded and seen.overall_note == NOTE and seen.critical_missed == (ESSENTIAL,)
    assert observations_for(assigned, assigned, COURSE)[0] == seen


def test_the_coach_sees_their_own_ratings_always_and_the_learners_once_submitted(session, assigned, coach, lead,
                                                                                  indicators):
    assert api.get_observation(coach, COURSE, session.pk).ratings, "the coach's ratings were recorded first"
    waiting = api.self_assessments_for(coach, assigned, COURSE)[0]
    assert (waiting.state, waiting.coach_visible, waiting.learner_visible) == ("awaiting", True, False)
    assert all(row.learner_level == "" and row.learner_outcome == "unrated" for row in waiting.rows)
    assert waiting.note == ""

    submit(assigned, session, indicators, eng_voice_choice="met", eng_strengths="partly", note="My view.")
    for viewer in (coach, lead, assigned):
        both = api.self_assessment_for(viewer, COURSE, session.pk)
        assert both.side_by_side and both.state == "submitted" and both.note == "My view."
        rows = {row.indicator_key: row for row in both.rows}
        assert rows[ESSENTIAL].coach.level == "partly" and rows[ESSENTIAL].learner_level == "met"
        assert rows[ESSENTIAL].agreement == "differ"
        assert rows["eng-strengths"].agreement == "differ"  # coach: met, learner: partly
        assert rows["mi-summaries"].agreement == "same"
        assert both.same_count == len(indicators) - 2


def test_drift_alerts_the_session_raised_stay_hidden_from_the_learner_until_they_rate(session, assigned, coach,
                                                                                        indicators):
    assert DriftAlert.objects.filter(learner=assigned, kind=DriftAlert.CRITICAL_NOT_MET).exists()
    assert api.drift_alert_rows(coach, COURSE, learner=assigned), "the coach sees it"
    assert api.drift_alert_rows(assigned, COURSE, learner=assigned) == []
    submit(assigned, session, indicators)
    assert [row["alert"].kind for row in api.drift_alert_rows(assigned, COURSE, learner=assigned)] == [
        DriftAlert.CRITICAL_NOT_MET]


def test_the_learners_status_holds_back_what_tells_the_sessions_ratings(session, assigned, coach, indicators):
    codes = lambda status: [reason["code"] for reason in status.reasons]  # noqa: E731
    coach_view = api.learner_status(coach, assigned, COURSE)
    assert "critical_not_met_latest" in codes(coach_view) and coach_view.last_percent is not None
    own = api.learner_status(assigned, assigned, COURSE)
    assert "critical_not_met_latest" not in codes(own) and own.last_percent is None
    assert (own.state, own.qualifying_count) == (coach_view.state, coach_view.qualifying_count)
    submit(assigned, session, indicators)
    assert api.learner_status(assigned, assigned, COURSE) == coach_view


def test_declining_shows_the_coachs_ratings_and_is_final(session, assigned, coach, indicators):
    declined = api.save_self_assessment(assigned, COURSE, session.pk, {"decline": True})
    assert (declined.state, declined.coach_visible, declined.learner_visible) == ("declined", True, False)
    assert not api.get_observation(assigned, COURSE, session.pk).blinded
    assert AuditEvent.objects.filter(action="self_assessment.declined").count() == 1
    with pytest.raises(api.ValidationError) as error:
        submit(assigned, session, indicators)
    assert "self_assessment" in error.value.message_dict


@pytest.mark.parametrize("days, blinded", [(competency.SELF_ASSESSMENT_OPEN_DAYS - 1, True),
                                           (competency.SELF_ASSESSMENT_OPEN_DAYS, False)])
def test_after_the_open_window_the_learner_sees_the_ratings_and_can_no_longer_rate(session, assigned, coach,
                                                                                      indicators, days, blinded):
    age(session, days)
    assert api.get_observation(assigned, COURSE, session.pk).blinded is blinded
    assert bool(api.drift_alert_rows(assigned, COURSE, learner=assigned)) is not blinded
    if blinded:
        assert submit(assigned, session, indicators).state == "submitted"
    else:
        assert api.self_assessment_for(assigned, COURSE, session.pk).state == "lapsed"
        with pytest.raises(api.ValidationError) as error:
            submit(assigned, session, indicators)
        assert "closed" in error.value.message_dict["self_assessment"][0]


# --- writing: validation, permissions, once only -------------------------------------------------------

def test_self_ratings_are_validated_as_the_coachs_are(session, assigned, indicators):
    levels = own_levels(indicators)
    del levels["mi-summaries"]
    bad = {**levels, "no-such-indicator": "met", ESSENTIAL: "excellent"}
    with pytest.raises(api.ValidationError) as error:
        api.save_self_assessment(assigned, COURSE, session.pk, {"ratings": bad, "note": "x" * 5000})
    assert set(error.value.message_dict) == {"ratings.mi-summaries.level", "ratings.no-such-indicator",
                                             f"ratings.{ESSENTIAL}.level", "note"}
    for data in ({"ratings": "met"}, {"ratings": {ESSENTIAL: 3}}, ["not", "an", "object"]):
        with pytest.raises(api.ValidationError):
            api.save_self_assessment(assigned, COURSE, session.pk, data)
    assert SelfAssessment.objects.get().status == SelfAssessment.REQUESTED


def test_only_the_observed_learner_rates_and_only_their_people_read(session, assigned, coach, stranger, indicators):
    other_learner = make_user("other-learner")
    for who in (coach, stranger, other_learner):
        with pytest.raises(api.PermissionDenied):
            submit(who, session, indicators)
        if who is not coach:
            with pytest.raises(api.NotFound):
                api.self_assessment_for(who, COURSE, session.pk)
            with pytest.raises(api.PermissionDenied):
                api.self_assessments_for(who, assigned, COURSE)
    for missing in (999999, "abc", None):
        with pytest.raises(api.NotFound):
            api.save_self_assessment(assigned, COURSE, missing, {"decline": True})


def test_a_submitted_self_assessment_is_final(session, assigned, indicators):
    submit(assigned, session, indicators)
    for again in ({"ratings": own_levels(indicators)}, {"decline": True}):
        with pytest.raises(api.ValidationError) as error:
            api.save_self_assessment(assigned, COURSE, session.pk, again)
        assert "already submitted" in error.value.message_dict["self_assessment"][0]
    assert AuditEvent.objects.filter(action="self_assessment.submitted").count() == 1


def test_submitting_locks_the_learners_status_row_first(session, assigned, indicators, monkeypatch):
    order = []
    real_lock = evaluation.lock_status
    monkeypatch.setattr(evaluation, "lock_status", lambda *args: order.append("status") or real_lock(*args))
    from miiwrap_fidelity.records import audit  # pylint: disable=import-outside-toplevel
    real_record = audit.record
    monkeypatch.setattr(audit, "record", lambda *a, **k: order.append("audit") or real_record(*a, **k))
    submit(assigned, session, indicators)
    assert order == ["status", "audit"]


# --- never evidence ----------------------------------------------------------------------------------

def _evidence_snapshot(learner, coach, lead):
    status = LearnerStatus.objects.get(learner=learner)
    return ({name: getattr(status, name) for name in ("state", "qualifying_count", "required_count",
                                                       "last_percent", "reasons", "certification_id")},
            api.gate_decision(learner, COURSE), api.learner_status(coach, learner, COURSE).reasons,
            api.reliability_report(lead, COURSE),
            sorted(DriftAlert.objects.values_list("kind", "indicator_key", "resolved_at")))


def test_self_assessments_change_no_decision_gate_reliability_or_drift(asked, assigned, coach, coach2, lead,
                                                                       observe, indicators):
    for days in (40, 20):
        observe(coach, assigned, days_ago=days)
    draft = observe(coach2, assigned, days_ago=3, miss=(ESSENTIAL,), submit=False)
    api.save_observation(coach, assigned, COURSE, {"co_observation_of": draft.pk,
                                                   "ratings": ratings_for(indicators)}, submit=True)
    api.save_observation(coach2, assigned, COURSE, {"practice_date": draft.practice_date.isoformat(),
                                                    "setting": draft.setting,
                                                    "ratings": ratings_for(indicators, miss=(ESSENTIAL,)),
                                                    "revision": draft.revision}, observation_id=draft.pk,
                         submit=True)
    before = _evidence_snapshot(assigned, coach, lead)
    assert before[0]["state"] == "in_progress", "the coach missed an essential indicator in the latest session"
    sessions = SelfAssessment.objects.order_by("observation__practice_date")
    assert sessions.count() == 3
    for assessment in sessions:  # the learner rates every session fully met
        api.save_self_assessment(assigned, COURSE, assessment.observation_id,
                                 {"ratings": own_levels(indicators), "note": "All met, I think."})
    assert _evidence_snapshot(assigned, coach, lead) == before
    with pytest.raises(api.ValidationError):
        api.sign_off(coach, assigned, COURSE)


def test_deciding_gating_agreement_drift_leaders_and_exports_never_read_self_assessments(
        session, assigned, indicators, lead, coach, course_key, ready_learner):
    """
    The records that decide are observations only: a learner's submitted self-assessment is read by
    none of the paths that decide, gate, measure agreement or drift, draw the leader view or export
    (a self-assessment reaching them would be evidence). Checked on the statements they run.
    """
    submit(assigned, session, indicators)
    paths = {
        "decision": lambda: evaluation.refresh(CompetencyPolicy.objects.get(course_key=course_key), assigned.pk,
                                               course_key),
        "course re-evaluation": lambda: api.reevaluate_course(course_key),
        "gate": lambda: api.gate_decision(assigned, course_key),
        "rater agreement": lambda: api.reliability_report(lead, course_key),
        "leader view and drift": lambda: api.leader_view(lead, course_key),
        "learner list": lambda: api.learner_statuses(lead, course_key, header=True).page(50, None),
        **{f"export {kind}": (lambda kind=kind: list(api.export_lines(lead, course_key, kind)))
           for kind in ("learners", "observations", "ratings", "signoffs", "certifications")},
    }
    for name, path in paths.items():
        with CaptureQueriesContext(connection) as captured:
            path()
        reading = [q["sql"] for q in captured.captured_queries if "selfassessment" in q["sql"].lower()]
        assert not reading, f"{name} read self-assessments: {reading}"


# --- retirement -------------------------------------------------------------------------------------------

def test_retirement_removes_self_ratings_and_notes(session, assigned, indicators):
    submit(assigned, session, indicators, note="Personal reflections.")
    api.retire_user(assigned.pk)
    row = SelfAssessment.objects.get()
    assert (row.ratings, row.note) == ({}, "")


# --- reads stay bounded ---------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer_name", ["coach", "learner"])
def test_self_assessment_lists_take_the_same_queries_for_one_or_many_sessions(asked, assigned, coach, observe,
                                                                              indicators, viewer_name,
                                                                              django_assert_num_queries):
    viewer = coach if viewer_name == "coach" else assigned
    first = observe(coach, assigned, days_ago=9)
    submit(assigned, first, indicators)
    counts = []
    for days in (None, 6, 3):
        if days:
            observe(coach, assigned, days_ago=days)
        from django.db import connection  # pylint: disable=import-outside-toplevel
        from django.test.utils import CaptureQueriesContext  # pylint: disable=import-outside-toplevel
        with CaptureQueriesContext(connection) as captured:
            api.self_assessments_for(viewer, assigned, COURSE)
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2], counts
    with django_assert_num_queries(counts[0]):
        api.self_assessments_for(viewer, assigned, COURSE)


def test_blinding_the_learners_observations_and_alerts_costs_no_query(assigned, coach, lead, observe, course_key):
    from django.db import connection  # pylint: disable=import-outside-toplevel
    from django.test.utils import CaptureQueriesContext  # pylint: disable=import-outside-toplevel

    def reads():
        with CaptureQueriesContext(connection) as captured:
            observations = observations_for(assigned, assigned, COURSE)
            api.drift_alert_rows(assigned, COURSE, learner=assigned)
        return len(captured), [o.blinded for o in observations]

    observe(coach, assigned, days_ago=5, miss=(ESSENTIAL,))
    plain = reads()
    api.save_policy(lead, course_key, self_assessment=True)
    observe(coach, assigned, days_ago=2, miss=(ESSENTIAL,))
    blinded = reads()
    assert plain == (plain[0], [False]) and blinded == (plain[0], [True, False])


# --- pages --------------------------------------------------------------------------------------------------

def my_page(client):
    return reverse("miiwrap_fidelity:my_competency", args=[COURSE])


def post_url(session):
    return reverse("miiwrap_fidelity:self_assess", args=[COURSE, session.pk])


def form(indicators, **levels):
    return {f"rating-{key}": level for key, level in own_levels(indicators, **levels).items()}


def test_learner_page_invites_blind_then_shows_side_by_side(client, session, assigned, coach, indicators):
    client.force_login(assigned)
    page = client.get(my_page(client)).content.decode()
    assert "Rate your observed sessions yourself" in page and f'name="rating-{ESSENTIAL}"' in page
    assert FEEDBACK not in page and NOTE not in page, "no coach feedback or note before the learner rates"
    assert "Same level on" not in page

    response = client.post(post_url(session), {**form(indicators), "note": "Felt good.", "action": "submit"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert f"Same level on {len(indicators) - 1} of {len(indicators)} indicators" in page
    assert "mwf-agreement-differ" in page and FEEDBACK in page and NOTE in page and "Felt good." in page
    assert "Your own rating" in page and "Your note:" in page
    assert 'name="rating-' not in page


def test_learner_page_form_errors_are_a_400_with_messages(client, session, assigned, indicators):
    client.force_login(assigned)
    data = form(indicators)
    del data[f"rating-{ESSENTIAL}"]
    response = client.post(post_url(session), {**data, "action": "submit"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Rate every indicator before submitting." in page
    assert SelfAssessment.objects.get().status == SelfAssessment.REQUESTED
    # named as the learner reads the rubric, with a link to the indicator; never an internal key
    label = next(i.label for i in indicators if i.key == ESSENTIAL)
    errors = page[page.index('id="mwf-errors"'):page.index("</div>", page.index('id="mwf-errors"'))]
    assert f"ratings.{ESSENTIAL}" not in errors and label in errors
    target = f"mwf-self-{session.pk}-mwf-indicator-{ESSENTIAL}"
    assert f'href="#{target}"' in errors and f'id="{target}"' in page


def test_learner_page_decline_and_refusals(client, session, assigned, coach, stranger):
    client.force_login(coach)
    assert client.post(post_url(session), {"action": "decline"}).status_code == 403
    client.force_login(stranger)
    assert client.post(post_url(session), {"action": "decline"}).status_code == 403
    assert client.get(post_url(session)).status_code == 405
    client.force_login(assigned)
    assert client.post(reverse("miiwrap_fidelity:self_assess", args=[COURSE, 999999]),
                       {"action": "decline"}).status_code == 404
    response = client.post(post_url(session), {"action": "decline"}, follow=True)
    page = response.content.decode()
    assert "Self-assessment declined" in page and FEEDBACK in page
    assert client.post(post_url(session), {"action": "decline"}).status_code == 400


def test_coach_page_shows_waiting_then_side_by_side(client, session, assigned, coach, indicators):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])
    page = client.get(url).content.decode()
    assert "The learner's self-assessments" in page and "Awaiting the learner's self-assessment" in page
    submit(assigned, session, indicators, note="My side.")
    page = client.get(url).content.decode()
    assert f"Same level on {len(indicators) - 1} of {len(indicators)} indicators" in page and "My side." in page
    assert "Learner's own rating" in page and "Your own rating" not in page


def test_policy_editor_offers_the_switch(client, policy, lead, course_key):
    client.force_login(lead)
    page = client.get(reverse("miiwrap_fidelity:policy", args=[COURSE])).content.decode()
    assert 'name="self_assessment"' in page
    assert api.get_policy(course_key).self_assessment is False


# --- REST ---------------------------------------------------------------------------------------------------

BASE = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"


def rest_post(client, path, body):
    return client.post(f"{BASE}/{path}", json.dumps(body), content_type="application/json")


def test_rest_self_assessment_blind_then_side_by_side(client, session, assigned, coach, stranger, indicators):
    path = f"observations/{session.pk}/self-assessment/"
    client.force_login(assigned)
    waiting = client.get(f"{BASE}/{path}").json()
    assert waiting["state"] == "awaiting" and all(i["coach"] is None and i["learner"] is None
                                                   for i in waiting["indicators"])
    observation = client.get(f"{BASE}/observations/{session.pk}/").json()
    assert observation["blinded"] and observation["ratings"] == {} and observation["percent"] is None
    listed = client.get(f"{BASE}/observations/").json()["results"]
    assert listed[0]["blinded"] and listed[0]["overall_note"] == ""

    bad = rest_post(client, path, {"ratings": {ESSENTIAL: "met"}})
    assert bad.status_code == 400 and "ratings.mi-summaries.level" in bad.json()
    assert rest_post(client, path, {"ratings": {ESSENTIAL: {"level": "met"}}}).status_code == 400

    client.force_login(coach)
    assert rest_post(client, path, {"decline": True}).status_code == 403
    coach_view = client.get(f"{BASE}/self-assessments/", {"learner": assigned.pk}).json()["results"][0]
    assert coach_view["learner"] == assigned.pk and coach_view["indicators"][0]["coach"]["level"] == "met"
    assert coach_view["indicators"][0]["learner"] is None and coach_view["note"] is None

    client.force_login(assigned)
    done = rest_post(client, path, {"ratings": own_levels(indicators), "note": "Mine."})
    assert done.status_code == 200, done.content
    body = done.json()
    essential = next(i for i in body["indicators"] if i["key"] == ESSENTIAL)
    assert essential == {"key": ESSENTIAL, "coach": {"level": "partly", "outcome": "not_yet"},
                         "learner": {"level": "met", "outcome": "met"}, "agreement": "differ"}
    assert body["note"] == "Mine." and body["state"] == "submitted"
    assert rest_post(client, path, {"decline": True}).status_code == 400
    assert client.get(f"{BASE}/observations/{session.pk}/").json()["ratings"]

    client.force_login(stranger)
    assert client.get(f"{BASE}/{path}").status_code == 404
    assert client.get(f"{BASE}/self-assessments/", {"learner": assigned.pk}).status_code == 403


def test_rest_policy_carries_the_switch(client, policy, lead):
    client.force_login(lead)
    response = client.patch(f"{BASE}/policy/", json.dumps({"self_assessment": True}),
                            content_type="application/json")
    assert response.status_code == 200 and response.json()["self_assessment"] is True
    assert client.get(f"{BASE}/policy/").json()["self_assessment"] is True


# --- XBlock -------------------------------------------------------------------------------------------------

def test_sign_off_block_shows_the_learner_no_ratings_before_they_rate(client, workbench, session, assigned,
                                                                     indicators):
    from xblock_support import SIGNOFF, view  # pylint: disable=import-outside-toplevel
    client.force_login(assigned)
    page = view(client, SIGNOFF)
    assert "Rate this session yourself on your competency page" in page and FEEDBACK not in page
    assert "% of applicable indicators met" not in page
    submit(assigned, session, indicators)
    page = view(client, SIGNOFF)
    assert FEEDBACK in page and "Rate this session yourself" not in page


# --- concurrency (MariaDB: SQLite serialises every write) -----------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_self_assessment_sent_ten_times_at_once_is_saved_once(session, assigned, indicators):
    from django.db import connection  # pylint: disable=import-outside-toplevel
    if connection.vendor != "mysql":
        pytest.skip("needs a database server (py312-mariadb env)")
    from test_concurrency import run_at_once  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import write_retry  # pylint: disable=import-outside-toplevel

    body = {"ratings": own_levels(indicators), "note": "Once."}
    results, errors = run_at_once(10, lambda i: write_retry.run(api.save_self_assessment, assigned, COURSE,
                                                                session.pk, body))
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 9 and all(isinstance(e, api.ValidationError) and "self_assessment" in e.message_dict
                                    for e in errors), errors
    assert AuditEvent.objects.filter(action="self_assessment.submitted").count() == 1
    assert SelfAssessment.objects.get().status == SelfAssessment.SUBMITTED


def test_the_side_by_side_reads_in_the_learners_language(session, assigned, indicators):
    """Reviewer's finding: in Spanish the form and table showed English indicator names and 'Present'."""
    from django.utils import translation  # pylint: disable=import-outside-toplevel

    assert indicators[0].translations.get("es"), "the sample rubric ships Spanish"
    submit(assigned, session, indicators)
    with translation.override("es"):
        rows = api.self_assessment_for(assigned, COURSE, session.pk).rows
    spanish = indicators[0].translations["es"]
    assert rows[0].indicator_label == spanish["label"] != indicators[0].label
    same = [row for row in rows if row.learner_level == row.coach.level]
    assert same and all(row.learner_level_label == row.coach.level_label for row in same), \
        "both sides use the same (Spanish) level names"


def test_the_certified_evidence_keeps_a_blind_sessions_score_from_the_learner(asked, assigned, coach, observe,
                                                                              indicators, client):
    """Reviewer's finding: the evidence list under a new certification showed the learner each score
    before they rated the session (the status and history hid it)."""
    sessions = [observe(coach, assigned, days_ago=days) for days in (30, 20, 10)]
    api.sign_off(coach, assigned, COURSE)
    own = api.certified_evidence(assigned, assigned, COURSE)
    assert [o.percent for o in own.observations] == [None, None, None]
    assert all(o.percent == 100.0 for o in api.certified_evidence(coach, assigned, COURSE).observations)
    client.force_login(assigned)
    page = client.get(my_page(client)).content.decode()
    assert page.count("rate this session yourself to see its score") == 3 and "100% of indicators met" not in page
    submit(assigned, sessions[0], indicators)
    assert [o.percent for o in api.certified_evidence(assigned, assigned, COURSE).observations] == [100.0, None, None]


def test_sign_offs_keep_a_blind_sessions_score_from_the_learner(asked, assigned, coach, observe, indicators,
                                                                client):
    """Reviewer's finding: an approval's evidence snapshot (api and REST ``signoffs/``) gave the learner
    each session's score before they rated it."""
    sessions = [observe(coach, assigned, days_ago=days) for days in (30, 20, 10)]
    api.sign_off(coach, assigned, COURSE)

    def percents(viewer):
        return [o["percent"] for o in api.signoffs_for(viewer, assigned, COURSE)[0].evidence["observations"]]

    assert percents(assigned) == [None, None, None] and percents(coach) == [100.0, 100.0, 100.0]
    client.force_login(assigned)
    body = client.get(f"{BASE}/signoffs/").json()
    assert [o["percent"] for o in body["results"][0]["evidence"]["observations"]] == [None, None, None]
    submit(assigned, sessions[0], indicators)
    assert percents(assigned) == [100.0, None, None]
    assert SignOff.objects.get().evidence["observations"][1]["percent"] == 100.0, "the stored snapshot is unchanged"


IDENTIFYING_NOTE = "The Smith family called me on 555-123-4567 after the visit."


def test_the_api_refuses_an_identifying_note_until_confirmed(session, assigned, indicators):
    """The learner's note is read by their coaches: the same client-identifier check as the coach's texts."""
    data = {"ratings": own_levels(indicators), "note": IDENTIFYING_NOTE}
    with pytest.raises(api.ValidationError) as refused:
        api.save_self_assessment(assigned, COURSE, session.pk, data)
    assert set(refused.value.message_dict) == {"note"} and "phone number" in " ".join(refused.value.message_dict["note"])
    assert SelfAssessment.objects.get().status == SelfAssessment.REQUESTED
    api.save_self_assessment(assigned, COURSE, session.pk, {**data, "privacy_confirmed": True})
    assert SelfAssessment.objects.get().note == IDENTIFYING_NOTE
    assert AuditEvent.objects.filter(action="self_assessment.identifier_check_confirmed").count() == 1


def test_the_page_keeps_the_entries_and_asks_to_confirm_an_identifying_note(client, session, assigned, indicators):
    client.force_login(assigned)
    data = {**form(indicators), "note": IDENTIFYING_NOTE, "action": "submit"}
    response = client.post(post_url(session), data)
    page = response.content.decode()
    assert response.status_code == 400 and "phone number" in page
    assert IDENTIFYING_NOTE in page, "the note is kept for editing"
    assert f'name="rating-{ESSENTIAL}" value="{own_levels(indicators)[ESSENTIAL]}" required checked' in page, "ratings kept"
    assert 'name="privacy_confirmed"' in page
    response = client.post(post_url(session), {**data, "privacy_confirmed": "on"})
    assert response.status_code == 302 and SelfAssessment.objects.get().status == SelfAssessment.SUBMITTED


def test_rest_refuses_an_identifying_note_until_confirmed(client, session, assigned, indicators):
    client.force_login(assigned)
    path = f"observations/{session.pk}/self-assessment/"
    payload = {"ratings": own_levels(indicators), "note": IDENTIFYING_NOTE}
    response = rest_post(client, path, payload)
    assert response.status_code == 400 and "note" in json.dumps(response.json())
    response = rest_post(client, path, {**payload, "privacy_confirmed": True})
    assert response.status_code == 200 and SelfAssessment.objects.get().status == SelfAssessment.SUBMITTED


def test_a_coded_session_with_behaviour_counts_can_be_self_assessed(asked, assigned, coach, lead, client):
    """
    A walkthrough of issue 26: the learner's form showed no input for a behaviour count (an MI
    coding session), and every submission was refused "Rate every indicator before submitting".
    """
    from pathlib import Path  # pylint: disable=import-outside-toplevel

    from miiwrap_fidelity.records import instrument_import  # pylint: disable=import-outside-toplevel

    sample = Path(api.__file__).resolve().parent.parent / "data" / "mi_coding_sample_instrument.yaml"
    mi = instrument_import.load(sample.read_text(encoding="utf-8"))[0]
    api.save_policy(lead, COURSE, requirement_sets=[{"instrument_version": mi.pk, "min_observations": 1,
                                                      "window_days": 90}])
    indicators = list(mi.indicators.all())
    coded = {i.key: {"level": "4" if i.kind == "scale" else "2"} for i in indicators}
    observation = api.save_observation(coach, assigned, COURSE, {
        "practice_date": (timezone.now().date() - timedelta(days=1)).isoformat(), "setting": "home_visit",
        "instrument_version": mi.pk, "ratings": coded}, submit=True).observation
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    counts = [i.key for i in indicators if i.kind == "count"]
    assert counts and all(f'name="rating-{key}"' in page and 'type="number"' in page for key in counts)
    form = {f"rating-{i.key}": ("3" if i.kind == "scale" else "1") for i in indicators}
    answer = client.post(reverse("miiwrap_fidelity:self_assess", args=[COURSE, observation.pk]), form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert SelfAssessment.objects.get(observation_id=observation.id).ratings["question"] == "1"
