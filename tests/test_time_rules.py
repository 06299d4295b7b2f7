"""
Every time rule lives in competency.py (issue 23): the SQL selectors are built from its rules and held
to them by a property test; the reminder windows, the observation cadence ("due for observation",
a different word from the deadline's "overdue") and the certificate requests all read them there.
"""
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from miiwrap_fidelity import api
from miiwrap_fidelity.api import messaging
from miiwrap_fidelity.records import time_selectors
from miiwrap_fidelity.records.models import Certification
from miiwrap_fidelity.rules import competency

NOW = datetime(2027, 6, 1, 12, tzinfo=dt_timezone.utc)
# Expiry offsets around "now", in seconds, with the boundary itself and no expiry at all.
OFFSETS = st.one_of(st.none(), st.sampled_from([-86400, -1, 0, 1, 86400]), st.integers(-10 ** 7, 10 ** 7))


@pytest.fixture
def certified_learner(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    return Certification.objects.get(learner=ready_learner)


@pytest.mark.django_db
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.booleans(), OFFSETS), min_size=1, max_size=6))
def test_the_certification_selectors_are_the_rule_in_sql(certified_learner, rows):
    """Each example replaces every certification but the fixture's, so the fixture is shared safely."""
    template = certified_learner
    Certification.objects.exclude(pk=template.pk).delete()
    made = Certification.objects.bulk_create([Certification(
        learner_id=template.learner_id, course_key=template.course_key, policy_id=template.policy_id,
        issued_at=NOW - timedelta(days=400), evidence_digest="x",
        expires_at=None if offset is None else NOW + timedelta(seconds=offset),
        revoked_at=NOW - timedelta(days=1) if revoked else None) for revoked, offset in rows])
    ids = [row.pk for row in Certification.objects.exclude(pk=template.pk).order_by("id")]
    assert len(ids) == len(made)
    expected = {pk for pk, (revoked, offset) in zip(ids, rows) if competency.is_active(
        None if offset is None else NOW + timedelta(seconds=offset), NOW if revoked else None, NOW)}
    mine = Certification.objects.filter(pk__in=ids)
    assert set(mine.filter(time_selectors.active_certification(NOW)).values_list("pk", flat=True)) == expected
    assert set(mine.filter(time_selectors.lapsed_certification(NOW)).values_list("pk", flat=True)) == \
        set(ids) - expected


def test_an_expired_certification_is_not_requested_again(certified_learner):
    """'Active' was 'not revoked' here: an expired certification's lost request was re-sent."""
    later = certified_learner.expires_at + timedelta(days=1)
    Certification.objects.filter(pk=certified_learner.pk).update(certificate_requested_at=None,
                                                                  certificate_confirmed_at=None)
    assert certified_learner.pk in api.pending_certificate_requests(now=certified_learner.expires_at
                                                                    - timedelta(days=1))
    assert certified_learner.pk not in api.pending_certificate_requests(now=later)


def test_the_reminder_windows_are_the_expiring_window_and_a_nearer_one():
    assert competency.EXPIRY_REMINDER_DAYS[0] == competency.EXPIRING_DAYS
    assert sorted(competency.EXPIRY_REMINDER_DAYS, reverse=True) == list(competency.EXPIRY_REMINDER_DAYS)


@pytest.mark.parametrize("sets, cadence", [
    ([(180, 3)], 60),
    ([(180, 3), (90, 3)], 30),  # the more demanding set decides (was the first set alone)
    ([(30, 10)], competency.MIN_CADENCE_DAYS),
    ([], competency.MIN_CADENCE_DAYS),
])
def test_the_observation_cadence_reads_every_requirement_set(sets, cadence):
    assert competency.observation_cadence_days(sets) == cadence


def test_due_for_observation_is_one_cadence_and_long_due_two():
    today = date(2027, 6, 1)
    assert competency.observation_due(None, today, 30) == competency.LONG_DUE_FOR_OBSERVATION
    assert competency.observation_due(today - timedelta(days=60), today, 30) == competency.LONG_DUE_FOR_OBSERVATION
    assert competency.observation_due(today - timedelta(days=59), today, 30) == competency.DUE_FOR_OBSERVATION
    assert competency.observation_due(today - timedelta(days=30), today, 30) == competency.DUE_FOR_OBSERVATION
    assert competency.observation_due(today - timedelta(days=29), today, 30) is None


@pytest.mark.django_db
def test_the_digest_cadence_comes_from_every_set_of_the_policy(policy):
    policy.requirement_sets = [{**policy.requirement_sets[0], "window_days": 180, "min_observations": 3},
                               {**policy.requirement_sets[0], "window_days": 60, "min_observations": 3,
                                "setting": "family_team_meeting"}]
    assert messaging.cadence_days(policy) == 20


@pytest.mark.django_db
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ages=st.lists(st.one_of(st.sampled_from([-1, 0, 1]), st.integers(-30 * 86400, 30 * 86400)),
                     min_size=1, max_size=5),
       answered=st.lists(st.booleans(), min_size=5, max_size=5))
def test_the_blind_window_selector_is_the_rule_in_sql(assigned, coach, course_key, indicators, ages, answered):
    """Issue 23: the blind window was SQL of its own in api/self_assessments; now competency's rule, translated."""
    from miiwrap_fidelity.records.models import Observation, SelfAssessment  # pylint: disable=import-outside-toplevel

    SelfAssessment.objects.all().delete()
    Observation.objects.all().delete()
    edge = competency.self_assessment_awaited_since(NOW)
    made = []
    for index, age in enumerate(ages):
        observation = Observation.objects.create(
            observer=coach, learner=assigned, course_key=course_key, instrument_version=indicators[0].version,
            practice_date=date(2027, 5, 1), setting="home_visit", status="submitted")
        stored = "submitted" if answered[index] else "requested"
        made.append(SelfAssessment.objects.create(observation=observation, learner=assigned, course_key=course_key,
                                                  status=stored, requested_at=edge + timedelta(seconds=age)))
    expected = {row.pk for row in made if competency.self_assessment_state(row.status, row.requested_at, NOW)
                == competency.SelfAssessmentState.AWAITING}
    assert set(SelfAssessment.objects.filter(time_selectors.awaited_self_assessment(NOW))
               .values_list("pk", flat=True)) == expected
