"""
Issue 31, second slice: a plan agreed after an observation (api only; pages, REST, messages and
events come next, ADR 0027): focus suggested from the session, one or two indicators with a step
each, the learner's note, the next observation following each focus up, the coach's confirmation.
"""
import pytest

from miiwrap_fidelity import api
from miiwrap_fidelity.records import retirement
from miiwrap_fidelity.records.coaching_plans import CoachingPlan, PlanFocus

from conftest import OTHER_COURSE, make_user

pytestmark = pytest.mark.django_db
IDENTIFYING = "Call client Maria Lopez at 555-123-4567."


@pytest.fixture
def session(assigned, coach, observe):
    """A home visit where an essential indicator (voice and choice) was missed, and a summary partly."""
    return observe(coach, assigned, days_ago=20, miss=("mi-summaries", "eng-voice-choice"))


def test_the_suggested_focus_puts_the_missed_essential_first(coach, session):
    suggested = [indicator.key for indicator in api.suggested_focus(coach, session.pk)]
    assert suggested == ["eng-voice-choice", "mi-summaries"]


def test_a_plan_is_agreed_followed_up_and_confirmed(coach, assigned, course_key, session, observe):
    plan = api.save_plan(coach, session.pk, [{"indicator": "eng-voice-choice", "step": "Ask the family first."},
                                             {"indicator": "mi-summaries", "step": "Summarise before planning."}])
    assert [(f.indicator_key, f.step, f.outcome) for f in plan.focus] == [
        ("eng-voice-choice", "Ask the family first.", None), ("mi-summaries", "Summarise before planning.", None)]
    noted = api.add_learner_note(assigned, plan.id, "I will open with the family's own words.")
    assert noted.learner_note == "I will open with the family's own words."
    following = observe(coach, assigned, days_ago=5, miss=("mi-summaries",))  # voice met now, summaries held
    current = api.current_plan(assigned, assigned, course_key)
    assert [(f.indicator_key, f.computed_outcome, f.followed_up_by) for f in current.focus] == [
        ("eng-voice-choice", "improved", following.pk), ("mi-summaries", "held", following.pk)]
    confirmed = api.confirm_follow_up(coach, plan.id, "mi-summaries", "slipped")  # the coach's word wins
    assert [f.outcome for f in confirmed.focus] == ["improved", "slipped"]


def test_saving_again_replaces_the_focus_and_keeps_the_note(coach, assigned, session):
    plan = api.save_plan(coach, session.pk, [{"indicator": "eng-voice-choice", "step": "Ask first."}])
    api.add_learner_note(assigned, plan.id, "Noted.")
    again = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    assert again.id == plan.id and [f.indicator_key for f in again.focus] == ["mi-summaries"]
    assert again.learner_note == "Noted." and CoachingPlan.objects.count() == 1


@pytest.mark.parametrize("focus, place", [
    ([], "focus"), ("voice", "focus"), ([{"indicator": "a", "step": "x"}] * 3, "focus"),
    ([{"indicator": "no-such", "step": "x"}], "focus[0].indicator"),
    ([{"indicator": True, "step": "x"}], "focus[0].indicator"),
    ([{"indicator": "mi-summaries", "step": ""}], "focus[0].step"),
    ([{"indicator": "mi-summaries", "step": "x" * 5001}], "focus[0].step"),
    ([{"indicator": "mi-summaries", "step": "a"}, {"indicator": "mi-summaries", "step": "b"}], "focus[1].indicator"),
    (["mi-summaries"], "focus[0].indicator"),
])
def test_bad_focus_is_refused_naming_its_place(coach, session, focus, place):
    with pytest.raises(api.ValidationError) as refused:
        api.save_plan(coach, session.pk, focus)
    assert place in refused.value.message_dict and not CoachingPlan.objects.exists()


def test_a_step_that_looks_client_identifying_needs_a_confirmation(coach, session):
    with pytest.raises(api.ValidationError):
        api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": IDENTIFYING}])
    assert not CoachingPlan.objects.exists()


def test_only_the_learners_coaches_plan_and_only_the_learner_writes_the_note(coach, assigned, session, course_key):
    outsider, other_learner = make_user("outsider"), make_user("other_learner")
    for person in (outsider, assigned):
        with pytest.raises(api.PermissionDenied):
            api.save_plan(person, session.pk, [{"indicator": "mi-summaries", "step": "x"}])
        with pytest.raises(api.PermissionDenied):
            api.suggested_focus(person, session.pk)
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    for person in (coach, other_learner):
        with pytest.raises(api.PermissionDenied):
            api.add_learner_note(person, plan.id, "mine")
    with pytest.raises(api.PermissionDenied):
        api.current_plan(other_learner, assigned, course_key)
    with pytest.raises(api.PermissionDenied):
        api.current_plan(coach, assigned, OTHER_COURSE)


def test_a_draft_or_a_co_rating_takes_no_plan(coach, assigned, observe):
    draft = observe(coach, assigned, days_ago=3, submit=False)
    with pytest.raises(api.ValidationError):
        api.save_plan(coach, draft.pk, [{"indicator": "mi-summaries", "step": "x"}])
    with pytest.raises(api.ValidationError):
        api.save_plan(coach, "not-an-id", [{"indicator": "mi-summaries", "step": "x"}])


