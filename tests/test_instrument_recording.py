"""
Recording every indicator kind end to end: instrument file -> import -> observation through the
api (and the page form, and REST) -> summary scores stored on the observation -> loaded into the
rules' records -> shown in pages and REST, in the user's language with English fallback.
"""
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from miiwrap_fidelity import api
from miiwrap_fidelity.records import evaluation
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CompetencyPolicy, Observation
from miiwrap_fidelity.rules import rating_scales as rating_values
from miiwrap_fidelity.rules import rubric
from miiwrap_fidelity.rules.errors import ValidationError

from conftest import COURSE, assign_coach, one_set
from observation_oracle import observations_for

pytestmark = pytest.mark.django_db
BASE = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
MI, TEAM = api.SAMPLE_INSTRUMENTS[1], api.SAMPLE_INSTRUMENTS[2]
GLOBALS = ("evoking-change", "softening-sustain", "partnership", "empathy")
COUNTS = ("giving-information", "persuade", "persuade-with-permission", "question", "simple-reflection",
          "complex-reflection", "affirm", "seeking-collaboration", "emphasizing-autonomy", "confront")


def load(path):
    with open(path, encoding="utf-8") as handle:
        return instruments.load(handle.read())[0]


@pytest.fixture
def mi_version(db):
    return load(MI)


@pytest.fixture
def mi_course(lead, coach, learner, course_key, mi_version):
    api.save_policy(lead, course_key, requirement_sets=one_set(mi_version, min_observations=1, min_percent=75),
                    validity_months=24)
    assign_coach(lead, course_key, coach, learner)
    return course_key


def mi_ratings(globals_=(4, 3, 5, 4), **counts):
    """Ratings of the MI sample: the four globals in order, then any counts (others 0)."""
    ratings = {key: {"level": str(value)} for key, value in zip(GLOBALS, globals_)}
    for key in COUNTS:
        ratings[key] = {"level": counts.get(key.replace("-", "_"), 0)}
    return ratings


def session(**extra):
    return {"practice_date": (timezone.now().date() - timedelta(days=2)).isoformat(), "setting": "home_visit",
            "overall_note": "Coded a recorded session.", **extra}


EXAMPLE_COUNTS = dict(question=5, simple_reflection=4, complex_reflection=6, affirm=2, seeking_collaboration=1,
                      emphasizing_autonomy=1, confront=1, giving_information=3)
EXAMPLE_SCORES = {"technical-global": 3.5, "relational-global": 4.5, "percent-complex-reflections": 60.0,
                  "reflection-question-ratio": 2.0, "mi-adherent": 4.0, "mi-non-adherent": 1.0}


def test_mi_session_end_to_end(mi_course, coach, learner, client):
    result = api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings(**EXAMPLE_COUNTS)),
                                  submit=True)
    row = Observation.objects.get(pk=result.observation.id)
    # % met reads the globals only (4, 5, 4 of 4, 3, 5, 4 are met points); counts are never met / not met.
    assert (row.met_count, row.applicable_count, row.critical_missed) == (3, 4, [])
    assert row.summary_scores == EXAMPLE_SCORES
    assert row.ratings.get(indicator__key="question").level == "5"

    # Records carry summary scores only when a requirement set has a summary-score condition (ADR 0013).
    policy = CompetencyPolicy.objects.get(course_key=mi_course)
    record = evaluation.load_records(evaluation.CourseContext(policy, mi_course), [learner.pk])[learner.pk]
    assert record.observations[0].summary_scores == ()
    policy.requirement_sets[0]["conditions"].append(
        {"measure": "summary", "op": ">=", "value": 3.5, "key": "technical-global"})
    context = evaluation.CourseContext(policy, mi_course)
    record = evaluation.load_records(context, [learner.pk])[learner.pk].observations[0]
    assert record.summary_scores == tuple(sorted(EXAMPLE_SCORES.items()))
    assert record.setting == "home_visit" and record.percent == 75.0

    shown = {s.key: s for s in result.observation.summary_scores}
    assert [s.key for s in result.observation.summary_scores] == list(EXAMPLE_SCORES)
    assert (shown["technical-global"].level, shown["technical-global"].level_label) == ("good", "Good")
    assert (shown["mi-non-adherent"].level, shown["mi-adherent"].level) == ("good", "fair")

    client.force_login(coach)
    listed = client.get(f"{BASE}/observations/", {"learner": learner.pk}).json()["results"][0]
    assert {s["key"]: s["value"] for s in listed["summary_scores"]} == EXAMPLE_SCORES
    assert listed["summary_scores"][2] == {"key": "percent-complex-reflections", "label": "% complex reflections",
                                           "value": 60.0, "level": "good", "level_label": "Good"}
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, learner.pk])).content.decode()
    assert "Summary scores" in page and "Reflection-to-question ratio" in page and "<td>60</td>" in page
    assert page.count("<caption>Summary scores</caption>") == 1, "once, in the history"
    assert 'type="number" id="rating-question" name="rating-question"' in page and 'max="500"' in page
    assert 'name="rating-empathy" value="5"' in page, "a scale's points are radio buttons"


