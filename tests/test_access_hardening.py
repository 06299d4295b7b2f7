"""
Regressions of issue #13, each through the path where it was found: cross-coach draft writes,
restricted tokens, reads that wrote, drafts in exports, co-ratings by id, 500s on odd input, open
redirects, NUL bytes, admin edits without audit, uncapped drafts and comments, caching, CSV cells.
"""
import csv
import io
import json

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records import exports
from miiwrap_fidelity.records.models import (
    CoachAssignment,
    CompetencyPolicy,
    DriftAlert,
    LearnerStatus,
    Observation,
    Reflection,
    ReflectionComment,
)
from miiwrap_fidelity.rules import validation

from conftest import COURSE, assign_coach, ratings_for
from xblock_support import REFLECTION, SIGNOFF, call, handler_url, view

pytestmark = pytest.mark.django_db
API = f"/api/miiwrap-fidelity/v1/courses/{COURSE}"
TODAY = timezone.now().date().isoformat()


def page(name, *args):
    return reverse(f"miiwrap_fidelity:{name}", args=[COURSE, *args])


def draft_of(observer, learner, course_key, indicators, note="first coach's notes"):
    return api.save_observation(observer, learner, course_key, {
        "practice_date": TODAY, "setting": "home_visit", "overall_note": note,
        "ratings": ratings_for(indicators)}).observation


def form(indicators, **extra):
    data = {"practice_date": TODAY, "setting": "supervision", "overall_note": "second coach's notes"}
    data.update({f"rating-{ind.key}": "met" for ind in indicators})
    data.update(extra)
    return data


def unchanged(draft):
    saved = Observation.objects.get(pk=draft.pk)
    return (saved.observer_id, saved.overall_note, saved.revision, saved.status) == (
        draft.observer_id, draft.overall_note, draft.revision, Observation.DRAFT)


# --- 1. one owner rule for drafts -------------------------------------------------------------------

