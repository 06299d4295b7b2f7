"""
Issue 25: an instrument's scales had to declare "met" points even where "% met" means nothing (the
MITI's global ratings are read through summary scores), and a session rated only on such scales
and counts had no applicable indicator, so it could never qualify, whatever its summary scores.
Reproduced first: the file check, the session's score and a summary-score set end to end.
"""
import re
from pathlib import Path

import pytest

from miiwrap_fidelity import api
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.instrument_import import InstrumentInvalid
from miiwrap_fidelity.records.models import Observation
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.rules.competency import AT_LEAST, SUMMARY, Condition, ObservationRecord, RequirementSet

from conftest import assign_coach

SAMPLE = Path(api.__file__).resolve().parent.parent / "data" / "mi_coding_sample_instrument.yaml"


def without_met_points(text):
    """The MI coding sample with its global ratings' invented "met" points removed."""
    return re.sub(r"\n    met:\n(    - \d\n)+", "\n", text).replace("slug: mi-coding", "slug: mi-coding-no-met")


def test_a_scale_may_declare_no_met_point_and_then_is_never_met_or_not_met(db):
    version = instruments.load(without_met_points(SAMPLE.read_text(encoding="utf-8")))[0]
    scale = version.indicators.get(key="evoking-change")
    assert [level["met"] for level in scale.levels] == [None] * 5


def test_a_scale_without_met_points_cannot_be_essential(db):
    text = without_met_points(SAMPLE.read_text(encoding="utf-8")).replace("  critical: false\n", "  critical: true\n",
                                                                          1)
    with pytest.raises(InstrumentInvalid, match="critical"):
        instruments.load(text)


def test_a_session_of_summary_scores_alone_qualifies_for_a_summary_set():
    requirement = RequirementSet(1, 1, 365, 1, "", (Condition(SUMMARY, AT_LEAST, 3.5, "technical"),))
    scored = ObservationRecord(1, 1, 1, competency.date(2026, 6, 1), 0, 0, (), (("technical", 4.0),), "home_visit")
    assert requirement.qualifies(scored), "no applicable indicator: its summary scores decide"
    percent_set = RequirementSet(1, 1, 365, 1, "", (Condition(competency.PERCENT, AT_LEAST, 80),))
    assert not percent_set.qualifies(scored), "a percent of nothing met is not met"
    assert not RequirementSet(1, 1, 365, 1, "", ()).qualifies(scored), "no condition: it needs rated indicators"


@pytest.mark.django_db(transaction=True)
def test_a_coded_session_without_met_points_counts_end_to_end(lead, coach, learner, course_key):
    version = instruments.load(without_met_points(SAMPLE.read_text(encoding="utf-8")))[0]
    api.save_policy(lead, course_key, requirement_sets=[{
        "instrument_version": version.pk, "min_observations": 1, "window_months": 12,
        "conditions": [{"measure": "summary", "op": ">=", "value": 3.5, "key": "technical-global"}]}])
    assign_coach(lead, course_key, coach, learner)
    ratings = {indicator.key: {"level": "4" if indicator.kind == "scale" else "3"}
               for indicator in version.indicators.all()}
    observation = api.save_observation(coach, learner, course_key, {
        "practice_date": competency.date.today().isoformat(), "setting": "home_visit",
        "instrument_version": version.pk, "ratings": ratings}, submit=True).observation
    stored = Observation.objects.get(pk=observation.pk)
    assert (stored.applicable_count, stored.percent) == (0, None)
    status = api.learner_status(coach, learner, course_key)
    assert status.qualifying_count == 1, api.reason_sentences(status.reasons)
    assert not any("not applicable" in text for text in api.reason_sentences(status.reasons))
