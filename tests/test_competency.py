"""The pure competency decision: thresholds, windows, critical indicators, sign-offs, expiry."""
from datetime import date, datetime, timedelta, timezone

import pytest

from miiwrap_fidelity.rules import competency as c
from miiwrap_fidelity.wording.reason_sentences import sentence

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
RULES = c.Rules((c.simple_set(7, min_observations=3, min_percent=80, window_days=90),))


def obs(pk, days_ago=1, met=8, applicable=10, observer=1, version=7, critical=()):
    return c.ObservationRecord(pk, observer, version, TODAY - timedelta(days=days_ago), met, applicable,
                               tuple(critical))


def approve(pk, level="coach", at=NOW - timedelta(hours=1), actor=9):
    return c.SignOffRecord(pk, "approve", level, actor, at)


def codes(decision):
    return [reason.code for reason in decision.reasons]


def test_exactly_the_threshold_qualifies_and_one_below_does_not():
    decision = c.decide(RULES, [obs(1, met=8), obs(2, met=8), obs(3, met=8)], [], None, NOW)
    assert len(decision.qualifying) == 3 and decision.evidence_met
    decision = c.decide(RULES, [obs(1, met=8), obs(2, met=8), obs(3, met=7)], [], None, NOW)
    assert len(decision.qualifying) == 2
    latest = {"date": (TODAY - timedelta(days=1)).isoformat(), "failed": [{"measure": "percent", "op": ">=", "value": 80,
                                                            "actual": 70.0}]}  # what the session lacked
    assert decision.reasons[0] == c.Reason("observations_short", {"have": 2, "need": 3, "min_percent": 80,
                                                                  "window_days": 90, "latest_short": latest})


def test_window_edges_are_inclusive():
    on_edge = [obs(1, days_ago=90), obs(2, days_ago=10), obs(3, days_ago=0)]
    assert len(c.decide(RULES, on_edge, [], None, NOW).qualifying) == 3
    past_edge = [obs(1, days_ago=91), obs(2, days_ago=10), obs(3, days_ago=0)]
    assert len(c.decide(RULES, past_edge, [], None, NOW).qualifying) == 2


def test_future_dated_observation_does_not_count():
    assert len(c.decide(RULES, [obs(1, days_ago=-1)], [], None, NOW).qualifying) == 0


def test_all_not_applicable_observation_does_not_qualify_and_is_explained():
    records = [obs(1, days_ago=30), obs(2, days_ago=20), obs(3, days_ago=1, met=0, applicable=0)]
    decision = c.decide(RULES, records, [], None, NOW)
    assert len(decision.qualifying) == 2
    assert "latest_all_not_applicable" in codes(decision)
    assert c.percent(0, 0) is None


def test_critical_indicator_missed_in_latest_observation_blocks():
    records = [obs(1, days_ago=30), obs(2, days_ago=20), obs(3, days_ago=10), obs(4, days_ago=1, met=9,
                                                                                   critical=("mi-reflections",))]
    decision = c.decide(RULES, records, [], None, NOW)
    assert not decision.evidence_met
    reason = next(r for r in decision.reasons if r.code == "critical_not_met_latest")
    assert reason.params["indicators"] == ["mi-reflections"]
    assert "mi-reflections" in sentence(reason)
    relaxed = c.Rules((c.simple_set(7, min_observations=3, min_percent=80, window_days=90, essentials=False),))
    assert c.decide(relaxed, records, [], None, NOW).evidence_met


def test_instrument_version_mismatch_does_not_count():
    records = [obs(1), obs(2), obs(3, version=6)]
    decision = c.decide(RULES, records, [], None, NOW)
    assert len(decision.qualifying) == 2
    assert "other_instrument_version" in codes(decision)


def test_distinct_observers_required():
    rules = c.Rules((c.simple_set(7, min_observations=3, min_percent=80, window_days=90, min_distinct_observers=2),))
    same = [obs(1), obs(2), obs(3)]
    assert "observers_short" in codes(c.decide(rules, same, [], None, NOW))
    mixed = [obs(1), obs(2), obs(3, observer=2)]
    assert "observers_short" not in codes(c.decide(rules, mixed, [], None, NOW))


