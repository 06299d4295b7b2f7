"""
Property-based fuzzing (hypothesis) of the block handlers and page forms: odd ids (unicode digits,
huge numbers), unicode and NUL text, wrong types, deep nesting and large sizes. Every answer is a
success or a 4xx with a message, never a 5xx, and a refused request leaves every table as it was.
"""
import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import (
    AuditEvent,
    CoachAssignment,
    CompetencyPolicy,
    DriftAlert,
    IndicatorRating,
    LearnerStatus,
    Observation,
    Reflection,
    ReflectionComment,
    SignOff,
)
from miiwrap_fidelity.rules import validation

from conftest import COURSE, ratings_for
from xblock_support import REFLECTION, SIGNOFF, handler_url

pytestmark = pytest.mark.django_db
TABLES = [AuditEvent, CoachAssignment, CompetencyPolicy, DriftAlert, IndicatorRating, LearnerStatus, Observation,
          Reflection, ReflectionComment, SignOff]
FUZZ = settings(max_examples=30, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

# Text a browser or script can send (no lone surrogates: they cannot be encoded), with the odd ones
# made likely: unicode digits, NUL, formula starts, very long strings.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
    st.sampled_from(["", "²", "١٢", "0", "-1", "1e3", "9" * 30, "\x00", "a\x00b", "=1+1", "home_visit", "approve",
                     "met", "coach", "learner", " "]),
    st.integers(min_value=1, max_value=8).map(lambda n: "x" * (5000 * n)),
)
IDS = st.one_of(st.integers(min_value=-2, max_value=12), st.integers(min_value=2 ** 62), TEXT,
                st.sampled_from([10 ** 30, True, None, 1.5]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12)


def counts():
    return [model.objects.count() for model in TABLES]


# --- block handlers ---------------------------------------------------------------------------------

HANDLER_FIELDS = {
    (SIGNOFF, "find_learners"): ["search"],
    (SIGNOFF, "learner_state"): ["learner_id"],
    (SIGNOFF, "record_observation"): ["learner_id", "observation_id", "revision", "practice_date", "setting",
                                      "overall_note", "ratings", "submit", "co_observation_of", "is_reference"],
    (SIGNOFF, "decide"): ["learner_id", "action", "level", "reason"],
    (SIGNOFF, "comment_reflection"): ["learner_id", "reflection_id", "text"],
    (REFLECTION, "save_draft"): ["answers", "self_ratings"],
    (REFLECTION, "submit_reflection"): ["answers", "self_ratings"],
    (REFLECTION, "studio_submit"): ["display_name", "min_length", "self_rating", "prompts"],
}


def handler_body(fields, valid):
    """A JSON body: each known field missing, valid, an odd id, or any JSON value; now and then not an object."""
    value = st.one_of(IDS, JSON_VALUES, st.sampled_from(list(valid.values()) or [None]))
    body = st.fixed_dictionaries({}, optional={name: st.one_of(st.just(valid.get(name)), value) for name in fields})
    odd = [b"", b"null", b"[]", b"\"x\"", b"{", b"\xff\xfe", b"[" * 60_000 + b"]" * 60_000,
           b"{\"a\": " + b"[" * 30 + b"]" * 30 + b"}", b"{\"x\": \"" + b"y" * validation.MAX_JSON_BYTES + b"\"}"]
    raw = st.one_of(st.binary(max_size=64), st.sampled_from(odd))
    return st.one_of(body.map(lambda data: json.dumps(data).encode()), raw)


@pytest.fixture
def seeded(ready_learner, coach, coach2, lead, course_key, indicators):
    draft = api.save_observation(coach2, ready_learner, course_key, {
        "practice_date": "2026-01-05", "setting": "home_visit", "ratings": ratings_for(indicators)}).observation
    return {"learner": ready_learner, "draft": draft, "indicators": indicators}


@pytest.mark.parametrize("scenario, handler", list(HANDLER_FIELDS))
def test_block_handlers_answer_4xx_with_a_message_or_succeed(client, workbench, seeded, coach, scenario, handler):
    valid = {"learner_id": seeded["learner"].pk, "practice_date": "2026-01-06", "setting": "home_visit",
             "ratings": ratings_for(seeded["indicators"]), "action": "approve", "text": "Good.",
             "display_name": "T", "min_length": 5, "self_rating": False,
             "prompts": [{"id": "p1", "text": "Why?", "indicators": []}], "answers": {"p1": "An answer."}}
    url = handler_url(scenario, handler)

    @FUZZ
    @given(user=st.sampled_from([coach, seeded["learner"]]),
           body=handler_body(HANDLER_FIELDS[(scenario, handler)], valid))
    def check(user, body):
        client.force_login(user)
        before = counts()
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in (200, 400, 403, 404, 409), (response.status_code, body[:200])
        if response.status_code != 200:
            payload = response.json()
            assert payload.get("errors") or payload.get("error"), payload
            assert counts() == before, "a refused request changed nothing"

    check()  # pylint: disable=no-value-for-parameter


def test_a_draft_of_another_coach_is_never_changed_by_fuzzed_block_calls(client, workbench, seeded, coach):
    draft = seeded["draft"]
    client.force_login(coach)

    @FUZZ
    @given(extra=st.dictionaries(st.sampled_from(["revision", "submit", "overall_note", "setting"]), JSON_VALUES))
    def check(extra):
        body = {"learner_id": seeded["learner"].pk, "observation_id": draft.pk, "revision": draft.revision,
                "practice_date": "2026-01-06", "setting": "home_visit", **extra}
        response = client.post(handler_url(SIGNOFF, "record_observation"), json.dumps(body),
                               content_type="application/json")
        assert response.status_code in (400, 403, 409)
        saved = Observation.objects.get(pk=draft.pk)
        assert (saved.observer_id, saved.revision, saved.status) == (draft.observer_id, draft.revision, "draft")

    check()  # pylint: disable=no-value-for-parameter


# --- page forms -------------------------------------------------------------------------------------

def page(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


FORMS = {
    "record_observation": ["practice_date", "setting", "overall_note", "observation_id", "revision", "action",
                           "co_observation_of", "is_reference", "rating-mi-reflections", "strength-mi-reflections"],
    "decide_competency": ["action", "level", "reason"],
    "comment_reflection": ["text"],
    "assignments": ["action", "coach", "learner", "assignment"],
    "policy": ["sets", "set-0-instrument_version", "set-0-min_observations", "set-0-window", "set-0-window_unit",
               "set-0-conditions", "set-0-cond-0-measure", "set-0-cond-0-value", "set-0-essentials", "mode",
               "enabled", "action", "confirm_moves_back", "prerequisite_course"],
    "acknowledge_alert": ["plan_note", "next"],
}


def form_data(fields):
    """Form fields as browsers post them: absent, one text, or repeated."""
    return st.fixed_dictionaries({}, optional={name: st.one_of(TEXT, st.lists(TEXT, max_size=3))
                                               for name in fields})


@pytest.mark.parametrize("form", list(FORMS))
def test_page_forms_answer_4xx_with_a_message_or_succeed(client, seeded, coach, lead, course_key, form):
    learner = seeded["learner"]
    alert = DriftAlert.objects.create(course_key=course_key, learner=learner, kind=DriftAlert.BELOW_BAND,
                                      details={"rolling": 60, "adequate": 70})
    reflection = Reflection.objects.create(learner=learner, course_key=course_key, block_id="b", title="t",
                                           prompts=[], answers={}, status=Reflection.SUBMITTED)
    args = {"record_observation": [learner.pk], "decide_competency": [learner.pk],
            "comment_reflection": [learner.pk, reflection.pk], "acknowledge_alert": [alert.pk]}.get(form, [])
    client.force_login(lead if form in ("assignments", "policy") else coach)
    url = page(form, *args)

    @FUZZ
    @given(data=form_data(FORMS[form]))
    def check(data):
        before = counts()
        response = client.post(url, data)
        assert response.status_code in (200, 302, 400, 403, 404, 409), response.status_code
        if 400 <= response.status_code < 500:
            assert response.content.strip(), "a refusal says why"
            assert counts() == before, "a refused form changed nothing"
        if response.status_code == 302:
            assert response["Location"].startswith("/"), "never off-site"

    check()  # pylint: disable=no-value-for-parameter


@pytest.mark.parametrize("name, query", [
    ("workspace", ["coach", "state", "search", "ordering", "cursor", "coach_search"]),
    ("learner_detail", ["draft", "corate", "reference", "history"])])
def test_page_queries_never_fail_and_write_nothing(client, seeded, lead, name, query):
    client.force_login(lead)
    url = page(name, seeded["learner"].pk) if name == "learner_detail" else page(name)

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(query), TEXT.filter(lambda text: "\x00" not in text), max_size=3))
    def check(params):
        before = counts()
        response = client.get(url, params)
        assert response.status_code in (200, 400, 403, 404)
        assert counts() == before, "a read writes nothing"

    check()  # pylint: disable=no-value-for-parameter
