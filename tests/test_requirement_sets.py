"""
Policy rules v2 (ADR 0013): qualifying conditions and requirement sets, as pure rules (boundaries:
exactly at and just below every threshold) and end to end (observations through the api, the gate
through the real ``CertificateCreationRequested`` filter), and the policy's editing paths (api, REST,
editor page) with errors that name the place.
"""
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_form import policy_post
from rest_framework.test import APIClient

from miiwrap_fidelity import api
from miiwrap_fidelity.management.commands.load_instrument import SAMPLE
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CompetencyPolicy, InstrumentVersion, Observation
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.rules.competency import (
    AT_LEAST,
    AT_MOST,
    ESSENTIALS,
    PERCENT,
    SUMMARY,
    Condition,
    ObservationRecord,
    RequirementSet,
    Rules,
)
from miiwrap_fidelity.wording.reason_sentences import sentence

from conftest import gate_refusal, ratings_for, run_gate

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 12, tzinfo=dt_timezone.utc)


def record(pk, days_ago=1, met=5, applicable=5, observer=1, version=1, setting="home_visit", missed=(),
           scores=()):
    return ObservationRecord(pk, observer, version, TODAY - timedelta(days=days_ago), met, applicable, tuple(missed),
                             tuple(sorted(scores)), setting)


def rules_with(*sets):
    return Rules(requirement_sets=tuple(sets))


def evidence(rules, observations):
    qualifying, reasons, _latest, _counted = competency.evaluate_evidence(rules, observations, TODAY)
    return qualifying, [r for r in reasons if r.code not in competency.INFORMATIONAL]


# --- conditions, at and just past every threshold -------------------------------------------------

@pytest.mark.parametrize("op, met, applicable, holds", [
    (AT_LEAST, 4, 5, True),  # exactly 80 %
    (AT_LEAST, 79, 100, False),  # just below
    (AT_MOST, 4, 5, True),  # exactly 80 %
    (AT_MOST, 81, 100, False),  # just above
])
def test_percent_condition_boundaries(op, met, applicable, holds):
    assert Condition(PERCENT, op, 80).holds(record(1, met=met, applicable=applicable)) is holds


@pytest.mark.parametrize("op, score, holds", [
    (AT_LEAST, 3.5, True), (AT_LEAST, 3.4999999999999, True),  # stored-float noise forgiven
    (AT_LEAST, 3.49, False), (AT_MOST, 3.5, True), (AT_MOST, 3.51, False),
])
def test_summary_condition_boundaries(op, score, holds):
    condition = Condition(SUMMARY, op, 3.5, "technical_global")
    assert condition.holds(record(1, scores=[("technical_global", score)])) is holds


def test_summary_condition_on_an_unscored_observation_is_not_met():
    condition = Condition(SUMMARY, AT_LEAST, 0, "technical_global")
    assert not condition.holds(record(1, scores=[("relational_global", 5.0)]))
    assert not Condition(SUMMARY, AT_MOST, 100, "technical_global").holds(record(1))


def test_essentials_condition_and_no_applicable_indicators():
    requirement = RequirementSet(1, 1, 30, 1, "", (Condition(ESSENTIALS),))
    assert requirement.qualifies(record(1))
    assert not requirement.qualifies(record(1, missed=["eng-voice-choice"]))
    assert not requirement.qualifies(record(1, met=0, applicable=0))  # nothing rated: never qualifies


def test_every_condition_of_a_set_must_hold():
    requirement = RequirementSet(1, 1, 30, 1, "", (
        Condition(PERCENT, AT_LEAST, 60), Condition(SUMMARY, AT_LEAST, 3.5, "technical_global"),
        Condition(SUMMARY, AT_MOST, 20, "closed_question_share")))
    good = [("closed_question_share", 20.0), ("technical_global", 3.5)]
    assert requirement.qualifies(record(1, met=3, scores=good))
    assert not requirement.qualifies(record(1, met=2, scores=good))  # 40 % < 60 %
    assert not requirement.qualifies(record(1, scores=[("closed_question_share", 20.5), ("technical_global", 4.0)]))


