"""
Issue 25: one model of a policy (requirement sets only), the structured editor (no JSON typed), and
a preview before saving so that a typo never silently moves a course back.
"""
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from policy_form import policy_post
from rest_framework.test import APIClient

from miiwrap_fidelity import api
from miiwrap_fidelity.pages import requirement_set_rows as set_rows
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import CompetencyPolicy, LearnerStatus
from miiwrap_fidelity.rules import competency

from conftest import COURSE, assign_coach, make_user, one_set

pytestmark = pytest.mark.django_db
URL = reverse("miiwrap_fidelity:policy", args=[COURSE])
REST = f"/api/miiwrap-fidelity/v1/courses/{COURSE}/policy/"


@pytest.fixture
def mi_version(db):
    with open(api.SAMPLE_INSTRUMENTS[1], encoding="utf-8") as handle:
        return instruments.load(handle.read())[0]


@pytest.fixture
def ready_course(policy, lead, coach, coach2, course_key, observe):
    """Four learners ready for sign-off (three qualifying sessions each), one in progress."""
    learners = [make_user(f"ready{i}", first_name=f"Ready{i}", last_name="Person") for i in range(4)]
    slow = make_user("slow")
    for learner in learners + [slow]:
        assign_coach(lead, course_key, coach, learner)
    for learner in learners:
        for days in (30, 20, 10):
            observe(coach, learner, days_ago=days)
    observe(coach, slow, days_ago=5)
    assert sorted(LearnerStatus.objects.values_list("state", flat=True)) == ["in_progress"] + ["ready"] * 4
    return learners, slow


# --- one model -------------------------------------------------------------------------------------------

def test_the_policy_holds_requirement_sets_only(policy, version):
    assert not {"min_observations", "min_percent", "window_days", "critical_required",
                "min_distinct_observers"} & {field.name for field in CompetencyPolicy._meta.get_fields()}
    # the copied main instrument follows the first set, never an input
    assert policy.instrument_version_id == policy.requirement_sets[0]["instrument_version"] == version.pk


def test_the_main_instrument_follows_the_first_set(policy, lead, course_key, version, second_version):
    saved = api.save_policy(lead, course_key, requirement_sets=one_set(second_version) + one_set(version))
    assert saved.instrument_version_id == second_version.pk
    with pytest.raises(api.ValidationError) as refused:
        api.save_policy(lead, course_key, instrument_version=version.pk)
    assert "instrument_version" in refused.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_migration_0030_keeps_the_rules_and_goes_back(version):
    before, after = [("miiwrap_fidelity", "0029_program_completion")], [("miiwrap_fidelity", "0030_one_policy_model")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Policy = old.get_model("miiwrap_fidelity", "CompetencyPolicy")
    Policy.objects.create(course_key="course-v1:Old+A+1", instrument_version_id=version.pk, min_observations=4,
                          min_percent=75, window_days=90, critical_required=False, min_distinct_observers=2,
                          requirement_sets=[])
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = MigrationExecutor(connection).loader.project_state(after).apps
    stored = new.get_model("miiwrap_fidelity", "CompetencyPolicy").objects.get()
    assert stored.requirement_sets == [competency.simple_set(version.pk, 4, 75, 90, False, 2).as_dict()]
    executor = MigrationExecutor(connection)
    executor.migrate(before)  # back: the fields again, from the first set
    back = MigrationExecutor(connection).loader.project_state(before).apps.get_model(
        "miiwrap_fidelity", "CompetencyPolicy").objects.get()
    assert (back.min_observations, back.min_percent, back.window_days, back.critical_required,
            back.min_distinct_observers) == (4, 75, 90, False, 2)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("miiwrap_fidelity"))


# --- the structured editor --------------------------------------------------------------------------------

def test_the_editor_shows_each_set_as_fields_with_the_instruments_scores_by_name(client, policy, lead, course_key,
                                                                                mi_version, version):
    api.save_policy(lead, course_key, requirement_sets=one_set(version) + [{
        "instrument_version": mi_version.pk, "setting": "supervision", "min_observations": 2, "window_months": 12,
        "conditions": [{"measure": "summary", "key": "relational-global", "op": ">=", "value": 3.5}]}])
    client.force_login(lead)
    page = client.get(URL).content.decode()
    assert "requirement_sets" not in page and "<textarea" not in page  # no JSON to type
    second = page.split('id="mwf-set-1"', 1)[1].split("</fieldset>", 1)[0]
    assert f'<option value="{mi_version.pk}" selected>' in second
    assert '<option value="summary:relational-global" selected>Relational global mean</option>' in second
    assert 'name="set-1-window" id="set-1-window" value="12"' in second
    assert '<option value="months" selected>' in second and 'value="3.5"' in second
    first = page.split('id="mwf-set-0"', 1)[1].split("</fieldset>", 1)[0]
    assert "Relational global mean" not in first  # each set offers its own instrument's scores only


