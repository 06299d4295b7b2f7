"""
Our tracking events through event-routing-backends' real xAPI processor and our transformers.

Runs in the `xapi` tox env (event-routing-backends installed); skipped elsewhere. The events come
from the real flow (observation, drift alert, sign-off, certification, revocation, expiry) as the
sandbox platform records them, and every statement is validated with ``tincan``, the library ERB
builds statements with.
"""
import json
import pathlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

erb = pytest.importorskip("event_routing_backends")

# pylint: disable=wrong-import-position,wrong-import-order
from event_routing_backends.processors.xapi.registry import XApiTransformersRegistry  # noqa: E402
from event_routing_backends.processors.xapi.transformer_processor import XApiProcessor  # noqa: E402
from tincan import Statement  # noqa: E402

from miiwrap_fidelity import (
    api,  # noqa: E402
    tasks,  # noqa: E402
)
from miiwrap_fidelity.records.models import Certification  # noqa: E402
from miiwrap_fidelity.seams import xapi  # noqa: E402
from miiwrap_fidelity.settings.common import TRACKING_EVENTS, allow_xapi_events  # noqa: E402
from sandbox.models import TrackingEvent  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

LMS = "https://lms.example.org"
VERBS = {
    "observation.submitted": "http://adlnet.gov/expapi/verbs/scored",
    "competency.approved": "http://adlnet.gov/expapi/verbs/passed",
    "competency.revoked": xapi.VOCABULARY + "/verbs/revoked",
    "certification.issued": "https://w3id.org/xapi/adl/verbs/satisfied",
    "certification.expired": xapi.VOCABULARY + "/verbs/expired",
    "drift_alert.created": xapi.VOCABULARY + "/verbs/drifted",
    "competency.changed": "http://adlnet.gov/expapi/verbs/progressed",
    "program.completed": "http://adlnet.gov/expapi/verbs/completed",
    "program.completion_lapsed": xapi.VOCABULARY + "/verbs/lapsed",
    "coaching_plan.saved": xapi.VOCABULARY + "/verbs/planned",
    "coaching_plan.followed_up": xapi.VOCABULARY + "/verbs/followed-up",
}
FREE_TEXT = ("Observed a home visit.", "Private approval reasoning", "Private revocation reason",
             "Ask the family first.", "My own note on the plan.")


@pytest.fixture(autouse=True)
def xapi_settings(settings, monkeypatch):
    settings.LMS_ROOT_URL = LMS
    settings.XAPI_EVENTS_ENABLED = True
    settings.XAPI_AGENT_IFI_TYPE = "external_id"

    def anonymous(user_id, external_type):  # edx-platform's ExternalId, which only the LMS has
        assert external_type == "XAPI"
        return f"anon-{user_id}"

    monkeypatch.setattr("event_routing_backends.processors.xapi.transformer.get_anonymous_user_id", anonymous)
    monkeypatch.setattr(xapi, "get_anonymous_user_id", anonymous)


def tracked():
    """The recorded events as eventtracking hands them to ERB's processors."""
    return [{"name": event.name, "timestamp": event.created_at.isoformat(), "data": event.data,
             "context": {}} for event in TrackingEvent.objects.order_by("id")]


def statements(events):
    out = XApiProcessor()(events)
    assert len(out) == len(events), "an event was dropped (no transformer, or it failed: see the log)"
    return out


def test_every_event_we_send_has_a_registered_transformer():
    package = pathlib.Path(xapi.__file__).parent.parent
    source = "".join((package / module).read_text(encoding="utf-8")
                     for module in ("seams/tracking_events.py", "hooks/receivers.py"))
    sent = {xapi.PREFIX + name for name in re.findall(r'(?:emit|send|send_tracking_event)\("([a-z_.]+)"', source)}
    assert sent == set(TRACKING_EVENTS)
    for name in TRACKING_EVENTS:
        assert XApiTransformersRegistry.get_transformer({"name": name, "data": {}}) is not None
    assert set(VERBS) == set(xapi.TRANSFORMERS)


def check(events, learner, coach, course_key):
    """Every event becomes one valid statement about the learner in the course, without free text."""
    for event, statement in zip(events, statements(events)):
        name = event["name"].removeprefix(xapi.PREFIX)
        parsed = Statement.from_json(json.dumps(statement))  # tincan validates every part
        assert parsed.verb.id == VERBS[name]
        assert parsed.actor.account.name == f"anon-{learner.pk}"
        assert parsed.actor.account.home_page == LMS
        assert parsed.object.id.startswith(f"{LMS}/")
        assert parsed.context.context_activities.parent[0].id == f"{LMS}/course/{course_key}"
        for key in list(parsed.context.extensions or {}) + list((parsed.result and parsed.result.extensions) or {}):
            assert key.startswith(("http://", "https://")), key
        text = json.dumps(statement)
        assert not any(free in text for free in FREE_TEXT), name
        assert f'"{learner.username}"' not in text and f'"{coach.username}"' not in text  # ids only
    return {event["name"].removeprefix(xapi.PREFIX) for event in events}


