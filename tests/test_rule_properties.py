"""
Properties over random histories, policies and clock times (hypothesis): the certificate gate (one
statement on the stored status) answers what ``competency`` decides from the records, and every
learner-list filter (SQL) lists exactly the learners whose displayed state it names.

Histories go through the api as coaches and leads would make them (refused steps included), so the
stored projection is the one real writes leave behind. Time then moves on: at each later moment the
gate is asked before and after the periodic refresh stores what time changed, so ``stale_after``
(when time alone may change a decision) is checked too.
"""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from miiwrap_fidelity import api
from miiwrap_fidelity.records import evaluation, roster
from miiwrap_fidelity.records.models import CompetencyPolicy, LearnerStatus
from miiwrap_fidelity.rules import competency
from sandbox.models import CourseRole

from conftest import assign_coach, make_user, ratings_for

pytestmark = pytest.mark.django_db

#: Indicators missed in an observation: none, one ordinary, one essential, several.
MISSES = [(), ("eng-strengths",), ("eng-voice-choice",), ("eng-strengths", "eng-family-story", "plan-brainstorm",
                                                          "team-natural-supports", "plan-shared-vision")]

RULES = st.fixed_dictionaries({
    "min_observations": st.integers(1, 3),
    "min_percent": st.sampled_from([50, 80, 100]),
    "window_days": st.sampled_from([30, 180, 400]),
    "critical_required": st.booleans(),
    "min_distinct_observers": st.integers(1, 2),
    "require_lead_signoff": st.booleans(),
    "validity_months": st.sampled_from([0, 1, 3, 24]),
    # Policy rules v2 (ADR 0013): a second requirement set for team meetings, with its own count,
    # window and conditions (or none: the policy is its single set).
    # A deadline (0: none); the learners' hire dates are 0, 30 and 300 days before the history.
    "deadline_days": st.sampled_from([0, 0, 10, 200]),
    "team_meetings": st.none() | st.fixed_dictionaries({
        "min_observations": st.integers(1, 2), "window_days": st.sampled_from([30, 400]),
        "min_percent": st.sampled_from([50, 100]), "essentials": st.booleans()}),
})
#: One learner's history: observations (days ago, what was missed, by whom, in which setting), then
#: sign-off steps.
OBSERVATION = st.tuples(st.integers(0, 420), st.sampled_from(range(len(MISSES))), st.sampled_from(["coach", "coach2"]),
                        st.sampled_from(["home_visit", "family_team_meeting"]))
PLAN = st.fixed_dictionaries({
    "observations": st.lists(OBSERVATION, max_size=5),
    "decisions": st.lists(st.sampled_from(["approve coach", "approve lead", "approve coach2", "revoke coach",
                                           "revoke lead", "coach approves lead level"]), max_size=4),
})
#: Moments to look at, in days after the history was written.
LATER = st.lists(st.sampled_from([0, 1, 29, 31, 59, 61, 89, 91, 100, 200, 400, 800]), min_size=1, max_size=4)

CERTIFIED = {"observations": [(5, 0, "coach"), (3, 0, "coach2"), (1, 0, "coach")],
             "decisions": ["approve coach", "approve lead"]}
RULES_ONE_YEAR = {"min_observations": 3, "min_percent": 80, "window_days": 180, "critical_required": True,
                  "min_distinct_observers": 2, "require_lead_signoff": False, "validity_months": 3}


@pytest.fixture
def cast(version, course_key, indicators):
    lead = make_user("p_lead")
    CourseRole.objects.create(course_key=course_key, user=lead, role="staff")
    people = {"lead": lead, "coach": make_user("p_coach"), "coach2": make_user("p_coach2"),
              "learners": [make_user(f"p_learner{n}") for n in range(3)]}
    return {**people, "version": version, "indicators": indicators}


def _refused(step):
    """Run one step through the api; the rules or the roles may refuse it (that is part of the history)."""
    try:
        step()
    except (api.ValidationError, api.PermissionDenied):
        pass


def _live(plan, cast, learner, course_key):
    for days_ago, miss, observer, *setting in plan["observations"]:
        day = (timezone.now().date() - timedelta(days=days_ago)).isoformat()
        _refused(lambda: api.save_observation(cast[observer], learner, course_key, {
            "practice_date": day, "setting": setting[0] if setting else "home_visit",
            "ratings": ratings_for(cast["indicators"], miss=MISSES[miss])}, submit=True))
    for decision in plan["decisions"]:
        verb, who = decision.split(" ")[:2]
        if verb == "approve":
            _refused(lambda: api.sign_off(cast[who], learner, course_key, level="lead" if who == "lead" else "coach"))
        elif verb == "revoke":
            _refused(lambda: api.revoke(cast[who], learner, course_key, "Practice drifted."))
        else:  # a coach asking for the lead's level: refused by role
            _refused(lambda: api.sign_off(cast["coach"], learner, course_key, level="lead"))


def _fresh_decision(course_key, learner, moment):
    policy = CompetencyPolicy.objects.get(course_key=course_key)
    context = evaluation.CourseContext(policy, course_key)
    records = evaluation.load_records(context, [learner.pk])[learner.pk]
    return evaluation.decide_records(context, records, moment)


def _listed_by_display(name, display, expires_at, moment):
    """What a filter's label promises, read off the state a list displays."""
    if name == "certified":
        return display in ("certified", competency.EXPIRING)
    if name.startswith(competency.EXPIRING):
        days = int(name.split("_")[1]) if "_" in name else competency.EXPIRING_DAYS
        return display == competency.EXPIRING and expires_at <= moment + timedelta(days=days)
    return display == name


