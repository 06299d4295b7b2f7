"""
Issue 25: with a MITI-style requirement set the reason listed all four summary conditions rather
than the one that failed, and a session with no questions (the reflection-to-question ratio
undefined) did not count with nothing saying why. Reproduced first, in the rules and through the
real certificate gate.
"""
from datetime import date, timedelta

import pytest
from django.utils import translation
from test_requirement_sets import submit

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import InstrumentVersion, Observation
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.rules.competency import AT_LEAST, SUMMARY, Condition, ObservationRecord, RequirementSet, Rules
from miiwrap_fidelity.wording.reason_sentences import sentence

from conftest import gate_refusal

TODAY = date(2026, 6, 1)
MITI = RequirementSet(1, 2, 365, 1, "", (
    Condition(SUMMARY, AT_LEAST, 3.5, "technical"), Condition(SUMMARY, AT_LEAST, 3.5, "relational"),
    Condition(SUMMARY, AT_LEAST, 40, "complex_reflections"), Condition(SUMMARY, AT_LEAST, 1, "rq")))
LABELS = {"technical": "Technical global", "relational": "Relational global",
          "complex_reflections": "% complex reflections", "rq": "Reflection-to-question ratio"}


def session(pk, days_ago, **scores):
    return ObservationRecord(pk, 1, 1, TODAY - timedelta(days=days_ago), 5, 5, (),
                             tuple(sorted(scores.items())), "home_visit")


def short_reason(observations):
    _qualifying, reasons, _latest, _counted = competency.evaluate_evidence(
        Rules(requirement_sets=(MITI,)), observations, TODAY)
    reason = next(r for r in reasons if r.code == "observations_short")
    def named(conditions):  # as the evaluation labels them (records/evaluation.py)
        return [{**c, "label": LABELS[c["key"]]} if c.get("key") else c for c in conditions]

    params = {**reason.params, "conditions": named(reason.params["conditions"])}
    if "latest_short" in params:
        params["latest_short"] = {**params["latest_short"], "failed": named(params["latest_short"]["failed"])}
    return competency.Reason(reason.code, params)


GOOD = {"technical": 4.0, "relational": 4.5, "complex_reflections": 50.0, "rq": 1.5}


def test_the_reason_names_only_the_condition_the_latest_session_failed():
    reason = short_reason([session(1, 20, **GOOD), session(2, 5, **{**GOOD, "relational": 3.0})])
    text = sentence(reason)
    assert "1 of 2 qualifying observations" in text
    assert "The latest, on 2026-05-27, fell short: Relational global 3, needs at least 3.5." in text, text
    assert "Technical global" not in text and "complex reflections" not in text and "question ratio" not in text
    with translation.override("es"):
        spanish = sentence(reason)
    assert "Relational global 3, se necesita al menos 3,5" in spanish, spanish


def test_an_undefined_summary_score_is_explained():
    no_questions = {key: value for key, value in GOOD.items() if key != "rq"}  # R:Q undefined: 0 questions
    text = sentence(short_reason([session(1, 3, **no_questions)]))
    assert ("fell short: Reflection-to-question ratio could not be computed for it (a count it divides by "
            "was 0, or a rating it needs is missing).") in text, text


def test_a_set_with_no_session_yet_says_what_each_needs():
    text = sentence(short_reason([]))
    assert "each with Technical global of at least 3.5; Relational global of at least 3.5" in text
    assert "fell short" not in text


@pytest.mark.django_db(transaction=True)
def test_the_gate_names_the_failed_summary_score_by_its_label(assigned, lead, coach, course_key, version,
                                                              indicators):
    InstrumentVersion.objects.filter(pk=version.pk).update(summaries=[
        {"key": key, "label": label, "op": "sum", "of": [], "better": "higher", "levels": []}
        for key, label in LABELS.items()])
    api.save_policy(lead, course_key, requirement_sets=[{
        "instrument_version": version.pk, "min_observations": 1, "window_months": 12,
        "conditions": [c.as_dict() for c in MITI.conditions]}])
    observation = submit(coach, assigned, course_key, indicators, 3)
    Observation.objects.filter(pk=observation.pk).update(summary_scores={**GOOD, "relational": 3.0})
    api.reevaluate(assigned, course_key)
    refusal = gate_refusal(assigned, course_key)
    assert "fell short: Relational global 3, needs at least 3.5." in refusal, refusal
    assert "Technical global" not in refusal