def test_editing_buttons_change_the_form_without_saving(client, policy, lead, version, second_version):
    client.force_login(lead)
    sets = one_set(version) + one_set(second_version, min_observations=1)
    stored = CompetencyPolicy.objects.get().requirement_sets
    added = client.post(URL, policy_post(sets, action="add_set"))
    assert added.status_code == 200 and 'id="mwf-set-2"' in added.content.decode()
    moved = client.post(URL, policy_post(sets, action="down:0")).content.decode()
    assert f'<option value="{second_version.pk}" selected>' in moved.split('id="mwf-set-0"')[1].split("</fieldset>")[0]
    removed = client.post(URL, policy_post(sets, action="remove_set:0")).content.decode()
    assert 'id="mwf-set-1"' not in removed
    condition = client.post(URL, policy_post(sets, action="add_condition:1")).content.decode()
    assert 'name="set-1-cond-1-measure"' in condition
    assert CompetencyPolicy.objects.get().requirement_sets == stored  # nothing saved


@pytest.mark.parametrize("action", ["remove_set:99", "up:0", "down:1", "remove_condition:0:9", "up:x", "nonsense",
                                    "remove_set:" + "9" * 400, "add_condition:-1"])
def test_an_editing_button_out_of_range_leaves_the_sets(action):
    rows = set_rows.rows_of(one_set(1) + one_set(2))
    assert set_rows.apply_action(rows, action) == rows


def test_rows_read_back_the_sets_they_show():
    sets = one_set(1, min_observations=2, essentials=False) + [{
        "instrument_version": 2, "setting": "role_play", "min_observations": 1, "window_days": 365,
        "window_months": 12, "min_distinct_observers": 1,
        "conditions": [{"measure": "summary", "key": "cr_share", "op": "<=", "value": 42.5},
                       {"measure": "percent", "op": ">=", "value": 70}, {"measure": "essentials"}]}]
    posted, _places = set_rows.sets_of(set_rows.rows_of(sets))
    assert posted[0] == {k: v for k, v in sets[0].items()}
    assert posted[1] == {k: v for k, v in sets[1].items() if k != "window_days"}  # months, as the lead chose


def test_errors_are_shown_beside_the_field_they_name(client, policy, lead, version):
    client.force_login(lead)
    post = policy_post(one_set(version) * 2, **{})
    post.update({"set-1-min_observations": "0", "set-1-cond-0-value": "eighty", "set-1-window": "61",
                 "set-1-window_unit": "months"})
    page = client.post(URL, post)
    assert page.status_code == 400
    second = page.content.decode().split('id="mwf-set-1"', 1)[1].split("</fieldset>", 1)[0]
    assert "Give a whole number from 1 to 50." in second and "Give a percent from 0 to 100." in second
    assert "Give a whole number from 1 to 60." in second
    assert 'id="mwf-set-0"' in page.content.decode() and "Give" not in page.content.decode().split(
        'id="mwf-set-0"', 1)[1].split("</fieldset>", 1)[0]


# --- the preview and the confirmation --------------------------------------------------------------------

def test_the_preview_counts_and_names_who_would_move_back(ready_course, lead, course_key, version):
    learners, _slow = ready_course
    preview = api.preview_policy(lead, course_key, requirement_sets=one_set(version, min_observations=5))
    assert (preview.evaluated, preview.total, preview.unchanged, preview.moved_back) == (5, 5, 1, 4)
    change, = preview.changes
    assert (change.before, change.after, change.count, change.moves_back) == ("ready", "in_progress", 4, True)
    assert change.people == ("Ready0 Person", "Ready1 Person", "Ready2 Person", "Ready3 Person")
    assert (change.before_label, change.after_label) == ("Ready for sign-off", "In progress")
    assert set(LearnerStatus.objects.values_list("state", flat=True)) == {"ready", "in_progress"}  # nothing written
    easier = api.preview_policy(lead, course_key, requirement_sets=one_set(version, min_observations=1))
    assert [(c.before, c.after, c.count, c.moves_back) for c in easier.changes] == [
        ("in_progress", "ready", 1, False)]