def _check_lists(course_key, moment):
    statuses = list(LearnerStatus.objects.select_related("certification").filter(course_key=course_key))
    for name, rule in competency.STATE_FILTERS.items():
        listed = {row["learner"].pk for row in roster.Roster(course_key, state=name, now=moment)[0:50]}
        for status in statuses:
            expires_at = status.certification.expires_at if status.certification_id else None
            display = competency.display_state(status.state, expires_at, moment)
            expected = status.overdue if rule.overdue else _listed_by_display(name, display, expires_at, moment)
            assert rule.matches(status.state, expires_at, moment, status.overdue) == expected, (name, display)
            assert (status.learner_id in listed) == expected, (name, display, moment)
        event(f"stored {sorted({s.state for s in statuses})}")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rules=RULES, plans=st.lists(PLAN, min_size=3, max_size=3), later=LATER)
@example(rules=RULES_ONE_YEAR, plans=[CERTIFIED, {**CERTIFIED, "decisions": ["approve coach", "revoke lead"]},
                                      {"observations": [(1, 2, "coach")], "decisions": []}], later=[0, 61, 89, 91, 200])
@example(rules={**RULES_ONE_YEAR, "require_lead_signoff": True, "validity_months": 24},
         plans=[CERTIFIED, {**CERTIFIED, "decisions": ["approve coach"]}, CERTIFIED], later=[0, 700, 800])
@example(rules={**RULES_ONE_YEAR, "team_meetings": {"min_observations": 1, "window_days": 30, "min_percent": 50,
                                                    "essentials": True}},
         plans=[{**CERTIFIED, "observations": CERTIFIED["observations"] + [(2, 0, "coach2", "family_team_meeting")]},
                CERTIFIED, {**CERTIFIED, "observations": CERTIFIED["observations"] + [
                    (1, 2, "coach", "family_team_meeting")]}], later=[0, 29, 31, 91])
def test_gate_and_learner_lists_agree_with_the_rules(cast, course_key, rules, plans, later):
    with transaction.atomic():
        team_meetings = rules.get("team_meetings")
        set_rules = ("min_observations", "min_percent", "window_days", "critical_required", "min_distinct_observers")
        single = {name: value for name, value in rules.items() if name != "team_meetings" and name not in set_rules}
        first = competency.simple_set(
            cast["version"].pk, rules["min_observations"], rules["min_percent"], rules["window_days"],
            rules["critical_required"], min(rules["min_distinct_observers"], rules["min_observations"])).as_dict()
        api.save_policy(cast["lead"], course_key, requirement_sets=[first], **single)
        if team_meetings:
            api.save_policy(cast["lead"], course_key, requirement_sets=[{**first, "setting": "home_visit"}, {
                "instrument_version": cast["version"].pk, "setting": "family_team_meeting",
                "min_observations": team_meetings["min_observations"], "window_days": team_meetings["window_days"],
                "conditions": [{"measure": "percent", "op": ">=", "value": team_meetings["min_percent"]}]
                + ([{"measure": "essentials"}] if team_meetings["essentials"] else [])}])
        for learner, hired_days_ago in zip(cast["learners"], (0, 30, 300)):
            for coach in ("coach", "coach2"):
                assign_coach(cast["lead"], course_key, cast[coach], learner)
            api.set_start_date(cast["lead"], course_key, learner,
                               (timezone.now().date() - timedelta(days=hired_days_ago)).isoformat())
        for learner, plan in zip(cast["learners"], plans):
            _live(plan, cast, learner, course_key)
        written = timezone.now()
        for learner in cast["learners"]:
            decision = _fresh_decision(course_key, learner, written)
            gate = api.gate_decision(learner, course_key, written)
            assert gate.allowed == decision.certified
            assert gate.reasons == decision.reasons
            event(f"written: {decision.state}")

        # Random moments, and the exact edges of each certification's expiring windows and expiry.
        certifications = [s.certification for s in LearnerStatus.objects.select_related("certification").filter(
            course_key=course_key, certification__isnull=False)]
        edges = [c.expires_at - timedelta(days=days) for c in certifications if c.expires_at
                 for days in (0, *competency.EXPIRING_WINDOWS)]
        # Time only moves on: edges before the history was written (a short validity) are not looked at.
        for moment in sorted({written + timedelta(days=days) for days in later} | {e for e in edges if e >= written}):
            for learner in cast["learners"]:  # before the refresh: whether a certificate may be made
                assert api.gate_decision(learner, course_key, moment).allowed == \
                    _fresh_decision(course_key, learner, moment).certified
            _check_lists(course_key, moment)
            api.refresh_stale_statuses(now=moment)  # what the hourly task stores
            for learner in cast["learners"]:  # after it: the gate says exactly what the rules say
                decision = _fresh_decision(course_key, learner, moment)
                gate = api.gate_decision(learner, course_key, moment)
                assert (gate.allowed, gate.reasons) == (decision.certified, decision.reasons), moment
                stored = LearnerStatus.objects.get(learner=learner, course_key=course_key)
                assert (stored.due_date, stored.overdue) == (decision.due_date, decision.overdue), moment
                event(f"later: {decision.state}" + (" overdue" if decision.overdue else ""))
            _check_lists(course_key, moment)
        transaction.set_rollback(True)
