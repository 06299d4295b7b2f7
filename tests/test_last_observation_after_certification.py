"""
Reviewer's finding: after approval a certified learner's list row said "Last observation: —" and
the leader view counted them as never observed, because only evidence after the certification was
considered for the last observation. The session the coach observed is still the last one.
"""
from datetime import date, datetime, timedelta, timezone

from miiwrap_fidelity.rules import competency

NOW = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)


def observation(pk, day, met=20, applicable=21):
    return competency.ObservationRecord(pk, 7, 1, day, met, applicable)


def test_certified_learner_keeps_their_last_observation():
    rules = competency.Rules((competency.simple_set(1, min_observations=2),))
    observations = (observation(1, date(2026, 11, 1)), observation(2, date(2026, 11, 20)))
    certification = competency.CertificationRecord(9, NOW - timedelta(days=2), NOW + timedelta(days=700), None)
    signoffs = (competency.SignOffRecord(3, competency.APPROVE, competency.COACH, 8, NOW - timedelta(days=2)),)
    decision = competency.decide(rules, observations, signoffs, certification, NOW)
    assert decision.state == competency.State.CERTIFIED
    assert decision.last_observation is not None and decision.last_observation.id == 2
    assert decision.qualifying == ()  # only practice after the certification counts toward the next one


def test_fresh_observation_is_the_last_one_when_there_is_one():
    rules = competency.Rules((competency.simple_set(1, min_observations=2),))
    observations = (observation(1, date(2026, 11, 1)), observation(2, date(2026, 11, 28), met=10))
    certification = competency.CertificationRecord(9, NOW - timedelta(days=2), NOW + timedelta(days=700), None)
    decision = competency.decide(rules, observations, (), certification, NOW)
    assert decision.last_observation.id == 2