def test_the_real_flow_becomes_valid_statements_without_free_text(ready_learner, coach, course_key, observe,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        observe(coach, ready_learner, days_ago=2, miss=("eng-voice-choice",))  # essential indicator missed: drift
        observe(coach, ready_learner, days_ago=1)
        api.sign_off(coach, ready_learner, course_key, reason="Private approval reasoning")
    with django_capture_on_commit_callbacks(execute=True):
        api.revoke(coach, ready_learner, course_key, "Private revocation reason")
    assert check(tracked(), ready_learner, coach, course_key) == {
        "observation.submitted", "drift_alert.created", "competency.approved", "certification.issued",
        "competency.revoked", "competency.changed"}


def test_expiry_becomes_a_valid_statement(ready_learner, coach, course_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    TrackingEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        Certification.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        tasks.expire_certifications.apply()
    assert "certification.expired" in check(tracked(), ready_learner, coach, course_key)


def test_an_observation_is_a_score_with_the_observer_as_instructor(ready_learner, coach, course_key, observe,
                                                                   django_capture_on_commit_callbacks):
    TrackingEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        observation = observe(coach, ready_learner, days_ago=1)
    event = next(e for e in tracked() if e["name"].endswith("observation.submitted"))
    statement = Statement.from_json(json.dumps(statements([event])[0]))
    assert statement.object.id == f"{LMS}/miiwrap-fidelity/observation/{observation.pk}"
    assert statement.object.definition.type == "http://adlnet.gov/expapi/activities/performance"
    assert statement.result.score.raw == observation.met_count
    assert statement.result.score.max == observation.applicable_count
    assert statement.result.score.scaled == pytest.approx(observation.percent / 100, abs=1e-4)
    assert statement.context.instructor.account.name == f"anon-{coach.pk}"


def test_approval_and_certification_name_the_level_and_the_competency(ready_learner, coach, course_key,
                                                                      django_capture_on_commit_callbacks):
    TrackingEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    by_name = {e["name"].removeprefix(xapi.PREFIX): e for e in tracked()}
    approved = Statement.from_json(json.dumps(statements([by_name["competency.approved"]])[0]))
    assert approved.object.id == f"{LMS}/miiwrap-fidelity/signoff/{course_key}/coach"
    assert approved.result.success is True
    issued = Statement.from_json(json.dumps(statements([by_name["certification.issued"]])[0]))
    assert issued.object.id == f"{LMS}/miiwrap-fidelity/competency/{course_key}"
    expires = issued.result.extensions[xapi.extension("expires-at")]
    assert expires == Certification.objects.get().expires_at.isoformat()


def test_our_events_pass_erbs_allow_lists_whichever_settings_run_first():
    from types import SimpleNamespace  # pylint: disable=import-outside-toplevel

    from event_routing_backends.settings.common import plugin_settings as erb_settings  # noqa: E402

    class Settings(SimpleNamespace):
        pass

    for order in ("ours_first", "erb_first"):
        settings = Settings(LMS_ROOT_URL=LMS, CALIPER_EVENTS_ENABLED=False, XAPI_EVENTS_ENABLED=True)
        steps = [allow_xapi_events, erb_settings] if order == "ours_first" else [erb_settings, allow_xapi_events]
        for step in steps:
            step(settings)
        router = settings.EVENT_TRACKING_BACKENDS["event_transformer"]["OPTIONS"]
        outer = router["processors"][0]["OPTIONS"]["whitelist"]
        inner = router["backends"]["xapi"]["OPTIONS"]["processors"][0]["OPTIONS"]["whitelist"]
        for name in TRACKING_EVENTS:
            assert name in outer and name in inner, (order, name)
        assert "edx.course.enrollment.activated" in inner  # ERB's own stay


def test_a_plan_and_its_follow_up_become_one_statement_each_without_their_steps(
        assigned, coach, course_key, observe, django_capture_on_commit_callbacks):
    session = observe(coach, assigned, days_ago=20, miss=("eng-voice-choice",))
    with django_capture_on_commit_callbacks(execute=True):
        plan = api.save_plan(coach, session.pk, [{"indicator": "eng-voice-choice", "step": "Ask the family first."}])
    with django_capture_on_commit_callbacks(execute=True):
        api.add_learner_note(assigned, plan.id, "My own note on the plan.")
    following = observe(coach, assigned, days_ago=5)
    with django_capture_on_commit_callbacks(execute=True):
        api.confirm_follow_up(coach, plan.id, "eng-voice-choice", "improved")
    with django_capture_on_commit_callbacks(execute=True):
        api.confirm_follow_up(coach, plan.id, "eng-voice-choice", "improved")  # the same again: no statement
    events = [e for e in tracked() if ".coaching_plan." in e["name"]]
    assert check(events, assigned, coach, course_key) == {"coaching_plan.saved", "coaching_plan.followed_up"}
    assert len(events) == 2, "one statement each"
    by_name = {e["name"].removeprefix(xapi.PREFIX): e for e in events}
    planned = Statement.from_json(json.dumps(statements([by_name["coaching_plan.saved"]])[0]))
    assert planned.object.id == f"{LMS}/miiwrap-fidelity/plan/{plan.id}"
    assert planned.context.instructor.account.name == f"anon-{coach.pk}"
    assert planned.context.extensions[xapi.extension("indicator-keys")] == ["eng-voice-choice"]
    followed = Statement.from_json(json.dumps(statements([by_name["coaching_plan.followed_up"]])[0]))
    assert followed.object.id == f"{LMS}/miiwrap-fidelity/indicator/{course_key}/eng-voice-choice"
    assert followed.result.extensions[xapi.extension("outcome")] == "improved"
    assert followed.result.extensions[xapi.extension("computed-outcome")] == "improved"
    assert followed.context.extensions[xapi.extension("observation-id")] == following.pk