# --- requirement sets ---------------------------------------------------------------------------

HOME = RequirementSet(1, 2, 270, 1, "home_visit", (Condition(PERCENT, AT_LEAST, 80), Condition(ESSENTIALS)))
TEAM = RequirementSet(2, 1, 270, 1, "family_team_meeting", (Condition(PERCENT, AT_LEAST, 70),))


def test_two_home_visits_and_one_team_meeting():
    rules = rules_with(HOME, TEAM)
    visits = [record(1, days_ago=10), record(2, days_ago=5)]
    meeting = record(3, days_ago=3, met=7, applicable=10, version=2, setting="family_team_meeting")
    qualifying, reasons = evidence(rules, visits)
    assert [r.params["set"] for r in reasons] == [2] and reasons[0].params["setting"] == "family_team_meeting"
    qualifying, reasons = evidence(rules, visits + [meeting])
    assert reasons == [] and [obs.id for obs in qualifying] == [1, 2, 3]
    assert rules.required_count == 3


def test_progress_counts_each_set_up_to_its_need():
    """Three home visits and no team meeting are 2 of 3, not 3 of 3: one set's surplus fills no other set."""
    rules = rules_with(HOME, TEAM)
    visits = [record(pk, days_ago=10 - pk) for pk in (1, 2, 3)]
    assert competency.evaluate_evidence(rules, visits, TODAY)[3] == 2 and rules.required_count == 3
    meeting = record(9, days_ago=1, met=7, applicable=10, version=2, setting="family_team_meeting")
    assert competency.evaluate_evidence(rules, visits + [meeting], TODAY)[3] == 3
    decision = competency.decide(rules, visits, (), None, NOW)
    assert decision.counted == 2 and not decision.evidence_met
    # a certified learner in the renewal window: renewal is not offered on the surplus of one set
    offered = competency.offered_actions("certified", "expiring", decision.counted, decision.required_count, False)
    assert not offered.approve and offered.not_offered == "renewal_needs_evidence"


def test_a_set_counts_only_its_setting_and_version():
    rules = rules_with(HOME, TEAM)
    wrong_setting = record(3, version=2, setting="home_visit")  # team rubric used on a home visit
    wrong_version = record(4, version=1, setting="family_team_meeting")
    observations = [record(1, days_ago=10), record(2, days_ago=5), wrong_setting, wrong_version]
    qualifying, reasons = evidence(rules, observations)
    assert [obs.id for obs in qualifying] == [1, 2] and [r.params["set"] for r in reasons] == [2]
    _q, all_reasons, _l, _c = competency.evaluate_evidence(rules, observations + [record(5, version=9)], TODAY)
    informational = {r.code: r.params["count"] for r in all_reasons if r.code in competency.INFORMATIONAL}
    assert informational == {"other_instrument_version": 1, "other_setting": 2}


def test_each_set_has_its_own_window_boundary():
    short = RequirementSet(2, 1, 30, 1, "", (Condition(PERCENT, AT_LEAST, 70),))
    rules = rules_with(HOME, short)
    visits = [record(1, days_ago=270), record(2, days_ago=5)]  # exactly at the 270-day edge
    assert evidence(rules, visits + [record(3, days_ago=30, version=2)])[1] == []
    assert [r.params["set"] for r in evidence(rules, visits + [record(3, days_ago=31, version=2)])[1]] == [2]
    assert [r.params["set"] for r in evidence(rules, [record(1, days_ago=271), record(2, days_ago=5),
                                                      record(3, days_ago=1, version=2)])[1]] == [1]


def test_each_set_counts_its_own_distinct_observers():
    two_observers = RequirementSet(1, 2, 270, 2, "", (Condition(PERCENT, AT_LEAST, 80),))
    rules = rules_with(two_observers, TEAM)
    meeting = record(9, version=2, setting="family_team_meeting")
    reasons = evidence(rules, [record(1, observer=1), record(2, observer=1), meeting])[1]
    assert [(r.code, r.params) for r in reasons] == [("observers_short", {"have": 1, "need": 2, "set": 1})]
    assert evidence(rules, [record(1, observer=1), record(2, observer=2), meeting])[1] == []