@pytest.mark.parametrize("action", ["draft", "submit"])
def test_second_coach_cannot_write_first_coachs_draft_through_the_page(client, assigned, coach, coach2, course_key,
                                                                       indicators, action):
    draft = draft_of(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    response = client.post(page("record_observation", assigned.pk), form(
        indicators, observation_id=draft.pk, revision=draft.revision, action=action))
    assert response.status_code == 403
    assert unchanged(draft) and Observation.objects.get(pk=draft.pk).ratings.count() == len(indicators)


@pytest.mark.parametrize("submit", [False, True])
def test_second_coach_cannot_write_first_coachs_draft_through_the_block(client, workbench, assigned, coach, coach2,
                                                                        course_key, indicators, submit):
    draft = draft_of(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    status, body = call(client, SIGNOFF, "record_observation", {
        "learner_id": assigned.pk, "observation_id": draft.pk, "revision": draft.revision, "submit": submit,
        "practice_date": TODAY, "setting": "supervision", "overall_note": "mine now",
        "ratings": ratings_for(indicators)})
    assert status == 403 and "observer" in body["error"]
    assert unchanged(draft)


def test_second_coach_cannot_patch_first_coachs_draft_through_rest(client, assigned, coach, coach2, course_key,
                                                                   indicators):
    draft = draft_of(coach, assigned, course_key, indicators)
    client.force_login(coach2)
    response = client.patch(f"{API}/observations/{draft.pk}/", json.dumps({
        "practice_date": TODAY, "setting": "supervision", "revision": draft.revision, "submit": True}),
        content_type="application/json")
    assert response.status_code == 404
    assert unchanged(draft)


def test_revision_is_required_on_the_page_and_in_the_block(client, workbench, assigned, coach, course_key,
                                                           indicators):
    draft = draft_of(coach, assigned, course_key, indicators)
    client.force_login(coach)
    response = client.post(page("record_observation", assigned.pk), form(indicators, observation_id=draft.pk))
    assert response.status_code == 400 and "revision" in response.context["form_errors"]
    status, body = call(client, SIGNOFF, "record_observation", {
        "learner_id": assigned.pk, "observation_id": draft.pk, "practice_date": TODAY, "setting": "supervision"})
    assert status == 400 and "revision" in body["errors"]
    assert unchanged(draft)


def test_a_stale_revision_is_a_409_with_the_current_one_on_every_path(client, workbench, assigned, coach,
                                                                      course_key, indicators):
    draft = draft_of(coach, assigned, course_key, indicators)
    api.save_observation(coach, assigned, course_key, {"practice_date": TODAY, "setting": "home_visit",
                                                       "revision": draft.revision}, observation_id=draft.pk)
    current = draft.revision + 1
    client.force_login(coach)
    response = client.post(page("record_observation", assigned.pk),
                           form(indicators, observation_id=draft.pk, revision=draft.revision))
    assert response.status_code == 409 and "revision" in response.context["form_errors"]
    status, body = call(client, SIGNOFF, "record_observation", {
        "learner_id": assigned.pk, "observation_id": draft.pk, "revision": draft.revision, "practice_date": TODAY,
        "setting": "supervision"})
    assert status == 409 and body["current_revision"] == current
    response = client.patch(f"{API}/observations/{draft.pk}/", json.dumps({
        "practice_date": TODAY, "setting": "supervision", "revision": draft.revision}),
        content_type="application/json")
    assert response.status_code == 409 and response.json()["current_revision"] == current
    assert Observation.objects.get(pk=draft.pk).revision == current


# --- 2. restricted tokens ---------------------------------------------------------------------------

def restricted_token(user):
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt  # pylint: disable=all

    return generate_jwt(user, scopes=["email"], is_restricted=True)


def test_a_restricted_application_token_neither_reads_nor_writes(client, ready_learner, coach, indicators):
    auth = {"HTTP_AUTHORIZATION": f"JWT {restricted_token(coach)}"}
    assert client.get(f"{API}/observations/?learner={ready_learner.pk}", **auth).status_code == 403
    before = Observation.objects.count()
    response = client.post(f"{API}/observations/", json.dumps({
        "learner": ready_learner.pk, "practice_date": TODAY, "setting": "home_visit",
        "ratings": ratings_for(indicators)}), content_type="application/json", **auth)
    assert response.status_code == 403 and Observation.objects.count() == before
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt  # pylint: disable=all

    unrestricted = {"HTTP_AUTHORIZATION": f"JWT {generate_jwt(coach)}"}
    assert client.get(f"{API}/observations/?learner={ready_learner.pk}", **unrestricted).status_code == 200


# --- 3. reads never write ---------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["coach", "lead", "admin"])
def test_reading_ones_own_status_creates_no_row(client, assigned, coach, lead, who, django_user_model):
    user = {"coach": coach, "lead": lead,
            "admin": django_user_model.objects.create_superuser("root", "root@example.com", "x")}[who]
    rows = LearnerStatus.objects.count()
    client.force_login(user)
    response = client.get(page("my_competency"))
    assert response.status_code == 200 and "Not enrolled in this course." in response.content.decode()
    assert client.get(f"{API}/certifications/").status_code == 200
    response = client.get(f"{API}/learners/{user.pk}/")
    assert response.status_code in (403, 404)
    assert LearnerStatus.objects.count() == rows
    assert not LearnerStatus.objects.filter(learner=user).exists()


def test_an_unenrolled_learner_is_told_so_and_not_listed(client, policy, lead, learner):
    client.force_login(learner)
    response = client.get(f"{API}/learners/{learner.pk}/")
    assert response.status_code == 404 and "Not enrolled in this course." in response.json()["detail"]
    client.force_login(lead)
    listed = client.get(f"{API}/learners/").json()
    assert learner.pk not in [row["learner"]["id"] for row in listed["results"]]


def test_a_stale_row_is_decided_again_on_read_and_stored_by_the_task(client, ready_learner, course_key):
    from miiwrap_fidelity import tasks  # pylint: disable=import-outside-toplevel

    status = LearnerStatus.objects.get(learner=ready_learner)
    assert status.state == "ready"
    past = timezone.now() - timezone.timedelta(minutes=1)
    LearnerStatus.objects.filter(pk=status.pk).update(state="in_progress", stale_after=past)
    client.force_login(ready_learner)
    body = client.get(f"{API}/learners/{ready_learner.pk}/").json()
    assert body["state"] == "ready", "decided again in memory"
    assert LearnerStatus.objects.get(pk=status.pk).state == "in_progress", "the read wrote nothing"
    assert tasks.refresh_stale_statuses() == 1
    assert LearnerStatus.objects.get(pk=status.pk).state == "ready"


# --- 4. exports and co-ratings ----------------------------------------------------------------------

def export(client, lead, kind):
    client.force_login(lead)
    response = client.get(page("export", kind))
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_exports_hold_submitted_evidence_only(client, ready_learner, coach, lead, course_key, indicators):
    draft = draft_of(coach, ready_learner, course_key, indicators)
    observations = export(client, lead, "observations")
    assert len(observations) == 4 and str(draft.pk) not in [row[0] for row in observations[1:]]
    assert {row[observations[0].index("status")] for row in observations[1:]} == {"submitted"}
    ratings = export(client, lead, "ratings")
    assert len(ratings) == 1 + 3 * len(indicators)
    assert str(draft.pk) not in {row[0] for row in ratings[1:]}


def test_a_learner_cannot_read_a_co_rating_of_their_session_by_id(client, assigned, coach, coach2, course_key,
                                                                  indicators):
    primary = draft_of(coach, assigned, course_key, indicators)
    second = api.save_observation(coach2, assigned, course_key, {
        "co_observation_of": primary.pk, "ratings": ratings_for(indicators)}, submit=True).observation
    api.save_observation(coach, assigned, course_key, {"practice_date": TODAY, "setting": "home_visit",
                                                       "ratings": ratings_for(indicators), "revision": 1},
                         observation_id=primary.pk, submit=True)
    client.force_login(assigned)
    listed = [o["id"] for o in client.get(f"{API}/observations/").json()["results"]]
    assert primary.pk in listed and second.pk not in listed
    assert client.get(f"{API}/observations/{second.pk}/").status_code == 404
    assert client.get(f"{API}/observations/{primary.pk}/").status_code == 200
    client.force_login(coach)
    assert client.get(f"{API}/observations/{second.pk}/").status_code == 200, "both submitted: visible"


# --- 5. 400s with a message, not 500s ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["observations/?learner=²", "signoffs/?learner=١٢", "learners/?coach=" + "1" * 31,
                                  "reflections/?learner=-1", "certifications/?learner=99999999999999999999"])