def test_states_from_nothing_to_ready():
    assert c.decide(RULES, [], [], None, NOW).state == "not_started"
    assert c.decide(RULES, [obs(1)], [], None, NOW).state == "in_progress"
    ready = c.decide(RULES, [obs(1), obs(2), obs(3)], [], None, NOW)
    assert ready.state == "ready" and codes(ready) == ["coach_signoff_missing"]


def test_two_level_signoff_waits_for_the_lead():
    rules = c.Rules(RULES.requirement_sets, require_lead_signoff=True)
    decision = c.decide(rules, [obs(1), obs(2), obs(3)], [approve(1)], None, NOW)
    assert decision.state == "awaiting_lead" and codes(decision) == ["lead_signoff_missing"]
    assert decision.approved_levels == ("coach",)


def test_revocation_clears_earlier_approvals():
    signoffs = [approve(1, at=NOW - timedelta(days=2)),
                c.SignOffRecord(2, "revoke", "coach", 9, NOW - timedelta(days=1))]
    assert c.current_approvals(signoffs) == {}
    assert c.current_approvals(signoffs + [approve(3)])["coach"].id == 3


def test_active_certification_is_certified_and_expiry_ends_it():
    issued = NOW - timedelta(days=10)
    cert = c.CertificationRecord(1, issued, c.add_months(issued, 24), None)
    decision = c.decide(RULES, [obs(1), obs(2), obs(3)], [approve(1, at=issued - timedelta(seconds=1))], cert, NOW)
    assert decision.certified and decision.state == "certified" and decision.reasons == ()
    assert decision.stale_after == cert.expires_at
    expired = c.CertificationRecord(1, issued, NOW - timedelta(seconds=1), None)
    later = c.decide(RULES, [], [approve(1, at=issued - timedelta(seconds=1))], expired, NOW)
    assert not later.certified and later.state == "expired"
    # The approvals that produced the expired certification no longer count.
    assert codes(later)[0] == "certification_expired" and "coach_signoff_missing" in codes(later)


def test_revoked_certification_is_not_certified():
    issued = NOW - timedelta(days=10)
    cert = c.CertificationRecord(1, issued, None, NOW - timedelta(days=1))
    decision = c.decide(RULES, [obs(1), obs(2), obs(3)], [], cert, NOW)
    assert not decision.certified and decision.state == "revoked"
    assert codes(decision)[0] == "certification_revoked"


@pytest.mark.parametrize("start, months, expected", [
    (datetime(2026, 1, 31, tzinfo=timezone.utc), 1, date(2026, 2, 28)),
    (datetime(2024, 2, 29, tzinfo=timezone.utc), 12, date(2025, 2, 28)),
    (datetime(2026, 11, 15, tzinfo=timezone.utc), 14, date(2028, 1, 15)),
])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert c.add_months(start, months).date() == expected


def test_no_expiry_when_validity_is_zero():
    assert c.expiry_for(NOW, c.Rules((c.simple_set(1),), validity_months=0)) is None


def test_stale_after_is_when_the_oldest_observation_leaves_the_window():
    decision = c.decide(RULES, [obs(1, days_ago=80), obs(2, days_ago=10)], [], None, NOW)
    assert decision.stale_after.date() == TODAY - timedelta(days=80) + timedelta(days=91)


def test_every_reason_has_a_sentence():
    for reason in [c.Reason("observations_short", {"have": 1, "need": 3, "min_percent": 80, "window_days": 90}),
                   c.Reason("observers_short", {"have": 1, "need": 2}),
                   c.Reason("critical_not_met_latest", {"indicators": ["a"], "date": "2026-01-01"}),
                   c.Reason("latest_all_not_applicable", {"date": "2026-01-01"}),
                   c.Reason("coach_signoff_missing"), c.Reason("lead_signoff_missing"),
                   c.Reason("certification_revoked", {"date": "2026-01-01"}),
                   c.Reason("certification_expired", {"date": "2026-01-01"}),
                   c.Reason("other_instrument_version", {"count": 2})]:
        assert sentence(reason) != reason.code and len(sentence(reason)) > 20


def test_every_list_filter_has_a_label_and_a_rule():
    from miiwrap_fidelity.records import roster  # pylint: disable=import-outside-toplevel

    assert list(roster.STATE_FILTERS) == list(c.STATE_FILTERS)
    assert roster.EXPIRING_COLUMNS == ("expiring_30", "expiring_60", "expiring")
    assert str(roster.STATE_FILTERS["expiring_60"]) == "Expiring within 60 days"