def test_drafts_store_no_summary_scores_until_submitted(mi_course, coach, learner):
    draft = api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings(**EXAMPLE_COUNTS))).observation
    assert Observation.objects.get(pk=draft.id).summary_scores == {} and draft.summary_scores == ()


def test_undefined_summaries_are_left_out(mi_course, coach, learner):
    # No reflections and no questions: % complex reflections and the ratio divide by zero.
    result = api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings()), submit=True)
    scores = Observation.objects.get(pk=result.observation.id).summary_scores
    assert "percent-complex-reflections" not in scores and "reflection-question-ratio" not in scores
    assert scores["mi-adherent"] == 0 and scores["mi-non-adherent"] == 0


@pytest.mark.parametrize("key, value, message", [
    ("empathy", "6", "Empathy: choose a whole point from 1 to 5."),
    ("empathy", "0", "Empathy: choose a whole point from 1 to 5."),
    ("empathy", "4.5", "Empathy: choose a whole point from 1 to 5."),
    ("empathy", True, "Empathy: choose a whole point from 1 to 5."),
    ("question", "-1", "Questions: enter a whole number from 0 to 500."),
    ("question", "501", "Questions: enter a whole number from 0 to 500."),
    ("question", "2.5", "Questions: enter a whole number from 0 to 500."),
    ("question", "many", "Questions: enter a whole number from 0 to 500."),
    ("question", "٣", "Questions: enter a whole number from 0 to 500."),
])
def test_invalid_values_are_400s_naming_the_indicator(mi_course, coach, learner, client, key, value, message):
    ratings = mi_ratings(**EXAMPLE_COUNTS)
    ratings[key] = {"level": value}
    with pytest.raises(ValidationError) as caught:
        api.save_observation(coach, learner, mi_course, session(ratings=ratings), submit=True)
    assert caught.value.message_dict == {f"ratings.{key}.level": [message]}
    client.force_login(coach)
    response = client.post(f"{BASE}/observations/", json.dumps({"learner": learner.pk, **session(
        ratings=ratings), "submit": True}), content_type="application/json")
    body = json.dumps(response.json(), ensure_ascii=False)
    assert response.status_code == 400 and key in body
    if isinstance(value, str):  # the REST input layer refuses a boolean before the api sees it
        assert message in body
    assert Observation.objects.count() == 0