def test_essentials_missed_in_the_latest_blocks_only_where_a_set_requires_them():
    no_essentials = RequirementSet(1, 1, 270, 1, "", (Condition(PERCENT, AT_LEAST, 50),))
    latest = record(2, days_ago=1, met=4, missed=["eng-voice-choice"])
    assert evidence(rules_with(no_essentials), [record(1, days_ago=5), latest])[1] == []
    codes = [r.code for r in evidence(rules_with(HOME), [record(1, days_ago=5), record(3, days_ago=4), latest])[1]]
    assert codes == ["critical_not_met_latest"]


def test_stale_after_is_the_first_day_a_set_loses_an_observation():
    short = RequirementSet(2, 1, 30, 1, "", ())
    decision = competency.decide(rules_with(HOME, short), [record(1, days_ago=10), record(2, days_ago=10, version=2)],
                                 [], None, NOW)
    assert decision.stale_after == datetime(2026, 6, 22, tzinfo=dt_timezone.utc)  # 10 days ago + 31


OBS = st.builds(
    lambda pk, days, met, missed, observer, version, setting, score: record(
        pk, days, met, 5, observer, version, setting, ("eng-voice-choice",) if missed else (),
        [("technical_global", score)]),
    st.integers(1, 10 ** 6), st.integers(0, 300), st.integers(0, 5), st.booleans(), st.integers(1, 3),
    st.integers(1, 2), st.sampled_from(["home_visit", "family_team_meeting"]),
    st.sampled_from([1.0, 3.0, 3.5, 4.0]))
SETS = st.builds(
    RequirementSet, st.integers(1, 2), st.integers(1, 3), st.sampled_from([30, 180, 270]), st.integers(1, 2),
    st.sampled_from(["", "home_visit", "family_team_meeting"]),
    st.lists(st.sampled_from([Condition(PERCENT, AT_LEAST, 80), Condition(PERCENT, AT_MOST, 60),
                              Condition(ESSENTIALS), Condition(SUMMARY, AT_LEAST, 3.5, "technical_global")]),
             max_size=3, unique=True).map(tuple))


@settings(max_examples=300, deadline=None)
@given(st.lists(SETS, min_size=1, max_size=3), st.lists(OBS, max_size=8, unique_by=lambda obs: obs.id))
def test_several_sets_are_met_exactly_when_each_one_is(sets, observations):
    rules = rules_with(*sets)
    qualifying, reasons = evidence(rules, observations)
    alone = [evidence(rules_with(requirement), observations) for requirement in sets]
    open_alone = [reason.code for _q, blocking in alone for reason in blocking]
    assert (not reasons) == (not open_alone)
    assert {obs.id for obs in qualifying} == {obs.id for q, _r in alone for obs in q}


@settings(max_examples=300, deadline=None)
@given(st.lists(SETS, min_size=1, max_size=3), OBS)
def test_a_session_marked_qualifying_is_one_the_evidence_counts(sets, observation):
    """The growth chart's mark (``qualifies_for_a_set``) agrees with the evidence rule for a session
    inside every window: it qualifies exactly when the evaluation counts it."""
    observation = replace(observation, practice_date=TODAY)
    qualifying, _reasons = evidence(rules_with(*sets), [observation])
    assert competency.qualifies_for_a_set(rules_with(*sets), observation) == (observation in qualifying)