def test_odd_ids_in_rest_queries_are_400s(client, assigned, lead, path):
    client.force_login(lead)
    response = client.get(f"{API}/{path}")
    assert response.status_code == 400 and response.json()


@pytest.mark.parametrize("query", ["draft=²", "corate=²", "reference=²", "draft=" + "9" * 30])
def test_odd_ids_in_page_queries_are_400s(client, assigned, coach, query):
    client.force_login(coach)
    assert client.get(page("learner_detail", assigned.pk) + "?" + query).status_code == 400


def test_a_huge_coach_filter_is_a_400_on_the_workspace(client, assigned, lead):
    client.force_login(lead)
    response = client.get(page("workspace"), {"coach": str(10 ** 30)})
    assert response.status_code == 400 and "coach" in response.context["form_errors"]


@pytest.mark.parametrize("field, value", [("learner_id", "²"), ("observation_id", "²"), ("observation_id", 10 ** 30),
                                          ("setting", ["home_visit"]), ("setting", {"a": 1}),
                                          ("co_observation_of", "³"), ("ratings", [[]])])
def test_odd_block_input_is_a_400(client, workbench, assigned, coach, field, value):
    client.force_login(coach)
    before = Observation.objects.count()
    status, body = call(client, SIGNOFF, "record_observation", {
        "learner_id": assigned.pk, "practice_date": TODAY, "setting": "home_visit", field: value})
    assert status == 400 and body["errors"]
    assert Observation.objects.count() == before


def nested(depth):
    return "[" * depth + "]" * depth


def test_deeply_nested_json_is_a_400_in_rest_and_block_handlers(client, workbench, assigned, coach):
    client.force_login(coach)
    body = '{"learner": %d, "ratings": %s}' % (assigned.pk, nested(50_000))
    response = client.post(f"{API}/observations/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    response = client.post(handler_url(SIGNOFF, "record_observation"), '{"x": %s}' % nested(50_000),
                           content_type="application/json")
    assert response.status_code == 400 and json.loads(response.content)["errors"]
    shallow_but_deep = '{"ratings": %s}' % nested(validation.MAX_JSON_DEPTH + 1)
    response = client.post(f"{API}/observations/", shallow_but_deep, content_type="application/json")
    assert response.status_code == 400


