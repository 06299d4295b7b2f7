"""
Issue 26, "People by name everywhere": the sign-off block's learner picker (and what it shows of a
learner) names people by full name, the username only where there is no name or beside a name two
people share; its search finds the beginning of a username or of a full name; staff assign coaches
by typing a full name (one match used, several named, none "No such user"); drafts are labelled
with their observer's full name, on the coach's page and in the block.
"""
import html as html_lib
import sys
import types

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import CoachAssignment
from miiwrap_fidelity.seams import platform
from sandbox.enrollment import enroll
from sandbox.fake_platform import FakePlatform
from sandbox.models import CourseRole

from conftest import COURSE, assign_coach, data_queries, make_user
from xblock_support import SIGNOFF, call, view

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def named(first, last, username):
    return make_user(username, first_name=first, last_name=last)


def picker_options(page):
    picker = page.split('class="mwf-learner-picker">')[1].split("</select>")[0]
    return [html_lib.unescape(part.split(">", 1)[1].split("</option>")[0]) for part in picker.split("<option")[2:]]


# --- 1. the sign-off block's learner picker ------------------------------------------------------


@pytest.fixture
def people(policy, lead, coach, course_key):
    """Ana (a full name), Bo (none) and two Dana Reyes, all coached by ``coach``."""
    ana, bo = named("Ana", "Alvarez", "learner_ana"), make_user("learner_bo")
    dana, dana2 = named("Dana", "Reyes", "dreyes"), named("dana", "reyes", "dreyes2")
    for person in (ana, bo, dana, dana2):
        assign_coach(lead, course_key, coach, person)
    return {"ana": ana, "bo": bo, "dana": dana, "dana2": dana2}


def test_picker_names_learners_by_full_name(client, workbench, people, coach):
    client.force_login(coach)
    options = picker_options(view(client, SIGNOFF))
    assert "learner_ana (Not started)" not in options
    assert "Ana Alvarez (Not started)" in options
    assert "learner_bo (Not started)" in options, "no full name: the username"
    assert "Dana Reyes · dreyes (Not started)" in options and "dana reyes · dreyes2 (Not started)" in options, \
        "a name two people share: the username beside it"


def test_picker_search_finds_the_start_of_a_name_or_username_and_says_so(client, workbench, people, lead,
                                                                           monkeypatch):
    from miiwrap_xblocks import coach_signoff  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(coach_signoff, "PICKER_SIZE", 2)
    client.force_login(lead)
    page = view(client, SIGNOFF)
    assert "Find a learner by name or username" in page
    assert "type the beginning of a name or username to find the others." in page
    status, body = call(client, SIGNOFF, "find_learners", {"search": "ana al"})
    assert status == 200 and [row["label"] for row in body["learners"]] == ["Ana Alvarez (Not started)"]
    assert body["learners"][0]["name"] == "Ana Alvarez" and body["learners"][0]["username"] == "learner_ana"
    status, body = call(client, SIGNOFF, "find_learners", {"search": "learner_b"})
    assert [row["label"] for row in body["learners"]] == ["learner_bo (Not started)"]
    status, body = call(client, SIGNOFF, "find_learners", {"search": "DANA"})
    assert sorted(row["label"] for row in body["learners"]) == ["Dana Reyes · dreyes (Not started)",
                                                                 "dana reyes · dreyes2 (Not started)"]
    assert call(client, SIGNOFF, "find_learners", {"search": "alvarez"})[1]["total"] == 0, \
        "the beginning of a name, not a word inside it (as the hint says)"