def legacy_evidence(rules, observations, today):
    """``evaluate_evidence`` as it was before requirement sets (main before ADR 0013): the oracle."""
    reasons = []
    current = [obs for obs in observations if obs.instrument_version_id == rules.instrument_version_id]
    in_window = sorted((obs for obs in current if today - timedelta(days=rules.window_days) <= obs.practice_date
                        <= today), key=lambda obs: (obs.practice_date, obs.id))
    qualifying = tuple(obs for obs in in_window
                       if (obs.applicable_count > 0 and obs.met_count * 100 >= rules.min_percent * obs.applicable_count)
                       and not (rules.critical_required and obs.critical_missed))
    latest = in_window[-1] if in_window else None
    if len(observations) - len(current):
        reasons.append(competency.Reason("other_instrument_version", {"count": len(observations) - len(current)}))
    if len(qualifying) < rules.min_observations:
        reasons.append(competency.Reason("observations_short", {
            "have": len(qualifying), "need": rules.min_observations, "min_percent": rules.min_percent,
            "window_days": rules.window_days}))
    observers = len({obs.observer_id for obs in qualifying})
    if observers < rules.min_distinct_observers > 1:
        reasons.append(competency.Reason("observers_short", {"have": observers, "need": rules.min_distinct_observers}))
    if latest is not None and latest.applicable_count == 0:
        reasons.append(competency.Reason("latest_all_not_applicable", {"date": latest.practice_date.isoformat()}))
    if rules.critical_required and latest is not None and latest.critical_missed:
        reasons.append(competency.Reason("critical_not_met_latest", {
            "indicators": list(latest.critical_missed), "date": latest.practice_date.isoformat()}))
    return qualifying, reasons, latest


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3), st.sampled_from([50, 80, 100]), st.sampled_from([30, 180]), st.booleans(),
       st.integers(1, 2), st.lists(OBS, max_size=8, unique_by=lambda obs: obs.id))
def test_a_migrated_policy_decides_as_before(need, min_percent, window, critical, observers, observations):
    """A policy as the data migration leaves it (one set of its fields) decides as main did."""
    observations = [replace(obs, setting="home_visit", met_count=obs.met_count % 6, applicable_count=(
        0 if obs.id % 7 == 0 else 5)) for obs in observations]
    observers = min(observers, need)
    single = SimpleNamespace(instrument_version_id=1, min_observations=need, min_percent=min_percent,
                             window_days=window, critical_required=critical, min_distinct_observers=observers)
    migrated = Rules((competency.simple_set(1, need, min_percent, window, critical, observers),))
    expected = legacy_evidence(single, observations, TODAY)
    for rules in (migrated,):
        qualifying, reasons, latest, counted = competency.evaluate_evidence(rules, observations, TODAY)
        # the same decision; the reason now also says what the latest session lacked (issue 25)
        as_before = [competency.Reason(r.code, {k: v for k, v in r.params.items() if k != "latest_short"})
                     for r in reasons]
        assert (qualifying, as_before, latest) == expected and counted == min(len(expected[0]), need)


def test_reasons_name_the_open_requirement_in_the_learners_words():
    rules = rules_with(HOME, RequirementSet(2, 1, 270, 1, "family_team_meeting", (
        Condition(PERCENT, AT_LEAST, 70), Condition(SUMMARY, AT_LEAST, 3.5, "technical_global"))))
    reasons = evidence(rules, [record(1, days_ago=10), record(2, days_ago=5)])[1]
    reason = competency.Reason(reasons[0].code, {**reasons[0].params, "conditions": [
        {**c, "label": "Technical global"} if c.get("key") else c for c in reasons[0].params["conditions"]]})
    assert sentence(reason) == (
        'Requirement 2: 0 of 1 qualifying observation in the setting "Family team meeting" so far (practice '
        "observed in the last 270 days, each with at least 70% of indicators met; Technical global of at least "
        "3.5).")
    with translation.override("es"):
        spanish = sentence(reason)
    assert spanish.startswith("Requisito 2:") and "Reunión del equipo familiar" in spanish
    assert "3,5" in spanish and "70\u00a0%" in spanish, "numbers as the reader's language writes them"


# --- end to end: the api, the policy, the real certificate gate ---------------------------------------

@pytest.fixture
def team_version(db):
    """A second instrument (a team-meeting rubric: here the sample's indicators under another name)."""
    with open(SAMPLE, encoding="utf-8") as handle:
        text = handle.read().replace("slug: miiwrap-core", "slug: team-meeting-test").replace(
            "name: MiiWrap practice fidelity (sample)", "name: Team meeting (test)")
    return instruments.load(text)[0]