def test_the_preview_reads_a_bounded_number_of_queries(ready_course, lead, course_key, version,
                                                       django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        api.preview_policy(lead, course_key, requirement_sets=one_set(version, min_observations=5))


def test_the_preview_reads_the_first_learners_of_a_large_course(ready_course, lead, course_key, version,
                                                                monkeypatch):
    from miiwrap_fidelity.api import policy_preview  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(policy_preview, "PREVIEW_LEARNERS", 3)
    preview = api.preview_policy(lead, course_key, requirement_sets=one_set(version, min_observations=5))
    assert (preview.evaluated, preview.total) == (3, 5)


def test_the_typo_case_previews_every_learner_moving_back_and_saving_is_refused(client, ready_course, lead,
                                                                                version):
    """The issue's case: 3 typed as 30 would move every ready learner back; the page refuses it unconfirmed."""
    client.force_login(lead)
    typo = one_set(version, min_observations=30)
    preview = client.post(URL, policy_post(typo, action="preview")).content.decode()
    assert "4 learners: Ready for sign-off → In progress" in preview
    assert "Ready0 Person, Ready1 Person, Ready2 Person, Ready3 Person" in preview
    refused = client.post(URL, policy_post(typo))
    assert refused.status_code == 200  # not saved: the preview asks for the confirmation
    assert "Saving would move 4 of 5 learners back" in refused.content.decode()
    assert "Set 1: qualifying observations 3 → 30" in refused.content.decode()  # which change does it
    assert 'value="confirm_save">Save anyway: 4 learners move back</button>' in refused.content.decode()
    assert CompetencyPolicy.objects.get().requirement_sets[0]["min_observations"] == 3
    token = refused.content.decode().split('name="previewed" value="', 1)[1].split('"', 1)[0]
    assert client.post(URL, {**policy_post(typo, confirm=True), "previewed": token}).status_code == 302
    assert CompetencyPolicy.objects.get().requirement_sets[0]["min_observations"] == 30


def test_a_change_that_moves_nobody_back_saves_at_once(client, ready_course, lead, version):
    client.force_login(lead)
    assert client.post(URL, policy_post(one_set(version, min_observations=1))).status_code == 302
    assert CompetencyPolicy.objects.get().requirement_sets[0]["min_observations"] == 1


def test_rest_previews_and_needs_a_confirmation_to_move_learners_back(ready_course, lead, version):
    client = APIClient()
    client.force_authenticate(lead)
    typo = {"requirement_sets": one_set(version, min_observations=30)}
    preview = client.post(REST + "preview/", typo, format="json")
    assert preview.status_code == 200
    body = preview.json()
    assert (body["evaluated"], body["moved_back"]) == (5, 4)
    assert body["changes"][0]["learners"][0] == {"id": ready_course[0][0].pk, "username": "ready0",
                                                 "name": "Ready0 Person"}
    refused = client.patch(REST, typo, format="json")
    assert refused.status_code == 400 and "Saving would move 4 of 5" in refused.json()["confirm_moves_back"][0]
    saved = client.patch(REST, {**typo, "confirm_moves_back": True}, format="json")
    assert saved.status_code == 200 and saved.json()["requirement_sets"][0]["min_observations"] == 30
    assert "confirm_moves_back" not in saved.json()


def test_a_bad_preview_is_a_400_naming_the_place(ready_course, lead, version):
    client = APIClient()
    client.force_authenticate(lead)
    response = client.post(REST + "preview/", {"requirement_sets": [{"instrument_version": version.pk}]},
                           format="json")
    assert response.status_code == 400 and "requirement_sets[0].min_observations" in response.json()
    assert json.loads(response.content)  # a message, never a page


def test_moves_back_are_the_states_order():
    assert competency.moves_back("certified", "ready") and competency.moves_back("ready", "in_progress")
    assert not competency.moves_back("in_progress", "ready") and not competency.moves_back("expired", "in_progress")


# --- the review's findings (each reproduced first) ---------------------------------------------------------

def test_leaving_a_program_that_shares_evidence_needs_a_confirmation(ready_course, lead, version, course_key):
    """Leaving program p1 re-evaluated the other course's learners (ready -> not started) with no word."""
    other = api.parse_course_key("course-v1:MiiWrap+OTHER+2026")
    from sandbox.models import CourseRole  # pylint: disable=import-outside-toplevel
    CourseRole.objects.create(course_key=other, user=lead, role="staff")
    api.save_policy(lead, other, requirement_sets=one_set(version), program="p1")
    api.save_policy(lead, course_key, program="p1")
    client = APIClient()
    client.force_authenticate(lead)
    preview = client.post(REST + "preview/", {"program": ""}, format="json").json()
    assert (preview["other_courses"], preview["needs_confirmation"]) == (1, True)
    refused = client.patch(REST, {"program": ""}, format="json")
    assert refused.status_code == 400 and "1 other course" in refused.json()["confirm_moves_back"][0]
    assert CompetencyPolicy.objects.get(course_key=course_key).program == "p1"
    assert client.patch(REST, {"program": "", "confirm_moves_back": True}, format="json").status_code == 200


def test_a_condition_without_a_score_is_refused_never_taken_as_a_percent(client, policy, lead, version):
    client.force_login(lead)
    post = policy_post(one_set(version))
    post.update({"set-0-conditions": 2, "set-0-cond-1-measure": "", "set-0-cond-1-op": ">=", "set-0-cond-1-value": "4"})
    response = client.post(URL, post)
    assert response.status_code == 400 and "Choose a score for this condition." in response.content.decode()
    assert CompetencyPolicy.objects.get().requirement_sets == one_set(version)


def test_a_score_the_new_instrument_lacks_stays_chosen_and_is_refused(client, policy, lead, course_key, version,
                                                                      mi_version):
    """Choosing another instrument turned 'relational-global >= 3.5' into 'percent >= 3.5' on saving."""
    sets = one_set(version) + [{"instrument_version": mi_version.pk, "min_observations": 1, "window_days": 90,
                                "conditions": [{"measure": "summary", "key": "relational-global", "op": ">=",
                                                "value": 3.5}]}]
    api.save_policy(lead, course_key, requirement_sets=sets)
    client.force_login(lead)
    post = policy_post(CompetencyPolicy.objects.get().requirement_sets, action="refresh")
    post["set-1-instrument_version"] = version.pk
    shown = client.post(URL, post).content.decode().split('id="mwf-set-1"', 1)[1]
    assert '<option value="summary:relational-global" selected>relational-global (not a score of this instrument)' \
        in shown
    post["action"] = "save"
    refused = client.post(URL, post)
    assert refused.status_code == 400 and "has no summary score relational-global" in refused.content.decode()
    assert CompetencyPolicy.objects.get().requirement_sets[1]["conditions"][0]["measure"] == "summary"


def test_an_earlier_stage_needs_rights_in_that_course(ready_course, lead, version, course_key):
    """The preview told a course's staff who is certified in a course where they have no role."""
    other = api.parse_course_key("course-v1:MiiWrap+OTHER+2026")
    outsider = make_user("staff_other")
    from sandbox.models import CourseRole  # pylint: disable=import-outside-toplevel
    CourseRole.objects.create(course_key=other, user=outsider, role="staff")
    api.save_policy(outsider, other, requirement_sets=one_set(version))
    with pytest.raises(api.ValidationError) as refused:
        api.preview_policy(lead, course_key, prerequisite_course=str(other))
    assert "course staff there too" in refused.value.message_dict["prerequisite_course"][0]
    assert api.stage_choices(lead, course_key) == []  # not offered either
    CourseRole.objects.create(course_key=other, user=lead, role="staff")
    assert api.stage_choices(lead, course_key) == [(str(other), str(other))]
    assert api.preview_policy(lead, course_key, prerequisite_course=str(other)).moved_back == 4


@pytest.mark.parametrize("field, value", [("sets", "9" * 5000), ("set-0-conditions", "9" * 5000),
                                          ("action", "down:" + "9" * 5000), ("set-0-cond-0-value", "9" * 5000),
                                          ("sets", "21"), ("set-0-conditions", "-1"), ("sets", "")])
def test_huge_numbers_in_the_form_are_answered_not_a_500(client, policy, lead, version, field, value):
    client.force_login(lead)
    for action in ("save", "add_set"):
        post = {**policy_post(one_set(version), action=action), field: value}
        assert client.post(URL, post).status_code in (200, 302, 400)
    assert CompetencyPolicy.objects.get().requirement_sets in (one_set(version),)


def test_a_save_without_the_sets_changes_nothing(client, policy, lead, version, second_version, course_key):
    api.save_policy(lead, course_key, requirement_sets=one_set(version) + one_set(second_version))
    client.force_login(lead)
    post = {k: v for k, v in policy_post(one_set(version)).items() if not k.startswith("set")}
    response = client.post(URL, post)
    assert response.status_code == 400 and "were not sent whole" in response.content.decode()
    assert len(CompetencyPolicy.objects.get().requirement_sets) == 2


def test_the_confirmation_holds_for_the_change_previewed_only(client, ready_course, lead, version):
    client.force_login(lead)
    previewed = client.post(URL, policy_post(one_set(version, min_observations=4), action="preview"))
    token = previewed.content.decode().split('name="previewed" value="', 1)[1].split('"', 1)[0]
    other = {**policy_post(one_set(version, min_observations=50), confirm=True), "previewed": token}
    changed = client.post(URL, other)  # another change than the one confirmed: previewed again, not saved
    assert changed.status_code == 200 and "changed after its preview" in changed.content.decode()
    assert CompetencyPolicy.objects.get().requirement_sets[0]["min_observations"] == 3
    same = {**policy_post(one_set(version, min_observations=4), confirm=True), "previewed": token}
    assert client.post(URL, same).status_code == 302
    assert CompetencyPolicy.objects.get().requirement_sets[0]["min_observations"] == 4