def test_find_learners_names_them_in_one_query(client, workbench, people, lead, course_key):
    client.force_login(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            status, body = call(client, SIGNOFF, "find_learners", {"search": ""})
        assert status == 200
        return len(data_queries(captured)), body

    few, _body = queries()
    for number in range(4):
        assign_coach(lead, course_key, lead, named("Extra", str(number), f"extra{number}"))
    many, body = queries()
    assert many == few and "Extra 3 (Not started)" in [row["label"] for row in body["learners"]]


def test_learner_state_names_the_learner_observers_and_sign_off_actors(client, workbench, people, coach, lead,
                                                                       course_key, observe):
    ana = people["ana"]
    casey = named("Casey", "Morgan", "coach_casey")
    assign_coach(lead, course_key, casey, ana)
    for days in (30, 20, 10):
        observe(casey, ana, days_ago=days)
    api.sign_off(casey, ana, course_key)
    client.force_login(casey)
    observe(casey, ana, days_ago=1, submit=False)  # a draft of Casey's
    status, body = call(client, SIGNOFF, "learner_state", {"learner_id": ana.pk})
    assert status == 200
    assert body["learner"]["name"] == "Ana Alvarez" and body["learner"]["username"] == "learner_ana"
    draft = [o for o in body["observations"] if o["status"] == "draft"]
    assert draft and draft[0]["observer"] == "Casey Morgan", "a draft labelled by its observer's full name"
    assert {o["observer"] for o in body["observations"]} == {"Casey Morgan"}
    assert [o["observer"] for o in body["status"]["evidence"]["observations"]] == ["Casey Morgan"] * 3
    assert body["signoffs"][0]["actor"] == "Casey Morgan"
    assert body["signoffs"][0]["label"] == "Approved by coach Casey Morgan"
    client.force_login(ana)
    assert "observed by Casey Morgan" in view(client, SIGNOFF), "the learner's view names the observer"


def test_learner_state_without_a_full_name_is_the_username(client, workbench, people, coach):
    client.force_login(coach)
    status, body = call(client, SIGNOFF, "learner_state", {"learner_id": people["bo"].pk})
    assert status == 200 and body["learner"]["name"] == "learner_bo"


# --- 2. assigning coaches by full name -----------------------------------------------------------


def test_platform_users_named_in_the_sandbox(db):
    named("Dana", "Reyes", "dreyes")
    named("dana", "REYES", "dreyes2")
    named("Dana", "Reyes-Smith", "drs")
    make_user("dana reyes")  # a username, not a full name
    found = FakePlatform().users_named("dana reyes", 10)
    assert sorted(api.get_user(pk).username for pk in found) == ["dreyes", "dreyes2"]
    assert len(FakePlatform().users_named("Dana Reyes", 1)) == 1


def test_platform_users_named_reads_the_lms_profiles(monkeypatch):
    class Profiles:
        rows = [{"user_id": 4, "name": "Dana Reyes"}, {"user_id": 2, "name": "dana reyes"},
                {"user_id": 3, "name": "Dana"}]
        queries = 0

        def filter(self, **conditions):
            assert set(conditions) == {"name__iexact"}, conditions
            Profiles.queries += 1
            wanted = conditions["name__iexact"].casefold()
            return types.SimpleNamespace(order_by=lambda field: types.SimpleNamespace(
                values_list=lambda name, flat=False: sorted(
                    row[name] for row in Profiles.rows if row["name"].casefold() == wanted)))

    stand_in = types.ModuleType("common.djangoapps.student.models")
    stand_in.UserProfile = type("UserProfile", (), {"objects": Profiles()})
    monkeypatch.setitem(sys.modules, "common.djangoapps.student.models", stand_in)
    assert platform.EdxPlatform().users_named("Dana Reyes", 10) == [2, 4] and Profiles.queries == 1
    assert platform.EdxPlatform().users_named("Dana Reyes", 1) == [2]


@pytest.fixture
def course_people(policy, lead, coach, course_key):
    """Casey coaches in the course; Ana is enrolled; two Dana Reyes are enrolled; Erin only exists."""
    casey = named("Casey", "Morgan", "coach_casey")
    ana, dana, dana2 = named("Ana", "Alvarez", "learner_ana"), named("Dana", "Reyes", "dreyes"), \
        named("Dana", "Reyes", "dreyes2")
    for person in (ana, dana, dana2):
        enroll(person, course_key)
    assign_coach(lead, course_key, casey, dana)
    return {"casey": casey, "ana": ana, "dana": dana, "dana2": dana2,
            "erin": named("Erin", "Outsider", "erin_out")}


def test_assign_coach_by_full_name(lead, course_key, course_people):
    assignment = api.assign_coach(lead, course_key, "casey MORGAN", " Ana Alvarez ")
    assert (assignment.coach.username, assignment.learner.username) == ("coach_casey", "learner_ana")
    # Course staff may be named as coaches too.
    assignment = api.assign_coach(lead, course_key, "lead", "learner_ana")
    assert assignment.coach.username == "lead"
    lead.first_name, lead.last_name = "Lee", "Park"
    lead.save()
    assert api.assign_coach(lead, course_key, "Lee Park", "Ana Alvarez").coach == assignment.coach


def test_a_name_several_people_share_is_refused_naming_them(lead, course_key, course_people):
    with pytest.raises(api.ValidationError) as refused:
        api.assign_coach(lead, course_key, "Casey Morgan", "Dana Reyes")
    assert refused.value.message_dict == {"learner": [
        "Several people are called Dana Reyes: dreyes, dreyes2 — type the username."]}
    assert api.assign_coach(lead, course_key, "Casey Morgan", "dreyes2").learner.username == "dreyes2"


def test_a_name_outside_the_course_is_no_such_user(lead, course_key, course_people):
    with pytest.raises(api.ValidationError) as refused:
        api.assign_coach(lead, course_key, "Casey Morgan", "Erin Outsider")
    assert refused.value.message_dict == {"learner": ["No such user."]}, "not enrolled: not found by name"
    with pytest.raises(api.ValidationError) as refused:
        api.assign_coach(lead, course_key, "Erin Outsider", "Ana Alvarez")
    assert refused.value.message_dict == {"coach": ["No such user."]}, "neither a coach nor staff of the course"
    with pytest.raises(api.ValidationError) as refused:
        api.assign_coach(lead, course_key, "Casey Morgan", "Nobody At All")
    assert refused.value.message_dict == {"learner": ["No such user."]}
    assert not CoachAssignment.objects.filter(learner=course_people["ana"]).exists()


def test_only_course_staff_look_people_up_by_name(course_key, course_people):
    with pytest.raises(api.PermissionDenied):
        api.assign_coach(course_people["casey"], course_key, "Casey Morgan", "Ana Alvarez")


def test_assignments_page_takes_full_names(client, lead, course_key, course_people):
    client.force_login(lead)
    page = client.get(url("assignments")).content.decode()
    assert "Coach (username or full name)" in page and "Learner (username or full name)" in page
    response = client.post(url("assignments"), {"action": "add", "coach": "Casey Morgan", "learner": "Dana Reyes"})
    page = html_lib.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Several people are called Dana Reyes: dreyes, dreyes2 — type the username." in page
    assert 'value="Dana Reyes"' in page, "what was typed stays in the form"
    response = client.post(url("assignments"), {"action": "add", "coach": "Casey Morgan", "learner": "Ana Alvarez"})
    assert response.status_code == 302
    assert CoachAssignment.objects.filter(coach=course_people["casey"], learner=course_people["ana"]).exists()
    response = client.post(url("assignments"), {"action": "add", "coach": "Casey Morgan", "learner": "Erin Outsider"})
    assert response.status_code == 400 and "No such user." in response.content.decode()


def test_csv_assignments_take_full_names(client, lead, course_key, course_people):
    client.force_login(lead)
    text = "coach,learner\nCasey Morgan,Ana Alvarez\ncoach_casey,Dana Reyes\nErin Outsider,learner_ana\n"
    response = client.post(url("assignments"), {"action": "upload", "file": SimpleUploadedFile("a.csv", text.encode())})
    page = html_lib.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Several people are called Dana Reyes: dreyes, dreyes2 — type the username." in page
    assert "No coach or staff member of this course is called Erin Outsider." in page, "a name, answered as one"
    assert "Unknown coach username." not in page and not CoachAssignment.objects.filter(
        learner=course_people["ana"]).exists()
    report, assigned = api.assign_coaches_from_csv(lead, course_key,
                                                  "coach,learner\nCasey Morgan,Ana Alvarez\ncoach_casey,dreyes2\n"
                                                  "coach_casey,dreyes\n")
    assert assigned == 2 and [row["status"] for row in report] == ["assigned", "assigned", "unchanged"]
    assert CoachAssignment.objects.filter(coach=course_people["casey"], learner=course_people["ana"]).exists()


def test_staff_of_the_course_are_found_by_name_for_the_coach_field(lead, course_key, course_people):
    erin = course_people["erin"]
    CourseRole.objects.create(course_key=course_key, user=erin, role="staff")
    assert api.assign_coach(lead, course_key, "Erin Outsider", "Ana Alvarez").coach.pk == erin.pk


# --- 3. drafts labelled by their observer's full name --------------------------------------------


def test_drafts_on_the_coach_page_name_their_observer(client, lead, course_key, course_people, observe):
    casey, ana = course_people["casey"], course_people["ana"]
    assign_coach(lead, course_key, casey, ana)
    observe(casey, ana, days_ago=2, submit=False)
    client.force_login(casey)
    page = client.get(url("learner_detail", ana.pk)).content.decode()
    drafts = page[page.index("Drafts:"):]
    drafts = drafts[:drafts.index("</p>")]
    assert "(Casey Morgan)" in drafts and "(coach_casey)" not in drafts


def test_a_draft_older_than_the_first_history_page_names_its_observer(client, lead, coach, course_key,
                                                                      course_people, observe):
    """Another coach's ten newer observations fill the history's first page: the label still names Casey."""
    casey, ana = course_people["casey"], course_people["ana"]
    assign_coach(lead, course_key, casey, ana)
    assign_coach(lead, course_key, coach, ana)
    observe(casey, ana, days_ago=40, submit=False)
    for days in range(1, 12):
        observe(coach, ana, days_ago=days)
    client.force_login(casey)
    page = client.get(url("learner_detail", ana.pk)).content.decode()
    drafts = page[page.index("Drafts:"):]
    drafts = drafts[:drafts.index("</p>")]
    assert "(Casey Morgan)" in drafts and "(coach_casey)" not in drafts


def test_the_coach_filter_finds_a_coach_by_the_beginning_of_a_name(client, lead, course_key):
    """
    A walkthrough of issue 26: typing "Dana" in the workspace's coach filter answered a 400 page
    ("coach_search: No coach in this course has a username starting with that") without the staff
    links or the filters to correct it.
    """
    dana, dan = named("Dana", "Reyes", "coach_dana"), named("Dan", "Ng", "dng")
    learner = named("Lee", "Learner", "learner_lee")
    for coach in (dana, dan):
        assign_coach(lead, course_key, coach, learner)
    assert [ref.username for ref in api.search_coaches(lead, course_key, "dana")] == ["coach_dana"]
    assert [ref.username for ref in api.search_coaches(lead, course_key, "Dan")] == ["coach_dana", "dng"]
    client.force_login(lead)
    url = reverse("miiwrap_fidelity:workspace", args=[str(course_key)])
    chosen = client.get(url, {"coach_search": "Dana R"})
    assert chosen.status_code == 200 and 'value="coach_dana"' in chosen.content.decode()
    several = client.get(url, {"coach_search": "dan"}).content.decode()
    assert "Several coaches match" in several and "Dana Reyes" in several and "Dan Ng" in several
    nobody = client.get(url, {"coach_search": "Zora"})
    page = nobody.content.decode()
    assert nobody.status_code == 200 and "No coach in this course has a name or username starting with" in page
    assert "Leader view" in page and "learner_lee" in page, "the staff links and the whole list stay"


def test_platform_users_named_by_the_beginning_of_a_name(db, monkeypatch):
    named("Dana", "Reyes", "dreyes")
    named("Danae", "Moss", "dmoss")
    named("Adana", "Park", "apark")
    assert sorted(api.get_user(pk).username for pk in FakePlatform().users_named("dana", 10, prefix=True)) == [
        "dmoss", "dreyes"]

    class Profiles:
        def filter(self, **conditions):
            assert set(conditions) == {"name__istartswith"}, conditions
            return types.SimpleNamespace(order_by=lambda field: types.SimpleNamespace(
                values_list=lambda name, flat=False: [7]))

    stand_in = types.ModuleType("common.djangoapps.student.models")
    stand_in.UserProfile = type("UserProfile", (), {"objects": Profiles()})
    monkeypatch.setitem(sys.modules, "common.djangoapps.student.models", stand_in)
    assert platform.EdxPlatform().users_named("Dana", 10, prefix=True) == [7]