def submit(coach, learner, course_key, indicators, days_ago, setting="home_visit", version=None, miss=()):
    data = {"practice_date": (timezone.now().date() - timedelta(days=days_ago)).isoformat(), "setting": setting,
            "overall_note": "", "ratings": ratings_for(indicators, miss)}
    if version is not None:
        data["instrument_version"] = version.pk
    return api.save_observation(coach, learner, course_key, data, submit=True).observation


def sets_payload(version, team_version):
    return [
        {"instrument_version": version.pk, "setting": "home_visit", "min_observations": 2, "window_days": 270,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"}]},
        {"instrument_version": team_version.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 270, "conditions": [{"measure": "percent", "op": ">=", "value": 70}]},
    ]


@pytest.mark.django_db(transaction=True)
def test_home_visits_and_a_team_meeting_end_to_end(assigned, lead, coach, course_key, version, team_version,
                                                   indicators):
    api.save_policy(lead, course_key, requirement_sets=sets_payload(version, team_version))
    submit(coach, assigned, course_key, indicators, 40)
    submit(coach, assigned, course_key, indicators, 20)
    refusal = gate_refusal(assigned, course_key)
    assert 'Requirement 2: 0 of 1 qualifying observation in the setting "Family team meeting"' in refusal
    # The team rubric on a home visit counts for no set; on a team meeting it does.
    submit(coach, assigned, course_key, indicators, 10, "home_visit", team_version)
    assert "Requirement 2: 0 of 1" in gate_refusal(assigned, course_key)
    submit(coach, assigned, course_key, indicators, 5, "family_team_meeting", team_version)
    assert "coach has not signed off" in gate_refusal(assigned, course_key)
    assert api.learner_status(coach, assigned, course_key).qualifying_count == 3
    api.sign_off(coach, assigned, course_key)
    assert run_gate(assigned, course_key)[0] == assigned


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("score, certified", [(3.5, True), (3.49, False)])
def test_summary_score_threshold_end_to_end(assigned, lead, coach, course_key, version, indicators, score,
                                            certified):
    """Summary scores are computed when an observation is recorded (test_instrument_recording); set here."""
    InstrumentVersion.objects.filter(pk=version.pk).update(summaries=[
        {"key": "technical_global", "label": "Technical global", "op": "sum", "of": [], "better": "higher",
         "levels": []}])
    api.save_policy(lead, course_key, requirement_sets=[{
        "instrument_version": version.pk, "min_observations": 1, "window_days": 90,
        "conditions": [{"measure": "summary", "op": ">=", "value": 3.5, "key": "technical_global"}]}])
    observation = submit(coach, assigned, course_key, indicators, 3)
    Observation.objects.filter(pk=observation.pk).update(summary_scores={"technical_global": score})
    api.reevaluate(assigned, course_key)
    if certified:
        api.sign_off(coach, assigned, course_key)
        assert run_gate(assigned, course_key)[0] == assigned
    else:
        refusal = gate_refusal(assigned, course_key)  # the score by its label, as people read it
        assert "fell short: Technical global 3.49, needs at least 3.5" in refusal and "technical_global" not in refusal
        with pytest.raises(api.ValidationError):
            api.sign_off(coach, assigned, course_key)


@pytest.mark.django_db(transaction=True)
def test_gate_stays_at_most_two_queries_with_several_sets(assigned, lead, coach, course_key, version,
                                                          team_version, indicators):
    api.save_policy(lead, course_key, requirement_sets=sets_payload(version, team_version))
    for days in (30, 20):
        submit(coach, assigned, course_key, indicators, days)
    submit(coach, assigned, course_key, indicators, 5, "family_team_meeting", team_version)
    with CaptureQueriesContext(connection) as captured:
        gate_refusal(assigned, course_key)
    assert 1 <= len(captured.captured_queries) <= 2


def test_observation_with_an_instrument_the_policy_does_not_use_is_refused(assigned, coach, course_key,
                                                                          team_version, indicators):
    with pytest.raises(api.ValidationError) as caught:
        submit(coach, assigned, course_key, indicators, 3, "family_team_meeting", team_version)
    assert "instrument_version" in caught.value.message_dict


# --- editing: api, REST, the editor page -------------------------------------------------------------

def test_an_existing_policy_is_one_requirement_set(policy, version):
    assert policy.requirement_sets == [{
        "instrument_version": version.pk, "setting": "", "min_observations": 3, "window_days": 180,
        "min_distinct_observers": 1,
        "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"}]}]


