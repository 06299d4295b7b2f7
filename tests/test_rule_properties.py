"""
Properties over random histories, policies and clock times (hypothesis): the certificate gate (one
statement on the stored status) answers what ``competency`` decides from the records, and every
learner-list filter (SQL) lists exactly the learners whose displayed state it names.

Histories go through the api as coaches and leads would make them (refused steps included), so the
stored projection is the one real writes leave behind.
"""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_user, ratings_for
from miiwrap_fidelity import api, competency, evaluation, roster
from miiwrap_fidelity.models import CompetencyPolicy, LearnerStatus
from sandbox.models import CourseRole

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
})
STEP = st.one_of(
    st.tuples(st.just("observe"), st.sampled_from(["coach", "coach2"]), st.integers(0, 420),
              st.sampled_from(range(len(MISSES)))),
    st.tuples(st.just("approve"), st.sampled_from(["coach", "coach2", "lead"]), st.sampled_from(["coach", "lead"])),
    st.tuples(st.just("revoke"), st.sampled_from(["coach", "lead"])),
)
HISTORY = st.lists(STEP, max_size=7)
#: Moments to look at, in days after the history was written.
LATER = st.lists(st.sampled_from([0, 1, 29, 31, 59, 61, 89, 91, 100, 200, 400, 800]), min_size=1, max_size=4)


@pytest.fixture
def cast(version, course_key, indicators):
    lead = make_user("p_lead")
    CourseRole.objects.create(course_key=course_key, user=lead, role="staff")
    people = {"lead": lead, "coach": make_user("p_coach"), "coach2": make_user("p_coach2"),
              "learners": [make_user(f"p_learner{n}") for n in range(3)]}
    return {**people, "version": version, "indicators": indicators}


def _apply(step, cast, learner, course_key):
    """One step of a history through the api; the rules may refuse it (that is part of the history)."""
    kind, actor = step[0], cast[step[1]]
    try:
        if kind == "observe":
            day = (timezone.now().date() - timedelta(days=step[2])).isoformat()
            api.save_observation(actor, learner, course_key, {
                "practice_date": day, "setting": "home_visit",
                "ratings": ratings_for(cast["indicators"], miss=MISSES[step[3]])}, submit=True)
        elif kind == "approve":
            api.sign_off(actor, learner, course_key, level=step[2])
        else:
            api.revoke(actor, learner, course_key, "Practice drifted.")
    except (api.ValidationError, api.PermissionDenied):  # a refused step leaves the records as they were
        pass


def _fresh_decision(course_key, learner, moment):
    policy = CompetencyPolicy.objects.get(course_key=course_key)
    context = evaluation.CourseContext(policy, course_key)
    records = evaluation.load_records(context, [learner.pk])[learner.pk]
    return evaluation.decide_records(context, records, moment)


def _listed_by_display(name, display, expires_at, moment):
    """What a filter's label promises, read off the state a list displays."""
    if name == "certified":
        return display in ("certified", "expiring")
    if name.startswith("expiring"):
        days = int(name.split("_")[1]) if "_" in name else competency.EXPIRING_DAYS
        return display == "expiring" and expires_at <= moment + timedelta(days=days)
    return display == name


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rules=RULES, histories=st.lists(HISTORY, min_size=3, max_size=3), later=LATER)
def test_gate_and_learner_lists_agree_with_the_rules(cast, course_key, rules, histories, later):
    with transaction.atomic():
        api.save_policy(cast["lead"], course_key, instrument_version=cast["version"],
                        **{**rules, "min_distinct_observers": min(rules["min_distinct_observers"],
                                                                  rules["min_observations"])})
        for learner in cast["learners"]:
            for coach in ("coach", "coach2"):
                api.assign_coach(cast["lead"], course_key, cast[coach], learner)
        for learner, history in zip(cast["learners"], histories):
            for step in history:
                _apply(step, cast, learner, course_key)
        written = timezone.now()

        for learner in cast["learners"]:
            decision = _fresh_decision(course_key, learner, written)
            gate = api.gate_decision(learner, course_key, written)
            assert gate.allowed == decision.certified
            assert gate.reasons == decision.reasons

        statuses = {s.learner_id: s for s in LearnerStatus.objects.select_related("certification").filter(
            course_key=course_key)}
        # Random moments, and the exact edges of each certification's expiring windows and expiry.
        moments = [written + timedelta(days=days) for days in later] + [
            status.certification.expires_at - timedelta(days=days) for status in statuses.values()
            if status.certification_id and status.certification.expires_at for days in (0, *competency.EXPIRING_WINDOWS)]
        for moment in moments:
            days = (moment - written).days
            for learner in cast["learners"]:
                gate = api.gate_decision(learner, course_key, moment)
                assert gate.allowed == _fresh_decision(course_key, learner, moment).certified, days
            for name in competency.STATE_FILTERS:
                listed = {row["learner"].pk for row in roster.Roster(course_key, state=name, now=moment)[0:50]}
                expected = set()
                for learner_id, status in statuses.items():
                    expires_at = status.certification.expires_at if status.certification_id else None
                    display = competency.display_state(status.state, expires_at, moment)
                    if _listed_by_display(name, display, expires_at, moment):
                        expected.add(learner_id)
                assert listed == expected, (name, days)
        transaction.set_rollback(True)
