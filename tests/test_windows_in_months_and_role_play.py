"""
Issue 25's findings on requirement sets, reproduced first: "12 months" could only be written as 365
days (a year from a leap day, or across one, is not 365 days), and no role-play or simulated-session
setting existed (stage 1 of a staged course is usually role-play).
"""
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from test_requirement_sets import submit

from miiwrap_fidelity import api
from miiwrap_fidelity.rules import competency, practice_settings
from miiwrap_fidelity.rules.competency import AT_LEAST, PERCENT, Condition, ObservationRecord, RequirementSet, Rules
from miiwrap_fidelity.wording.reason_sentences import sentence

from conftest import gate_refusal

YEAR = RequirementSet(1, 1, 365, 1, "", (Condition(PERCENT, AT_LEAST, 80),), window_months=12)


def practised(on, setting="home_visit", pk=1):
    return ObservationRecord(pk, 1, 1, on, 5, 5, (), (), setting)


@pytest.mark.parametrize("today, first_day_counted", [
    (date(2027, 3, 1), date(2026, 3, 1)),
    (date(2028, 2, 29), date(2027, 2, 28)),  # from a leap day: the last day of February a year before
    (date(2029, 3, 1), date(2028, 3, 1)),  # 365 days would have lost 2028-03-01... and kept a day too many after
    (date(2026, 12, 31), date(2025, 12, 31)),
])
def test_a_window_of_twelve_months_is_a_calendar_year(today, first_day_counted):
    assert YEAR.in_window(practised(first_day_counted), today)
    assert not YEAR.in_window(practised(first_day_counted - timedelta(days=1)), today)
    assert YEAR.window_start(today) == first_day_counted


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2020, 1, 1), date(2035, 12, 31)), st.integers(0, 60), st.integers(1, 1900),
       st.integers(0, 2000))
def test_an_observation_leaves_a_window_on_the_day_the_rules_say(practice_date, months, days, later):
    """``leaves_window_on`` (the decision's stale_after) is exactly the first day ``in_window`` is False."""
    requirement = RequirementSet(1, 1, days, 1, "", (), window_months=months)
    today = practice_date + timedelta(days=later)
    assert requirement.in_window(practised(practice_date), today) == (today < requirement.leaves_window_on(
        practice_date))


def test_the_decision_goes_stale_when_an_observation_leaves_a_window_of_months():
    rules = Rules(requirement_sets=(YEAR,))
    now = competency.datetime(2027, 1, 31, 12, tzinfo=competency.timezone.utc)
    decision = competency.decide(rules, [practised(date(2026, 2, 28))], [], None, now)
    assert decision.stale_after.date() == date(2027, 3, 1)  # 2026-02-28 + 12 months, and a day


def test_a_set_of_months_is_stored_read_and_worded_in_months():
    assert RequirementSet.from_dict(YEAR.as_dict()) == YEAR
    days_only = RequirementSet(1, 2, 180, 1, "", ())
    assert "window_months" not in days_only.as_dict(), "a set in days keeps its stored form (and digests)"
    reason = competency.Reason("observations_short", {"have": 0, "need": 1, "window_days": 365, "window_months": 12,
                                                      "setting": "", "conditions": []})
    assert "practice observed in the last 12 months" in sentence(reason)
    with translation.override("es"):
        assert "en los últimos 12 meses" in sentence(reason)


@pytest.mark.parametrize("months, refused", [(12, False), (1, False), (60, False), (0, True), (61, True),
                                             ("12", True), (True, True), (1.5, True)])