@pytest.mark.parametrize("sets, place", [
    ("not a list", "requirement_sets"),
    ([], "requirement_sets"),
    ([{"instrument_version": 999999, "min_observations": 1, "window_days": 30}],
     "requirement_sets[0].instrument_version"),
    ([{"instrument_version": [1], "min_observations": 1, "window_days": 30}],  # was a 500 (unhashable)
     "requirement_sets[0].instrument_version"),
    ([{"instrument_version": True, "min_observations": 1, "window_days": 30}],
     "requirement_sets[0].instrument_version"),
    ([{"instrument_version": "V", "min_observations": 0, "window_days": 30}], "requirement_sets[0].min_observations"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30, "setting": "moon"}],
     "requirement_sets[0].setting"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 3651}], "requirement_sets[0].window_days"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": True}], "requirement_sets[0].window_days"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30, "min_distinct_observers": 2}],
     "requirement_sets[0].min_distinct_observers"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30, "colour": "red"}],
     "requirement_sets[0].colour"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "percent", "op": ">", "value": 80}]}], "requirement_sets[0].conditions[0].op"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "percent", "op": ">=", "value": 100.5}]}],
     "requirement_sets[0].conditions[0].value"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "summary", "op": ">=", "value": float("nan"), "key": "x"}]}],
     "requirement_sets[0].conditions[0].value"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "summary", "op": ">=", "value": 3, "key": "Not A Key!"}]}],
     "requirement_sets[0].conditions[0].key"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "essentials", "value": 3}]}], "requirement_sets[0].conditions[0].value"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30,
       "conditions": [{"measure": "essentials"}, {"measure": "essentials"}]}], "requirement_sets[0].conditions[1]"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30, "conditions": [{"measure": "mood"}]}],
     "requirement_sets[0].conditions[0].measure"),
    ([{"instrument_version": "V", "min_observations": 1, "window_days": 30}] * 11, "requirement_sets"),
])
def test_invalid_sets_are_refused_naming_the_place(policy, lead, course_key, version, sets, place):
    if isinstance(sets, list):
        sets = [{**item, "instrument_version": version.pk} if item.get("instrument_version") == "V" else item
                for item in sets]
    with pytest.raises(api.ValidationError) as caught:
        api.save_policy(lead, course_key, requirement_sets=sets)
    assert place in caught.value.message_dict
    assert CompetencyPolicy.objects.get(pk=policy.pk).requirement_sets[0]["min_observations"] == 3  # unchanged


def test_rest_policy_endpoint_reads_and_writes_sets(policy, lead, course_key, version, team_version):
    client = APIClient()
    client.force_authenticate(lead)
    url = f"/api/miiwrap-fidelity/v1/courses/{course_key}/policy/"
    bad = client.patch(url, {"requirement_sets": [{"instrument_version": version.pk, "min_observations": 1,
                                                   "window_days": 30, "setting": "moon"}]}, format="json")
    assert bad.status_code == 400 and "requirement_sets[0].setting" in bad.json()
    saved = client.patch(url, {"requirement_sets": sets_payload(version, team_version)}, format="json")
    assert saved.status_code == 200, saved.content
    body = client.get(url).json()
    assert [s["setting"] for s in body["requirement_sets"]] == ["home_visit", "family_team_meeting"]
    put = client.put(url, {"requirement_sets": sets_payload(version, team_version)[1:]}, format="json")
    assert put.status_code == 200 and put.json()["instrument_version"] == team_version.pk


