"""api: validation with field messages, nothing half-written, roles checked, idempotent sign-off."""
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import (
    AuditEvent,
    Certification,
    Indicator,
    IndicatorRating,
    LearnerStatus,
    Observation,
    SignOff,
)
from miiwrap_fidelity.rules import competency
from sandbox.models import CertificateRequest

from conftest import OTHER_COURSE, assign_coach, make_user, ratings_for
from observation_oracle import observations_for

pytestmark = pytest.mark.django_db


def payload(indicators, **overrides):
    data = {"practice_date": timezone.now().date().isoformat(), "setting": "home_visit",
            "overall_note": "Note.", "ratings": ratings_for(indicators)}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides, field", [
    ({"practice_date": "yesterday"}, "practice_date"),
    ({"practice_date": (timezone.now().date() + timedelta(days=2)).isoformat()}, "practice_date"),
    ({"setting": "kitchen"}, "setting"),
    ({"overall_note": "x" * 5000}, "overall_note"),
    ({"overall_note": 12}, "overall_note"),
    ({"ratings": "all met"}, "ratings"),
    ({"ratings": {"no-such-indicator": {"level": "met"}}}, "ratings.no-such-indicator"),
    ({"ratings": {"mi-reflections": {"level": "excellent"}}}, "ratings.mi-reflections.level"),
    ({"ratings": {"mi-reflections": "met"}}, "ratings.mi-reflections"),
    ({"ratings": {"mi-reflections": {"level": "met", "strength": "s" * 2001}}}, "ratings.mi-reflections.strength"),
])
def test_bad_observation_input_names_the_field_and_writes_nothing(assigned, coach, course_key, indicators,
                                                                  overrides, field):
    before = (Observation.objects.count(), IndicatorRating.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as caught:
        api.save_observation(coach, assigned, course_key, payload(indicators, **overrides), submit=True)
    assert field in caught.value.message_dict
    assert (Observation.objects.count(), IndicatorRating.objects.count(), AuditEvent.objects.count()) == before


def test_submission_needs_every_indicator_but_a_draft_does_not(assigned, coach, course_key, indicators):
    partial = payload(indicators, ratings={"mi-reflections": {"level": "met"}})
    with pytest.raises(ValidationError) as caught:
        api.save_observation(coach, assigned, course_key, partial, submit=True)
    assert "ratings.eng-strengths.level" in caught.value.message_dict
    draft = api.save_observation(coach, assigned, course_key, partial).observation
    assert draft.status == Observation.DRAFT and len(draft.ratings) == 1
    assert LearnerStatus.objects.get(learner=assigned).state == "not_started", "drafts do not count"


def test_submitted_observation_is_scored_and_frozen(assigned, coach, course_key, indicators):
    data = payload(indicators, ratings=ratings_for(indicators, miss=("mi-reflections",), not_applicable=("trans-readiness",)))
    observation = api.save_observation(coach, assigned, course_key, data, submit=True).observation
    assert (observation.met_count, observation.applicable_count) == (19, 20)
    assert observation.critical_missed == ("mi-reflections",)
    with pytest.raises(ValidationError) as caught:
        api.save_observation(coach, assigned, course_key, data, observation_id=observation.pk)
    assert "observation" in caught.value.message_dict


def test_concurrent_draft_edit_is_detected(assigned, coach, coach2, course_key, indicators):
    draft = api.save_observation(coach, assigned, course_key, payload(indicators)).observation
    opened_at = draft.revision
    api.save_observation(coach, assigned, course_key, {**payload(indicators), "revision": opened_at},
                         observation_id=draft.pk)
    with pytest.raises(ValidationError) as caught:
        api.save_observation(coach, assigned, course_key, {**payload(indicators), "revision": opened_at},
                             observation_id=draft.pk)
    assert "revision" in caught.value.message_dict


def test_privacy_warnings_on_identifying_text(assigned, coach, course_key, indicators):
    result = api.save_observation(coach, assigned, course_key,
                                  payload(indicators, overall_note="Met client Johnson, call 555-123-4567"))
    assert result.warnings == ["named_client", "phone"]


def test_roles_are_checked_for_every_write(assigned, coach, stranger, learner, course_key, indicators, lead):
    for actor in (stranger, learner):
        with pytest.raises(PermissionDenied):
            api.save_observation(actor, assigned, course_key, payload(indicators), submit=True)
        with pytest.raises(PermissionDenied):
            api.sign_off(actor, assigned, course_key)
        with pytest.raises(PermissionDenied):
            api.revoke(actor, assigned, course_key, "reason")
        with pytest.raises(PermissionDenied):
            assign_coach(actor, course_key, actor, make_user(f"x-{actor.username}"))
        with pytest.raises(PermissionDenied):
            api.save_policy(actor, course_key, mode="replace_grade")
    with pytest.raises(PermissionDenied):
        api.save_observation(coach, assigned, OTHER_COURSE, payload(indicators), submit=True)
    with pytest.raises(PermissionDenied):
        api.sign_off(coach, assigned, course_key, level="lead")
    with pytest.raises(PermissionDenied):
        observations_for(stranger, assigned, course_key)


def test_approval_refused_until_the_evidence_meets_the_policy(assigned, coach, course_key, observe):
    observe(coach, assigned, days_ago=3)
    with pytest.raises(ValidationError) as caught:
        api.sign_off(coach, assigned, course_key)
    assert "1 of 3 qualifying observations" in caught.value.message_dict["evidence"][0]
    assert SignOff.objects.count() == 0 and Certification.objects.count() == 0


def test_second_approval_on_same_evidence_changes_nothing(ready_learner, coach, course_key,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.sign_off(coach, ready_learner, course_key, reason="Consistent practice.")
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = api.sign_off(coach, ready_learner, course_key)
    assert callbacks == []
    assert again.id == first.id
    assert SignOff.objects.count() == 1 and Certification.objects.count() == 1
    assert AuditEvent.objects.count() == events
    assert CertificateRequest.objects.filter(outcome="generated").count() == 1


def test_two_level_signoff_needs_a_different_lead(ready_learner, coach, lead, course_key, policy,
                                                 django_capture_on_commit_callbacks):
    api.save_policy(lead, course_key, require_lead_signoff=True)
    api.reevaluate(ready_learner, course_key)
    with pytest.raises(ValidationError):
        api.sign_off(lead, ready_learner, course_key, level="lead")  # the coach approves first
    api.sign_off(coach, ready_learner, course_key)
    status = LearnerStatus.objects.get(learner=ready_learner)
    assert status.state == "awaiting_lead" and Certification.objects.count() == 0
    assign_coach(lead, course_key, lead, make_user("learner2"))
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(lead, ready_learner, course_key, level="lead")
    assert LearnerStatus.objects.get(learner=ready_learner).state == "certified"
    assert CertificateRequest.objects.filter(user=ready_learner).count() == 1


def test_revoke_requires_a_reason_and_something_to_revoke(ready_learner, coach, course_key, observe,
                                                          django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as caught:
        api.revoke(coach, ready_learner, course_key, "Not needed")
    assert "learner" in caught.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key)
    with pytest.raises(ValidationError) as caught:
        api.revoke(coach, ready_learner, course_key, "   ")
    assert "reason" in caught.value.message_dict
    api.revoke(coach, ready_learner, course_key, "Observed drift in two sessions.")
    certification = Certification.objects.get()
    assert certification.revoked_at is not None and certification.revoked_by.action == "revoke"
    assert LearnerStatus.objects.get(learner=ready_learner).state == "revoked"
    # Re-approval needs practice observed after the revoked certification: the old evidence is spent.
    with pytest.raises(ValidationError):
        api.sign_off(coach, ready_learner, course_key, reason="Reviewed again.")
    Certification.objects.update(issued_at=timezone.now() - timedelta(days=30))
    for days in (20, 10, 5):
        observe(coach, ready_learner, days_ago=days)
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key, reason="Reviewed again.")
    assert Certification.objects.filter(revoked_at__isnull=True).count() == 1
    assert CertificateRequest.objects.filter(user=ready_learner, outcome="generated").count() == 2


def test_signoffs_are_append_only(ready_learner, coach, course_key):
    signoff = SignOff.objects.get(pk=api.sign_off(coach, ready_learner, course_key).id)
    signoff.reason = "changed"
    with pytest.raises(ValidationError):
        signoff.save()
    with pytest.raises(ValidationError):
        signoff.delete()


def test_audit_chain_is_whole_and_detects_tampering(ready_learner, coach, course_key):
    api.sign_off(coach, ready_learner, course_key)
    assert AuditEvent.objects.count() >= 5 and api.verify_audit_chain().breaks == []
    victim = AuditEvent.objects.order_by("id")[2]
    AuditEvent.objects.filter(pk=victim.pk).update(actor_id=999)
    assert [item.event_id for item in api.verify_audit_chain().breaks][0] == victim.pk


def test_instrument_version_is_immutable_once_used(ready_learner):
    indicator = Indicator.objects.first()
    indicator.label = "Edited"
    with pytest.raises(ValidationError):
        indicator.save()


def test_policy_validation(lead, course_key, version):
    with pytest.raises(ValidationError) as caught:
        api.save_policy(lead, course_key, requirement_sets=[{
            "instrument_version": version.pk, "min_observations": 0, "window_days": 30,
            "conditions": [{"measure": "percent", "op": ">=", "value": 120}]}], mode="whatever")
    assert {"requirement_sets[0].conditions[0].value", "requirement_sets[0].min_observations",
            "mode"} <= set(caught.value.message_dict)
    with pytest.raises(ValidationError) as caught:
        api.save_policy(lead, course_key, requirement_sets=[competency.simple_set(
            version.pk, min_observations=2, min_distinct_observers=3).as_dict()])
    assert "requirement_sets[0].min_distinct_observers" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:  # one model of a policy (issue 25): sets only
        api.save_policy(lead, course_key, min_observations=2)
    assert caught.value.message_dict == {"min_observations": ["Unknown policy setting."]}
    with pytest.raises(ValidationError) as caught:  # a new policy needs its sets
        api.save_policy(lead, course_key, mode="add_to_grade")
    assert "requirement_sets" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        api.save_policy(lead, course_key, colour="blue")
    assert "colour" in caught.value.message_dict
    with pytest.raises(ValidationError):
        api.parse_course_key("not a course")


def test_status_row_tracks_the_learner(assigned, coach, course_key, observe):
    observe(coach, assigned, days_ago=2, miss=("mi-reflections",))
    status = LearnerStatus.objects.get(learner=assigned)
    assert status.state == "in_progress" and status.qualifying_count == 0 and status.required_count == 3
    assert [r["code"] for r in status.reasons][:2] == ["observations_short", "critical_not_met_latest"]


def test_learner_sees_only_submitted_and_own(assigned, coach, course_key, indicators, observe, stranger):
    observe(coach, assigned, days_ago=2)
    api.save_observation(coach, assigned, course_key, payload(indicators))  # a draft
    assert len(observations_for(assigned, assigned, course_key, include_drafts=True)) == 1
    assert len(observations_for(coach, assigned, course_key, include_drafts=True)) == 2


def test_signoffs_are_read_in_a_fixed_number_of_queries_whatever_their_number(ready_learner, coach, course_key,
                                                                              django_assert_num_queries):
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(coach, ready_learner, course_key, "Drifted.")
    # The learner reads their own: no role query, one for the sessions they have yet to rate (their
    # scores stay out of the approvals' evidence).
    with django_assert_num_queries(2):
        history = api.signoffs_for(ready_learner, ready_learner, course_key)
    assert [(s.action, s.actor.username) for s in history] == [("approve", "coach"), ("revoke", "coach")]


def test_an_approval_reads_the_records_once(ready_learner, coach, course_key):
    """Lock, load once, decide, write: the observations, sign-offs and certifications are each read once."""
    from django.db import connection  # pylint: disable=import-outside-toplevel
    from django.test.utils import CaptureQueriesContext  # pylint: disable=import-outside-toplevel

    with CaptureQueriesContext(connection) as captured:
        api.sign_off(coach, ready_learner, course_key)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    for table in (Observation, SignOff, Certification):
        name = table._meta.db_table
        assert sum(1 for sql in reads if f'FROM "{name}"' in sql or f"FROM `{name}`" in sql) == 1, name


def test_certification_status_refuses_a_stranger_in_the_api_itself(ready_learner, coach, stranger, course_key):
    """Issue 27: the permission is decided in the api, not in the REST view that calls it."""
    api.sign_off(coach, ready_learner, course_key)
    assert api.certification_status(coach, ready_learner, course_key).active
    assert api.certification_status(ready_learner, ready_learner.pk, str(course_key)).active
    with pytest.raises(api.PermissionDenied):
        api.certification_status(stranger, ready_learner, course_key)


def test_a_reflection_draft_is_the_learners_alone(assigned, coach, course_key):
    """A draft is unchecked for identifying text and unsent: its coach reads it once it is submitted."""
    exercise = {"title": "T", "prompts": [{"id": "p1", "text": "Q?", "indicators": []}], "min_length": 1}
    api.save_reflection(assigned, course_key, "block-7", exercise, {"p1": "Half a thought"})
    assert api.get_reflection(assigned, assigned, course_key, "block-7").answers == {"p1": "Half a thought"}
    assert api.get_reflection(coach, assigned, course_key, "block-7") is None
    api.save_reflection(assigned, course_key, "block-7", exercise, {"p1": "A whole thought."}, submit=True)
    assert api.get_reflection(coach, assigned, course_key, "block-7").answers == {"p1": "A whole thought."}