def test_rest_takes_a_window_in_months(policy, lead, course_key, version, months, refused):
    client = APIClient()
    client.force_authenticate(lead)
    url = f"/api/miiwrap-fidelity/v1/courses/{course_key}/policy/"
    answer = client.patch(url, {"requirement_sets": [{"instrument_version": version.pk, "min_observations": 2,
                                                      "window_months": months}]}, format="json")
    if refused:
        assert answer.status_code == 400 and "requirement_sets[0].window_months" in answer.json(), answer.content
        return
    assert answer.status_code == 200, answer.content
    stored = client.get(url).json()["requirement_sets"][0]
    assert stored["window_months"] == months and stored["window_days"] == competency.window_days_of_months(months)
    again = client.put(url, {"requirement_sets": [stored]}, format="json")  # what was read, sent back
    assert again.status_code == 200 and again.json()["requirement_sets"][0]["window_months"] == months


def test_a_window_of_months_survives_an_edit_of_another_field_and_yields_to_days(policy, lead, course_key, version):
    api.save_policy(lead, course_key, requirement_sets=[{"instrument_version": version.pk, "min_observations": 2,
                                                          "window_months": 12}])
    kept = api.save_policy(lead, course_key, validity_months=12)  # another field: the sets stay as they are
    assert (kept.requirement_sets[0]["min_observations"], kept.requirement_sets[0]["window_months"]) == (2, 12)
    days = api.save_policy(lead, course_key, requirement_sets=[{**kept.requirement_sets[0], "window_days": 200,
                                                                "window_months": None}])
    assert "window_months" not in days.requirement_sets[0] and days.requirement_sets[0]["window_days"] == 200


def test_a_role_play_setting_is_recorded_and_counted_by_a_set_that_names_it(assigned, lead, coach, course_key,
                                                                            version, indicators):
    assert practice_settings.label("role_play") == "Role-play or simulated session"
    with translation.override("es"):
        assert practice_settings.label("role_play") == "Juego de roles o sesión simulada"
    api.save_policy(lead, course_key, requirement_sets=[{"instrument_version": version.pk, "setting": "role_play",
                                                          "min_observations": 1, "window_months": 6}])
    submit(coach, assigned, course_key, indicators, 3, setting="home_visit")
    assert 'in the setting "Role-play or simulated session"' in gate_refusal(assigned, course_key)
    submit(coach, assigned, course_key, indicators, 2, setting="role_play")
    assert api.learner_status(coach, assigned, course_key).qualifying_count == 1


def test_a_window_in_days_that_contradicts_its_months_is_refused(policy, lead, course_key, version):
    """The review: a set read back with its window_days edited kept the months silently."""
    client = APIClient()
    client.force_authenticate(lead)
    url = f"/api/miiwrap-fidelity/v1/courses/{course_key}/policy/"
    answer = client.put(url, {"requirement_sets": [{"instrument_version": version.pk, "min_observations": 2,
                                                    "window_months": 12, "window_days": 90}]}, format="json")
    assert answer.status_code == 400 and "give the window in days or in months" in (
        answer.json()["requirement_sets[0].window_days"][0])


def test_a_set_cannot_ask_for_a_setting_its_instrument_is_never_used_in(policy, lead, course_key):
    """The review: a set of home visits on the team-meeting rubric (used in team meetings only) saved, unmeetable."""
    from miiwrap_fidelity.records import instrument_import  # pylint: disable=import-outside-toplevel

    sample = Path(api.__file__).resolve().parent.parent / "data" / "team_meeting_sample_instrument.yaml"
    team = instrument_import.load(sample.read_text(encoding="utf-8"))[0]
    assert team.settings == ["family_team_meeting"]
    with pytest.raises(api.ValidationError) as refused:
        api.save_policy(lead, course_key, requirement_sets=[{"instrument_version": team.pk, "setting": "home_visit",
                                                              "min_observations": 1, "window_days": 90}])
    assert "not used in the setting" in refused.value.message_dict["requirement_sets[0].setting"][0]
    saved = api.save_policy(lead, course_key, requirement_sets=[{
        "instrument_version": team.pk, "setting": "family_team_meeting", "min_observations": 1, "window_days": 90}])
    assert saved.requirement_sets[0]["setting"] == "family_team_meeting"