def test_policy_page_edits_sets_and_names_errors(policy, lead, course_key, version, team_version, client):
    client.force_login(lead)
    url = reverse("miiwrap_fidelity:policy", args=[str(course_key)])
    wrong = [{"instrument_version": version.pk, "min_observations": 1, "window_days": 30,
              "conditions": [{"measure": "percent", "op": "=>", "value": 80}]}]
    refused = client.post(url, policy_post(wrong))
    assert refused.status_code == 400
    assert "Choose &gt;= (at least) or &lt;= (at most)." in refused.content.decode()
    assert client.post(url, policy_post(sets_payload(version, team_version))).status_code == 302
    assert len(CompetencyPolicy.objects.get(pk=policy.pk).requirement_sets) == 2


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_makes_each_existing_policy_one_set():
    """Migration 0010 on a policy saved before requirement sets: one set of its fields (no essentials too)."""
    from django.db.migrations.executor import MigrationExecutor  # pylint: disable=import-outside-toplevel

    before, after = [("miiwrap_fidelity", "0011_instrument_kinds")], [
        ("miiwrap_fidelity", "0012_requirement_sets")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    instrument = old.get_model("miiwrap_fidelity", "Instrument").objects.create(slug="old", name="Old")
    version = old.get_model("miiwrap_fidelity", "InstrumentVersion").objects.create(
        instrument=instrument, number=1, title="Old", content_digest="x")
    Policy = old.get_model("miiwrap_fidelity", "CompetencyPolicy")
    Policy.objects.create(course_key="course-v1:Old+A+1", instrument_version=version, min_observations=4,
                          min_percent=75, window_days=90, critical_required=False, min_distinct_observers=2)
    Policy.objects.create(course_key="course-v1:Old+B+1", instrument_version=version)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = MigrationExecutor(connection).loader.project_state(after).apps
    sets = dict(new.get_model("miiwrap_fidelity", "CompetencyPolicy").objects.values_list(
        "course_key", "requirement_sets"))
    assert sets[api.parse_course_key("course-v1:Old+A+1")] == [{
        "instrument_version": version.pk, "setting": "", "min_observations": 4, "window_days": 90,
        "min_distinct_observers": 2, "conditions": [{"measure": "percent", "op": ">=", "value": 75}]}]
    assert sets[api.parse_course_key("course-v1:Old+B+1")][0]["conditions"] == [
        {"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"}]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("miiwrap_fidelity"))


def test_rest_records_an_observation_with_the_second_instrument(assigned, lead, coach, course_key, version,
                                                                team_version):
    api.save_policy(lead, course_key, requirement_sets=sets_payload(version, team_version))
    client = APIClient()
    client.force_authenticate(coach)
    url = f"/api/miiwrap-fidelity/v1/courses/{course_key}/observations/"
    team_indicators = list(team_version.indicators.order_by("position"))
    body = {"learner": assigned.pk, "practice_date": (timezone.now().date() - timedelta(days=2)).isoformat(),
            "setting": "family_team_meeting", "ratings": ratings_for(team_indicators), "submit": True,
            "instrument_version": team_version.pk}
    created = client.post(url, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["instrument_version"] == team_version.pk
    refused = client.post(url, {**body, "instrument_version": team_version.pk + 100}, format="json")
    assert refused.status_code == 400 and "instrument_version" in refused.json()
    reasons = api.learner_status(coach, assigned, course_key).reasons
    assert [r["params"].get("set") for r in reasons if r["code"] == "observations_short"] == [1]


@pytest.mark.parametrize("version_id", [2 ** 63, -1, 0])
def test_an_impossible_instrument_id_is_a_field_error(policy, lead, course_key, version_id):
    with pytest.raises(api.ValidationError) as caught:
        api.save_policy(lead, course_key, requirement_sets=[
            {"instrument_version": version_id, "min_observations": 1, "window_days": 30}])
    assert "requirement_sets[0].instrument_version" in caught.value.message_dict