def test_a_prompt_id_that_is_not_text_is_a_400(client, workbench, lead):
    client.force_login(lead)
    status, body = call(client, REFLECTION, "studio_submit", {
        "display_name": "x", "min_length": 10, "self_rating": False,
        "prompts": [{"id": ["p1"], "text": "Why?", "indicators": []}]})
    assert status == 400 and body["errors"]


def test_an_unknown_handler_is_a_404(client, workbench, coach):
    client.force_login(coach)
    response = client.post(handler_url(SIGNOFF, "no_such_handler"), "{}", content_type="application/json")
    assert response.status_code == 404


def test_leaders_page_without_a_policy_is_a_400(client, lead):
    client.force_login(lead)
    response = client.get(page("leaders"))
    assert response.status_code == 400 and b"no competency policy" in response.content


# --- 6. redirects, NUL bytes, admin, caps, caching, CSV ---------------------------------------------

@pytest.fixture
def alert(assigned, course_key):
    return DriftAlert.objects.create(course_key=course_key, learner=assigned, kind=DriftAlert.BELOW_BAND,
                                     details={"rolling": 60, "adequate": 70})


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example/x", "//evil.example",
                                    "///evil.example", "https:evil.example", "/\\evil.example", "0", "alerts"])
def test_acknowledge_never_redirects_off_site(client, alert, coach, target):
    client.force_login(coach)
    response = client.post(page("acknowledge_alert", alert.pk), {"plan_note": "", "next": target})
    assert response.status_code == 302 and response["Location"] == page("alerts")


def test_acknowledge_follows_a_local_next(client, alert, coach):
    client.force_login(coach)
    response = client.post(page("acknowledge_alert", alert.pk), {"plan_note": "", "next": page("workspace")})
    assert response["Location"] == page("workspace")


def test_nul_bytes_are_refused_on_the_page_and_in_the_block(client, workbench, assigned, coach, indicators):
    client.force_login(coach)
    response = client.post(page("record_observation", assigned.pk), form(indicators, overall_note="a\x00b"))
    assert response.status_code == 400 and "overall_note" in response.context["form_errors"]
    status, body = call(client, SIGNOFF, "record_observation", {
        "learner_id": assigned.pk, "practice_date": TODAY, "setting": "home_visit", "overall_note": "a\x00b"})
    assert status == 400 and "overall_note" in body["errors"]
    assert not Observation.objects.exists()


@pytest.mark.parametrize("model", [CompetencyPolicy, CoachAssignment])
def test_policies_and_assignments_are_read_only_in_admin(client, assigned, model, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)
    record = model.objects.first()
    url = reverse(f"admin:miiwrap_fidelity_{model._meta.model_name}_change", args=[record.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"min_observations": 1, "coach": root.pk}).status_code == 403
    model_admin = admin.site._registry[model]  # pylint: disable=protected-access
    request = type("Request", (), {"user": root})()
    assert not model_admin.has_add_permission(request) and not model_admin.has_delete_permission(request)


def test_open_drafts_per_observer_and_learner_are_capped(assigned, coach, coach2, course_key, indicators,
                                                         monkeypatch):
    from miiwrap_fidelity.api import observations  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(observations, "MAX_OPEN_DRAFTS", 2)
    draft_of(coach, assigned, course_key, indicators)
    draft_of(coach, assigned, course_key, indicators)
    with pytest.raises(api.ValidationError) as caught:
        draft_of(coach, assigned, course_key, indicators)
    assert "observation" in caught.value.message_dict
    draft_of(coach2, assigned, course_key, indicators)  # per observer
    assert Observation.objects.count() == 3


def test_comments_per_reflection_are_capped(assigned, coach, course_key, monkeypatch):
    from miiwrap_fidelity.api import reflection_records  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(reflection_records, "MAX_COMMENTS_PER_REFLECTION", 2)
    reflection = Reflection.objects.create(learner=assigned, course_key=course_key, block_id="b", title="t",
                                           prompts=[], answers={}, status=Reflection.SUBMITTED,
                                           submitted_at=timezone.now())
    api.comment_on_reflection(coach, reflection.pk, "one")
    api.comment_on_reflection(coach, reflection.pk, "two")
    with pytest.raises(api.ValidationError):
        api.comment_on_reflection(coach, reflection.pk, "three")
    assert ReflectionComment.objects.count() == 2