def test_rest_accepts_numbers_and_submission_needs_every_kind_rated(mi_course, coach, learner, client):
    client.force_login(coach)
    ratings = mi_ratings(**EXAMPLE_COUNTS)
    del ratings["confront"]
    response = client.post(f"{BASE}/observations/", json.dumps({"learner": learner.pk, **session(
        ratings=ratings), "submit": True}), content_type="application/json")
    assert response.status_code == 400 and "ratings.confront.level" in response.json()
    ratings["confront"] = {"level": 1}
    response = client.post(f"{BASE}/observations/", json.dumps({"learner": learner.pk, **session(
        ratings=ratings), "submit": True}), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["ratings"]["confront"]["level"] == "1"
    assert {s["key"]: s["value"] for s in response.json()["summary_scores"]} == EXAMPLE_SCORES


def test_the_page_form_records_counts_and_scales(mi_course, coach, learner, client, mi_version):
    client.force_login(coach)
    form = {"practice_date": "2026-01-05", "setting": "supervision", "overall_note": "", "action": "submit"}
    for key, value in mi_ratings(**EXAMPLE_COUNTS).items():
        form[f"rating-{key}"] = str(value["level"])
    url = reverse("miiwrap_fidelity:record_observation", args=[COURSE, learner.pk])
    refused = client.post(url, {**form, "rating-question": "-3"})
    assert refused.status_code == 400
    page = re.sub(r"<[^>]+>", "", refused.content.decode())  # as read: the indicator named once
    assert "Questions: enter a whole number from 0 to 500." in page and "Questions: Questions:" not in page
    response = client.post(url, form)
    assert response.status_code == 302
    assert Observation.objects.get().summary_scores == EXAMPLE_SCORES


def test_the_rubric_shows_the_users_language_with_english_fallback(mi_course, coach, learner, client, mi_version):
    with translation.override("es"):
        indicators = {i.key: i for i in api.policy_indicators(mi_course)}
    assert indicators["empathy"].label == "Empatía" and indicators["empathy"].domain == "Valoraciones globales"
    assert indicators["empathy"].levels[0]["anchor"].startswith("No muestra interés")
    assert indicators["empathy"].levels[0]["label"] == "1" and indicators["empathy"].levels[3]["met"] is True
    for language in ("es-419", "es-ES"):
        with translation.override(language):
            assert api.policy_indicators(mi_course)[3].label == "Empatía", language
    with translation.override("fr"):
        assert api.policy_indicators(mi_course)[3].label == "Empathy"
    assert api.policy_indicators(mi_course)[3].label == "Empathy"

    api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings(**EXAMPLE_COUNTS)), submit=True)
    client.force_login(coach)
    page = client.get(reverse("miiwrap_fidelity:learner_detail", args=[COURSE, learner.pk]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Valoraciones globales: </span>Empatía" in page and "% de reflejos complejos" in page and "Bueno" in page
    detail = client.get(f"/api/miiwrap-fidelity/v1/instruments/{mi_version.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert detail["title"].startswith("Codificación de la entrevista motivacional")
    assert detail["indicators"][3]["label"] == "Empatía" and detail["indicators"][3]["kind"] == "scale"
    assert (detail["indicators"][3]["min"], detail["indicators"][3]["max"]) == (1, 5)
    assert detail["indicators"][4]["max"] == 500 and detail["indicators"][4]["kind"] == "count"
    assert detail["summaries"][5]["label"] == "Total de conductas no coherentes con la EM"
    assert detail["summaries"][5]["better"] == "lower"
    listed = client.get(f"{BASE}/observations/", {"learner": learner.pk}, HTTP_ACCEPT_LANGUAGE="es").json()
    assert listed["results"][0]["summary_scores"][0]["label"] == "Media global técnica"


def test_history_with_summary_scores_reads_the_definitions_once(mi_course, coach, learner, client):
    for day in range(3):  # three sessions (the same one sent again would be answered with the first)
        api.save_observation(coach, learner, mi_course, {**session(ratings=mi_ratings(**EXAMPLE_COUNTS)),
                                                         "overall_note": f"Session {day}."}, submit=True)
    client.force_login(coach)
    with CaptureQueriesContext(connection) as captured:
        listed = client.get(f"{BASE}/observations/", {"learner": learner.pk}).json()["results"]
    summary_reads = [q for q in captured.captured_queries if '"summaries"' in q["sql"] or "`summaries`" in q["sql"]]
    assert len(listed) == 3 and all(len(o["summary_scores"]) == 6 for o in listed)
    assert len(summary_reads) == 1, "one read of the version's summaries per request, not one per observation"


def test_levels_only_history_reads_no_summaries(assigned, coach, observe, django_assert_num_queries):
    observe(coach, assigned)
    with CaptureQueriesContext(connection) as captured:
        observations = observations_for(coach, assigned, COURSE)
    assert observations[0].summary_scores == ()
    assert not [q for q in captured.captured_queries if "summaries" in q["sql"]]


# --- every threshold of the shipped samples: exactly at, and just below -------------------------------

def _scores_for(version, values):
    """What the instrument's summaries compute from numeric values keyed by indicator (via the rubric)."""
    indicators = {i.key: i for i in version.indicators.all()}
    clean = {key: rubric.CleanRating(indicators[key], str(value), "", "") for key, value in values.items()}
    return rubric.summary_scores(version.summaries, clean)


#: For each (summary, level): numeric inputs that reach the threshold exactly, and the nearest
#: reachable inputs on the wrong side of it.
BOUNDARIES = [
    ("mi", "technical-global", "fair", {"evoking-change": 3, "softening-sustain": 3},
     {"evoking-change": 3, "softening-sustain": 2}),
    ("mi", "technical-global", "good", {"evoking-change": 4, "softening-sustain": 3},
     {"evoking-change": 3, "softening-sustain": 3}),
    ("mi", "relational-global", "fair", {"partnership": 4, "empathy": 3}, {"partnership": 3, "empathy": 3}),
    ("mi", "relational-global", "good", {"partnership": 4, "empathy": 4}, {"partnership": 4, "empathy": 3}),
    ("mi", "percent-complex-reflections", "fair", {"complex-reflection": 7, "simple-reflection": 13},
     {"complex-reflection": 34, "simple-reflection": 66}),
    ("mi", "percent-complex-reflections", "good", {"complex-reflection": 5, "simple-reflection": 5},
     {"complex-reflection": 49, "simple-reflection": 51}),
    ("mi", "reflection-question-ratio", "fair", {"simple-reflection": 3, "complex-reflection": 4, "question": 7},
     {"simple-reflection": 3, "complex-reflection": 3, "question": 7}),
    ("mi", "reflection-question-ratio", "good", {"simple-reflection": 1, "complex-reflection": 2, "question": 2},
     {"simple-reflection": 1, "complex-reflection": 13, "question": 10}),
    ("mi", "mi-adherent", "fair", {"affirm": 1, "seeking-collaboration": 1, "emphasizing-autonomy": 1},
     {"affirm": 2, "seeking-collaboration": 0, "emphasizing-autonomy": 0}),
    ("mi", "mi-adherent", "good", {"affirm": 2, "seeking-collaboration": 2, "emphasizing-autonomy": 2},
     {"affirm": 5, "seeking-collaboration": 0, "emphasizing-autonomy": 0}),
    ("mi", "mi-non-adherent", "fair", {"confront": 2, "persuade": 1}, {"confront": 2, "persuade": 2}),
    ("mi", "mi-non-adherent", "good", {"confront": 0, "persuade": 1}, {"confront": 1, "persuade": 1}),
    ("team", "planning-mean", "fair", {"strengths-in-plan": 3, "shared-facilitation": 2},
     {"strengths-in-plan": 2, "shared-facilitation": 2}),
    ("team", "planning-mean", "good", {"strengths-in-plan": 4, "shared-facilitation": 3},
     {"strengths-in-plan": 3, "shared-facilitation": 3}),
]


@pytest.mark.parametrize("instrument, key, level, at, below", BOUNDARIES,
                         ids=[f"{b[1]}-{b[2]}" for b in BOUNDARIES])
def test_every_threshold_exactly_at_and_just_below(instrument, key, level, at, below):
    version = load(MI if instrument == "mi" else TEAM)
    summary = next(s for s in version.summaries if s["key"] == key)
    threshold = next(l["threshold"] for l in summary["levels"] if l["key"] == level)
    rank = [l["key"] for l in summary["levels"]].index(level)
    at_score, below_score = _scores_for(version, at)[key], _scores_for(version, below)[key]
    assert at_score == threshold, "the inputs reach the threshold exactly"
    assert (below_score > threshold) if summary["better"] == "lower" else (below_score < threshold)
    reached = rating_values.proficiency(summary, at_score)
    assert reached is not None and reached["key"] == level
    missed = rating_values.proficiency(summary, below_score)
    assert (missed is None if rank == 0 else missed["key"] == summary["levels"][rank - 1]["key"])


def test_a_threshold_exactly_at_through_the_api(mi_course, coach, learner):
    # 7 complex of 20 reflections is exactly 35 % (fair); 100 * 7 / 20 is computed without float noise.
    counts = dict(EXAMPLE_COUNTS, complex_reflection=7, simple_reflection=13)
    observation = api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings(**counts)),
                                       submit=True).observation
    score = next(s for s in observation.summary_scores if s.key == "percent-complex-reflections")
    assert (score.value, score.level) == (35.0, "fair")


def test_the_coach_block_records_counts_and_scales(client, workbench, mi_course, coach, learner):
    from xblock_support import SIGNOFF, call, view  # pylint: disable=import-outside-toplevel

    client.force_login(coach)
    page = view(client, SIGNOFF)
    assert 'data-kind="count"' in page and 'name="rating-confront"' in page and 'data-kind="scale"' in page
    data = {"learner_id": learner.pk, "practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "ratings": {**mi_ratings(**EXAMPLE_COUNTS), "confront": {"level": "-1"}}, "submit": True}
    status, body = call(client, SIGNOFF, "record_observation", data)
    assert status == 400 and body["errors"]["ratings.confront.level"] == [
        "Confront: enter a whole number from 0 to 500."]
    data["ratings"]["confront"] = {"level": "1"}
    status, body = call(client, SIGNOFF, "record_observation", data)
    assert status == 200, body
    assert Observation.objects.get().summary_scores == EXAMPLE_SCORES


def test_the_practice_rubric_form_in_spanish(client, assigned, coach, observe):
    observe(coach, assigned)
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:learner_detail", args=[COURSE, assigned.pk])
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Vinculación: </span>Vinculación basada en fortalezas" in spanish
    assert "Hace surgir y refleja al menos dos fortalezas específicas" in spanish
    assert "<td>Presente</td>" in spanish, "the history shows level labels in the user's language"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Engagement: </span>Strengths-based engagement" in english and "Vinculación" not in english


def test_the_learners_trend_shows_points_and_tallies(mi_course, coach, learner, client):
    api.save_observation(coach, learner, mi_course, session(ratings=mi_ratings(**EXAMPLE_COUNTS)), submit=True)
    client.force_login(learner)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert '<td class="mwf-outcome-met"><span aria-hidden="true">✓</span> 5</td>' in page, "partnership: 5, met"
    assert '<td class="mwf-outcome-na"><span aria-hidden="true">–</span> 6</td>' in page, "complex reflections: 6"
    assert "Summary scores" in page and "Relational global mean" in page


def test_value_errors_name_the_indicator_in_the_users_language(mi_course, coach, learner):
    ratings = {**mi_ratings(**EXAMPLE_COUNTS), "empathy": {"level": "7"}, "question": {"level": "-2"}}
    with translation.override("es"), pytest.raises(ValidationError) as caught:
        api.save_observation(coach, learner, mi_course, session(ratings=ratings), submit=True)
    assert caught.value.message_dict == {
        "ratings.empathy.level": ["Empatía: elija un punto entero de 1 a 5."],
        "ratings.question.level": ["Preguntas: escriba un número entero de 0 a 500."]}