def test_no_follow_up_is_confirmed_before_the_next_observation(coach, session):
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    with pytest.raises(api.ValidationError) as refused:
        api.confirm_follow_up(coach, plan.id, "mi-summaries", "improved")
    assert "not been observed since" in refused.value.message_dict["outcome"][0]
    with pytest.raises(api.ValidationError):
        api.confirm_follow_up(coach, plan.id, "mi-summaries", "better")


def test_retirement_blanks_the_plans_words(coach, assigned, session):
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    api.add_learner_note(assigned, plan.id, "My note.")
    retirement.scrub_user(assigned.pk)
    assert CoachingPlan.objects.get().learner_note == "" and PlanFocus.objects.get().step == ""


def test_an_acknowledged_drift_alert_becomes_a_focus_of_the_plan(coach, assigned, course_key, observe):
    """One concept of a plan: the alert's plan note is the step of a focus on its indicator."""
    from miiwrap_fidelity.records.models import DriftAlert  # pylint: disable=import-outside-toplevel
    observe(coach, assigned, days_ago=20, miss=("mi-summaries",))
    session = observe(coach, assigned, days_ago=10, miss=("mi-summaries", "mi-reflections"))
    api.save_plan(coach, session.pk, [{"indicator": "eng-strengths", "step": "Name two strengths."}])
    alert = DriftAlert.objects.get(kind="not_met_twice", indicator_key="mi-summaries")
    api.acknowledge_alert(coach, alert.pk, "Summarise before planning, every visit.")
    plan = api.current_plan(coach, assigned, course_key)
    assert [(f.indicator_key, f.step) for f in plan.focus] == [
        ("eng-strengths", "Name two strengths."), ("mi-summaries", "Summarise before planning, every visit.")]
    other = DriftAlert.objects.get(kind="critical_not_met")  # the plan is full: acknowledged, plan unchanged
    api.acknowledge_alert(coach, other.pk, "Practise reflections.")
    assert len(api.current_plan(coach, assigned, course_key).focus) == 2


# --- the review's findings on b7e83b3 (each reproduced first) -------------------------------------

def test_a_confirmation_holds_only_for_the_session_it_was_given_on(coach, assigned, course_key, session, observe):
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    observe(coach, assigned, days_ago=5, miss=("mi-summaries",))
    api.confirm_follow_up(coach, plan.id, "mi-summaries", "slipped")
    between = observe(coach, assigned, days_ago=10)  # recorded later, practised before: now the follow-up
    focus = api.current_plan(coach, assigned, course_key).focus[0]
    assert (focus.followed_up_by, focus.confirmed_outcome, focus.outcome) == (between.pk, "", "improved")


def test_a_staff_acknowledgement_does_not_take_the_plan_over(coach, lead, assigned, course_key, observe):
    from miiwrap_fidelity.records.models import DriftAlert  # pylint: disable=import-outside-toplevel
    observe(coach, assigned, days_ago=20, miss=("mi-summaries",))
    latest = observe(coach, assigned, days_ago=10, miss=("mi-summaries",))
    api.save_plan(coach, latest.pk, [{"indicator": "eng-strengths", "step": "Name two strengths."}])
    api.acknowledge_alert(lead, DriftAlert.objects.get(kind="not_met_twice").pk, "Summarise every visit.")
    assert CoachingPlan.objects.get().author == coach
    assert len(api.current_plan(coach, assigned, course_key).focus) == 2


def test_an_alert_on_an_indicator_the_latest_session_lacks_leaves_the_plan(coach, assigned, course_key, session):
    from miiwrap_fidelity.records.models import DriftAlert  # pylint: disable=import-outside-toplevel
    alert = DriftAlert.objects.create(course_key=course_key, learner=assigned, kind="not_met_twice",
                                      indicator_key="agenda-shared")  # another instrument's indicator
    api.acknowledge_alert(coach, alert.pk, "Agree the agenda with the family.")
    assert DriftAlert.objects.get(pk=alert.pk).acknowledged_at is not None
    assert not CoachingPlan.objects.exists()


def test_an_acknowledgement_is_never_refused_for_the_plan(coach, coach2, assigned, course_key, observe):
    """After the plan's coach retired (their steps blanked), a colleague's acknowledgement was refused."""
    from miiwrap_fidelity.records.models import DriftAlert  # pylint: disable=import-outside-toplevel
    observe(coach, assigned, days_ago=20, miss=("mi-summaries",))
    latest = observe(coach, assigned, days_ago=10, miss=("mi-summaries",))
    api.save_plan(coach, latest.pk, [{"indicator": "eng-strengths", "step": "Name two strengths."}])
    retirement.scrub_user(coach.pk)
    alert = DriftAlert.objects.get(kind="not_met_twice")
    api.acknowledge_alert(coach2, alert.pk, "Summarise every visit.")
    assert DriftAlert.objects.get(pk=alert.pk).acknowledged_by == coach2