def test_personal_answers_are_not_cached(client, workbench, ready_learner, lead):
    client.force_login(ready_learner)
    answers = [client.get(page("my_competency")), client.get(f"{API}/observations/"),
               client.post(handler_url(SIGNOFF, "learner_state"), "{}", content_type="application/json")]
    client.force_login(lead)
    answers += [client.get(page("export", "observations")), client.get(page("workspace"))]
    for response in answers:
        assert "no-store" in response["Cache-Control"], response


@pytest.mark.parametrize("value", ["x;=1+1", "\u200b=1+1", "\ufeff+cmd", " \t@SUM(A1)", "ok; -2+3"])
def test_csv_cells_that_may_read_as_formulas_are_neutralised(value):
    assert exports.safe(value) == "'" + value


@pytest.mark.parametrize("value", ["plain text", "a - b", "x; y", "", 42])
def test_ordinary_csv_cells_are_kept(value):
    assert exports.safe(value) == value


def test_export_text_cells_are_quoted(client, assigned, coach, lead, course_key, indicators):
    api.save_observation(coach, assigned, course_key, {"practice_date": TODAY, "setting": "home_visit",
                                                       "overall_note": "x;=1+1", "ratings": ratings_for(indicators)},
                         submit=True)
    client.force_login(lead)
    text = b"".join(client.get(page("export", "observations")).streaming_content).decode("utf-8-sig")
    assert "\"'x;=1+1\"" in text, "quoted: a ';' spreadsheet keeps it one cell"


def test_a_stranger_is_not_created_as_a_learner_by_the_block(client, workbench, policy, stranger):
    client.force_login(stranger)
    assert "Not enrolled in this course." in view(client, SIGNOFF)
    assert not LearnerStatus.objects.filter(learner=stranger).exists()


def test_reconcile_enrollments_clears_rows_the_old_read_path_made(policy, lead, coach, learner, course_key,
                                                                  stranger):
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    from sandbox.enrollment import enroll  # pylint: disable=import-outside-toplevel
    from sandbox.models import Enrollment  # pylint: disable=import-outside-toplevel

    enroll(learner, course_key)
    assign_coach(lead, course_key, coach, stranger)  # a record: kept, marked as having left
    Enrollment.objects.filter(user=stranger).delete()  # gone from the platform without an event
    LearnerStatus.objects.create(learner=lead, course_key=course_key, evaluated_at=timezone.now())  # the old bug
    out = io.StringIO()
    call_command("reconcile_enrollments", COURSE, stdout=out)
    assert "Would reconcile 2" in out.getvalue() and LearnerStatus.objects.count() == 3
    call_command("reconcile_enrollments", COURSE, "--apply", stdout=out)
    rows = {row.learner_id: row.enrolled for row in LearnerStatus.objects.all()}
    assert rows == {learner.pk: True, stranger.pk: False}


def test_exports_keep_co_ratings_blind_for_the_exporting_co_rater(client, assigned, coach, lead, course_key,
                                                                  indicators):
    """Staff who co-rate a session do not see the first rating in an export before submitting their own."""
    primary = draft_of(coach, assigned, course_key, indicators)
    co_rating = api.save_observation(lead, assigned, course_key, {
        "co_observation_of": primary.pk, "ratings": ratings_for(indicators)}).observation
    api.save_observation(coach, assigned, course_key, {"practice_date": TODAY, "setting": "home_visit",
                                                       "ratings": ratings_for(indicators), "revision": 1},
                         observation_id=primary.pk, submit=True)
    assert [row[0] for row in export(client, lead, "observations")[1:]] == []
    assert {row[0] for row in export(client, lead, "ratings")[1:]} == set()
    api.save_observation(lead, assigned, course_key, {"practice_date": TODAY, "setting": "home_visit",
                                                      "ratings": ratings_for(indicators), "revision": 1},
                         observation_id=co_rating.pk, submit=True)
    assert [row[0] for row in export(client, lead, "observations")[1:]] == [str(primary.pk), str(co_rating.pk)]
    assert {row[0] for row in export(client, lead, "ratings")[1:]} == {str(primary.pk), str(co_rating.pk)}


def test_the_demo_seed_follows_the_owner_rule(db):
    """seed_demo continues its own draft with the revision it read (it broke when revision became required)."""
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    call_command("seed_demo", stdout=io.StringIO())
    co_rated = Observation.objects.filter(co_ratings__isnull=False).get()
    assert co_rated.status == Observation.SUBMITTED and co_rated.revision == 2
