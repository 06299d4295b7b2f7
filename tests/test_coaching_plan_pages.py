"""
Issue 31 on the pages: the coach agrees a plan after a session (focus suggested), the learner sees
*My focus* and adds a note, the next observation form shows the focus first, the coach confirms the
follow-up; a refused plan keeps what was typed; only coaches plan.
"""
import pytest
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.records.coaching_plans import CoachingPlan

from conftest import COURSE

pytestmark = pytest.mark.django_db


def detail(learner):
    return reverse("miiwrap_fidelity:learner_detail", args=[COURSE, learner.pk])


@pytest.fixture
def session(assigned, coach, observe):
    return observe(coach, assigned, days_ago=20, miss=("mi-summaries", "eng-voice-choice"))


def plan_post(*rows):
    post = {}
    for index, (key, step) in enumerate(rows):
        post.update({f"focus-{index}-indicator": key, f"focus-{index}-step": step})
    return post


def test_the_loop_on_the_pages(client, coach, assigned, session, observe):
    client.force_login(coach)
    page = client.get(detail(assigned)).content.decode()
    form = page.split('id="mwf-plan-heading"', 1)[1]
    assert '<option value="eng-voice-choice" selected>' in form.split('name="focus-0-indicator"', 1)[1].split(
        "</select>", 1)[0]  # the missed essential suggested first
    url = reverse("miiwrap_fidelity:save_plan", args=[COURSE, assigned.pk, session.pk])
    saved = client.post(url, plan_post(("eng-voice-choice", "Ask the family first."),
                                       ("mi-summaries", "Summarise before planning.")))
    assert saved.status_code == 302 and saved.url.endswith("#mwf-plan-heading")
    page = client.get(detail(assigned)).content.decode()
    assert "Focus agreed after the session of" in page and 'class="mwf-badge mwf-badge-focus"' in page
    assert "Focus agreed after this session:" in page.split('id="mwf-observation-%d"' % session.pk, 1)[1]
    assert 'id="mwf-focus-first"' in page  # the next observation form shows the focus first

    client.force_login(assigned)
    mine = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    assert "My focus" in mine and "Ask the family first." in mine
    plan = CoachingPlan.objects.get()
    noted = client.post(reverse("miiwrap_fidelity:plan_note", args=[COURSE, plan.pk]), {"note": "I will listen."})
    assert noted.status_code == 302 and CoachingPlan.objects.get().learner_note == "I will listen."

    observe(coach, assigned, days_ago=5, miss=("mi-summaries",))
    client.force_login(coach)
    page = client.get(detail(assigned)).content.decode()
    assert "At the next session: Improved" in page and "At the next session: Held" in page
    confirm = reverse("miiwrap_fidelity:confirm_follow_up", args=[COURSE, assigned.pk, plan.pk])
    assert client.post(confirm, {"indicator": "mi-summaries", "outcome": "improved"}).status_code == 302
    assert [f.outcome for f in api.current_plan(coach, assigned, COURSE).focus] == ["improved", "improved"]


def test_a_refused_plan_keeps_what_was_typed(client, coach, assigned, session):
    client.force_login(coach)
    url = reverse("miiwrap_fidelity:save_plan", args=[COURSE, assigned.pk, session.pk])
    refused = client.post(url, plan_post(("mi-summaries", "Call client Maria Lopez at 555-123-4567."), ("", "")),
                          follow=True)
    page = refused.content.decode()
    assert "Call client Maria Lopez at 555-123-4567." in page and 'name="privacy_confirmed"' in page
    assert not CoachingPlan.objects.exists()


def test_only_coaches_plan_and_confirm(client, coach, assigned, session):
    client.force_login(assigned)
    url = reverse("miiwrap_fidelity:save_plan", args=[COURSE, assigned.pk, session.pk])
    assert client.post(url, plan_post(("mi-summaries", "x"))).status_code == 403
    assert not CoachingPlan.objects.exists()
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    confirm = reverse("miiwrap_fidelity:confirm_follow_up", args=[COURSE, assigned.pk, plan.id])
    assert client.post(confirm, {"indicator": "mi-summaries", "outcome": "held"}).status_code == 403
    client.force_login(coach)
    assert client.post(reverse("miiwrap_fidelity:plan_note", args=[COURSE, plan.id]), {"note": "x"}).status_code == 403


