"""
Issue 15 leftovers: people named by full name (username as the small hint) wherever the learner's
pages, the sign-off history and the rater-agreement page name them, in one query per page; percents
in reason sentences as the reader's language writes them; the sign-off block's privacy warning.
"""
import html as html_lib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from test_monitoring import co_rate

from miiwrap_fidelity import api
from miiwrap_fidelity.rules import competency, privacy
from miiwrap_fidelity.wording import reason_sentences

from conftest import COURSE, assign_coach, data_queries, make_user, ratings_for
from xblock_support import SIGNOFF, view

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def named(first, last, username):
    return make_user(username, first_name=first, last_name=last)


def hinted(full_name, username):
    return f'{full_name} <small class="mwf-hint">{username}</small>'


def test_learner_detail_names_observers_and_sign_off_actors(client, policy, lead, course_key, observe):
    learner = named("Ana", "Alvarez", "learner_ana")
    casey, dana = named("Casey", "Morgan", "coach_casey"), make_user("coach_dana")  # Dana has no full name
    for person in (casey, dana):
        assign_coach(lead, course_key, person, learner)
    for days in (30, 20, 10):
        observe(casey, learner, days_ago=days)
    observe(dana, learner, days_ago=5)
    api.sign_off(casey, learner, course_key)
    client.force_login(lead)
    page = client.get(url("learner_detail", learner.pk)).content.decode()
    history = page[page.index('id="mwf-history-heading"'):]
    assert f"Observed by {hinted('Casey Morgan', 'coach_casey')}</p>" in history
    assert "Observed by coach_dana</p>" in history, "no full name: the username alone, not twice"
    timeline = page[page.index('id="mwf-growth'):page.index('id="mwf-history-heading"')]
    assert f"observed by {hinted('Casey Morgan', 'coach_casey')}</h4>" in timeline
    assert f"Approved by coach {hinted('Casey Morgan', 'coach_casey')}" in page
    assert "Approved by coach coach_casey" not in page


def test_learner_detail_queries_do_not_grow_with_distinct_observers(client, policy, lead, course_key, observe):
    learner = named("Ana", "Alvarez", "learner_ana")

    def add_observer(number):
        person = named("Coach", str(number), f"coach_{number}")
        assign_coach(lead, course_key, person, learner)
        observe(person, learner, days_ago=number + 1)

    def page_queries():
        client.force_login(lead)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url("learner_detail", learner.pk)).content.decode()
        return body, len(data_queries(queries))

    add_observer(1)
    body, few = page_queries()
    assert hinted("Coach 1", "coach_1") in body
    for number in range(2, 7):
        add_observer(number)
    body, many = page_queries()
    assert all(hinted(f"Coach {n}", f"coach_{n}") in body for n in range(1, 7))
    assert many == few, "one query names every person on the page"


def test_learner_sees_observer_names_on_own_page_and_self_assessment(client, policy, lead, course_key, observe):
    api.save_policy(lead, course_key, self_assessment=True)
    learner, casey = make_user("learner_bo"), named("Casey", "Morgan", "coach_casey")
    assign_coach(lead, course_key, casey, learner)
    observe(casey, learner, days_ago=3)
    client.force_login(learner)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE])).content.decode()
    self_part = page[page.index('id="mwf-self-heading"'):]
    assert f"observed by {hinted('Casey Morgan', 'coach_casey')}</h3>" in self_part
    client.force_login(casey)
    coach_page = client.get(url("learner_detail", learner.pk)).content.decode()
    coach_part = coach_page[coach_page.index('id="mwf-self-coach-heading"'):]
    assert f"observed by {hinted('Casey Morgan', 'coach_casey')}</h3>" in coach_part


def test_rater_agreement_pairs_are_named_by_full_name(client, assigned, lead, course_key, indicators):
    casey, dana = named("Casey", "Morgan", "coach_casey"), make_user("coach_dana")
    for person in (casey, dana):
        assign_coach(lead, course_key, person, assigned)
    primary, second = co_rate(casey, dana, assigned, indicators, course_key, misses_b=("mi-summaries",))
    for observer, draft in ((dana, second), (casey, primary)):  # both submit
        api.save_observation(observer, assigned, course_key, {
            "practice_date": draft.practice_date.isoformat(), "setting": "home_visit", "revision": draft.revision,
            "ratings": ratings_for(indicators)}, observation_id=draft.pk, submit=True)
    client.force_login(lead)
    page = client.get(url("reliability")).content.decode()
    pairs = page[page.index("Per pair of observers"):]
    pairs = pairs[:pairs.index("</table>")]
    assert f"<th scope=\"row\">{hinted('Casey Morgan', 'coach_casey')} &amp; coach_dana</th>" in pairs


@pytest.mark.parametrize("language, expected", [("en", "at least 80% of indicators met"),
                                                ("es", "al menos el 80\u00a0% de los indicadores")])
def test_reason_sentence_percents_follow_the_locale(language, expected):
    reason = competency.Reason("observations_short", {"have": 0, "need": 3, "min_percent": 80, "window_days": 30})
    with translation.override(language):
        assert expected in reason_sentences.sentence(reason)


@pytest.mark.parametrize("language, percent, score", [
    ("en", "at least 72.5% of indicators met", "Technical global of at least 3.5"),
    ("es", "al menos el 72,5\u00a0% de los indicadores cumplidos", "Technical global de al menos 3,5"),
])
def test_requirement_conditions_write_numbers_as_the_reader_does(language, percent, score):
    with translation.override(language):
        assert reason_sentences.condition_phrase(
            {"measure": competency.PERCENT, "value": 72.5, "op": competency.AT_LEAST}) == percent
        assert reason_sentences.condition_phrase(
            {"measure": "summary", "key": "tg", "label": "Technical global", "value": 3.5,
             "op": competency.AT_LEAST}) == score


def test_signoff_block_serves_the_server_privacy_patterns(client, workbench, assigned, coach):
    client.force_login(coach)
    html = view(client, SIGNOFF)
    start = html.index('data-privacy-patterns="') + len('data-privacy-patterns="')
    served = json.loads(html_lib.unescape(html[start:html.index('"', start)]))
    assert served == privacy.client_patterns() and served, "the page's patterns, from one source"