def test_the_leader_view_shows_loop_closure_over_five_plans_only(client, lead, coach, assigned, course_key, observe):
    from miiwrap_fidelity.records import loop_figures  # pylint: disable=import-outside-toplevel
    sessions = [observe(coach, assigned, days_ago=60 - 10 * n, miss=("mi-summaries",)) for n in range(6)]
    for session in sessions[:5]:
        api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    figures = loop_figures.coaching_loop_figures(course_key)
    assert (figures.plans, figures.followed_up_share, figures.improved_share) == (5, 100.0, 0.0)  # all held
    assert figures.median_days_by_coach == ((coach.pk, 10.0),)
    client.force_login(lead)
    page = client.get(reverse("miiwrap_fidelity:leaders", args=[COURSE])).content.decode()
    assert 'id="mwf-loop"' in page and "Plans followed up at the next session" in page


def test_loop_figures_read_a_bounded_number_of_statements(coach, assigned, course_key, observe,
                                                          django_assert_max_num_queries):
    from miiwrap_fidelity.records import loop_figures  # pylint: disable=import-outside-toplevel
    for n in range(4):
        session = observe(coach, assigned, days_ago=40 - 10 * n, miss=("mi-summaries",))
        api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    with django_assert_max_num_queries(4):  # a batch of plans, their focus, the rubric's indicator once
        loop_figures.coaching_loop_figures(course_key)


def test_the_sign_off_block_shows_the_learner_their_focus(client, workbench, coach, assigned, session):
    from xblock_support import SIGNOFF, view  # pylint: disable=import-outside-toplevel
    api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise before planning."}])
    client.force_login(assigned)
    block = view(client, SIGNOFF)
    assert "My focus" in block and "Summarise before planning." in block and "#mwf-focus-heading" in block


def test_a_reflection_prompt_can_name_the_current_focus(client, workbench, coach, assigned, session, monkeypatch):
    from miiwrap_xblocks.reflection import ReflectionXBlock  # pylint: disable=import-outside-toplevel

    from xblock_support import REFLECTION, view  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(ReflectionXBlock.prompts, "_default",
                        [{"id": "p1", "text": "How did you practise {focus} this week?", "indicators": []}])
    client.force_login(assigned)
    assert "How did you practise the skills you are working on this week?" in view(client, REFLECTION)
    api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    page = view(client, REFLECTION)
    assert "How did you practise Summaries this week?" in page and "My focus" in page


def test_a_refused_note_keeps_what_the_learner_typed(client, coach, assigned, session):
    plan = api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    client.force_login(assigned)
    typed = "I will call Maria Lopez at 555-123-4567 to practise summaries."
    page = client.post(reverse("miiwrap_fidelity:plan_note", args=[COURSE, plan.id]), {"note": typed},
                       follow=True).content.decode()
    assert typed in page and CoachingPlan.objects.get().learner_note == ""


def test_the_focus_is_shown_first_only_on_its_own_instruments_form(client, coach, assigned, session, lead,
                                                                   course_key, version):
    from miiwrap_fidelity.records import instrument_import  # pylint: disable=import-outside-toplevel
    with open(api.SAMPLE_INSTRUMENTS[2], encoding="utf-8") as handle:
        team = instrument_import.load(handle.read())[0]
    api.save_policy(lead, course_key, requirement_sets=[
        {"instrument_version": version.pk, "min_observations": 2, "window_days": 270},
        {"instrument_version": team.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 270}])
    api.save_plan(coach, session.pk, [{"indicator": "mi-summaries", "step": "Summarise."}])
    client.force_login(coach)
    assert 'id="mwf-focus-first"' in client.get(detail(assigned) + f"?instrument={version.pk}").content.decode()
    assert 'id="mwf-focus-first"' not in client.get(detail(assigned) + f"?instrument={team.pk}").content.decode()
