"""
Server-rendered pages: the learner's growth page and the coach workspace.

Each view checks permissions through ``api``; bad input re-renders the form with messages and
HTTP 400, a refused action answers 403.
"""
import base64
import hashlib
import hmac
from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from .. import api
from ..api import Conflict, NotFound, PermissionDenied, ValidationError
from ..wording import field_errors, growth_chart
from . import coaching_plans
from .access import course_view, retrying_view

PAGE_SIZE = 25
#: The session entry holding the submission token of the observation form's last recorded post.
CONFIRMED_SUBMISSION = "miiwrap_fidelity.confirmed_submission"
EXPORT_KINDS = [("learners", gettext_lazy("learners' status")), ("observations", gettext_lazy("observations")),
                ("ratings", gettext_lazy("indicator ratings")), ("signoffs", gettext_lazy("sign-offs")),
                ("certifications", gettext_lazy("certifications")), ("program", gettext_lazy("program progress"))]


#: What the observation form's autosave says (observation_form.js), in the page's language.
AUTOSAVE_MESSAGES = {
    "saved": gettext_lazy("Saved in this browser."),
    "restored": gettext_lazy("Restored what you entered earlier in this browser (not yet sent)."),
    "offline": gettext_lazy("You are offline: the observation is kept in this browser and will be sent when "
                            "the connection is back."),
    "sending": gettext_lazy("Back online: sending the observation…"),
    "discarded": gettext_lazy("A draft left in this browser by an earlier sign-in was discarded (nothing of it "
                              "was sent)."),
}


def autosave_owner(request):
    """
    Whose drafts a page may keep in the browser: the signed-in user in this sign-in (a tag of the
    session, not the session key). Drafts of anyone else, or of an earlier sign-in, are discarded
    when a page loads: a shared computer keeps no one's notes for the next person (issue 24).
    """
    session_key = getattr(request.session, "session_key", None) or ""
    tag = hashlib.sha256(f"miiwrap-autosave:{session_key}".encode()).hexdigest()[:16]
    return f"u{request.user.pk}s{tag}"


def autosave_secret(request):
    """
    The key the browser encrypts this sign-in's drafts with (AES-GCM, base64): an HMAC of the session
    key under the site's secret, so it exists only while the session does (the session key is in the
    cookie signing out deletes; the site's secret never leaves the server). After signing out a draft
    left in the browser can no longer be read, by the next person or anyone (issue 24). Nothing is
    stored for it; the pages that serve it are never cached. Empty without a session.
    """
    session_key = getattr(request.session, "session_key", None)
    if not session_key:
        return ""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"miiwrap-autosave-key:{session_key}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def _learner_or_400(learner_id):
    try:
        return api.get_user(learner_id, "learner"), None
    except ValidationError:
        return None, HttpResponseBadRequest(_("No such learner."))


def _status_context(viewer, learner, course_key):
    policy = api.get_policy(course_key)
    if policy is None:
        return {"policy": None}
    try:
        status = api.learner_status(viewer, learner, course_key)
    except api.NotEnrolled as exc:
        return {"policy": policy, "not_enrolled": " ".join(exc.messages)}
    return {
        "policy": policy,
        "status": status,
        "reasons": api.status_reason_sentences(status, reviewer=viewer.pk != learner.pk),
        # The latest certification, lapsed ones included (the status row keeps only an active one).
        "certification": api.certification_status(viewer, learner, course_key),
        "program_progress": api.program_progress(viewer, learner, course_key),  # None outside a program (ADR 0025)
    }


def _growth_context(viewer, learner, course_key, policy, history):
    """
    The growth section: charts of the latest observations (``api.growth_observations``) and the
    strengths and next steps of the history page shown (``history``, a page of observations).
    """
    # Sessions a learner still has to rate show no score: they rate them blind (ADR 0014). Only the
    # observations the indicator table shows come with their ratings (the score chart reads scores).
    recent = [o for o in api.growth_observations(viewer, learner, course_key, rated=growth_chart.TREND_COLUMNS)
              if not o.blinded]
    indicators = api.policy_indicators(policy.course_key) if policy else []
    trend_rows, trend_dates = growth_chart.indicator_trend(recent, indicators)
    points = growth_chart.score_points(recent, api.qualifying_ids(policy, recent))
    return {
        # Built by growth_chart.score_trend_svg from numbers and escaped text only.
        "trend_svg": mark_safe(growth_chart.score_trend_svg(points, api.qualifying_percent(policy))),  # nosec
        "score_points": points,
        "trend_rows": trend_rows, "trend_dates": trend_dates,
        "timeline": growth_chart.feedback_timeline(history.object_list),
        "history": history, "observations": history.object_list,
        # focus after focus (issue 31): what was agreed after each session shown
        "session_focus": api.focus_by_session(viewer, learner, course_key, [o.pk for o in history.object_list]),
    }


def _people_names(learner, context):
    """
    Full names (``api.full_names``, one query) of everyone the learner's pages name: the learner,
    observers (history, timeline, self-assessments, evidence, open sessions), sign-off actors,
    correction authors, comment authors and whoever acknowledged a drift alert.
    """
    people = [learner]
    for observation in list(context.get("observations") or []) + list(context.get("open_sessions") or []):
        people.append(observation.observer)
        if observation.amendment:
            people.append(observation.amendment.author)
    people += [draft.observer for draft in context.get("drafts") or []]  # the viewer's own, on any history page
    people += [assessment.observer for assessment in context.get("self_assessments") or []]
    people += [signoff.actor for signoff in context.get("signoffs") or []]
    people += [comment.author for reflection in context.get("reflections") or [] for comment in reflection.comments]
    people += [row["alert"].acknowledged_by for row in context.get("alert_rows") or []]
    evidence = context.get("evidence")
    people += [observation.observer for observation in evidence.observations] if evidence else []
    return api.full_names(person.pk for person in people if person is not None)


@course_view
def my_competency(request, course_key, form_errors=None, http_status=200, assessed=None, entered=None):
    """
    The learner's own growth page: status, what remains, feedback and trends over time;
    ``form_errors`` of the self-assessment of observation ``assessed`` (named by its rubric), whose
    form shows again what the learner ``entered``.
    """
    context = _status_context(request.user, request.user, course_key)
    history = api.history_page(request.user, request.user, course_key, request.GET.get("history"))
    learner_status = context.get("status")
    context.update(course_key=course_key, learner=request.user, for_learner=True,
                   evidence=api.certified_evidence(request.user, request.user, course_key)
                   if learner_status and learner_status.certification else None,
                   reflections=api.reflections_for(request.user, request.user, course_key),
                   alert_rows=api.drift_alert_rows(request.user, course_key, learner=request.user),
                   self_assessments=api.self_assessments_for(request.user, request.user, course_key),
                   form_errors=form_errors or {},
                   **_growth_context(request.user, request.user, course_key, context["policy"], history),
                   **coaching_plans.plan_context(request.user, request.user, course_key,
                                                 note_entered=request.session.pop(coaching_plans.NOTE_ENTERED, None)))
    context["names"] = _people_names(request.user, context)
    context["named_errors"] = _self_assessment_errors(context["self_assessments"], form_errors or {}, assessed)
    entered = {"ratings": {}, "note": "", **(entered or {})}
    context["entered"] = {**entered, "observation": str(assessed),
                          "privacy_suspected": bool(api.fields_with_identifiers({"note": entered["note"]}))}
    return render(request, "miiwrap_fidelity/my_competency.html", context, status=http_status)


def _self_assessment_errors(assessments, form_errors, assessed):
    """The named errors of a refused self-assessment, its indicators as the form names them."""
    rows = next((a.rows for a in assessments if str(a.observation_id) == str(assessed)), ())
    indicators = [field_errors.Named(row.indicator_key, row.indicator_label) for row in rows]
    return field_errors.named_errors(form_errors, indicators, prefix=f"mwf-self-{assessed}-")


@xframe_options_sameorigin  # shown inside the legacy instructor dashboard's Coaching section
@course_view
def workspace(request, course_key):
    """The learner list: a coach's learners, or every learner for staff; filtered, sorted, paged by keyset."""
    params = request.GET
    filters = {"coach": params.get("coach") or None, "state": params.get("state") or None,
               "search": params.get("search") or None, "ordering": params.get("ordering") or None}
    is_staff = api.is_course_staff(request.user, course_key)
    try:
        coach_filter = _coach_filter(request.user, course_key, filters, params.get("coach_search", "")) \
            if is_staff else {}
        statuses = _listed(request.user, course_key, filters)
        page = statuses.page(PAGE_SIZE, params.get("cursor") or None)
    except ValidationError as exc:
        return render(request, "miiwrap_fidelity/workspace.html", {  # the staff links and filters stay
            "course_key": course_key, "form_errors": exc.message_dict, "filters": filters, "is_staff": is_staff,
            "state_choices": api.STATE_FILTERS.items(), "page": None}, status=400)
    summary, own = statuses.summary, statuses.own_order
    rows = api.learner_rows(page.rows)
    return render(request, "miiwrap_fidelity/workspace.html", {
        "course_key": course_key, "rows": rows, "page": page, "is_staff": is_staff,
        # one query for the page's people: learners and their coaches
        "names": api.full_names([row["learner"].pk for row in rows] + [c.pk for row in rows for c in row["coaches"]]),
        "count": summary["count"], "count_exact": summary["count_exact"],
        "has_policy": summary["has_policy"], "filters": filters, "state_choices": api.STATE_FILTERS.items(),
        "query": _without(params, "cursor"), "last_page": api.LAST_PAGE, **coach_filter,
        "sort_query": _without(params, "ordering", "cursor"), "export_kinds": EXPORT_KINDS,
        "expiring": [(name, days, summary[name], summary[f"{name}_exact"]) for name, days in api.EXPIRING_FILTERS]
        if is_staff else None,
        # A filter that picks a small part of the course keeps its own order (roster.OwnOrder): only
        # the sorts it takes are links.
        "own_order": own.label if own else None,
        "sortable": set(api.SORT_KEYS) if own is None else {name.lstrip("-") for name in own.orderings},
        "default_sort": "username" if own is None or "username" in own.orderings else "own",
    })


def _listed(viewer, course_key, filters):
    """
    The workspace's list. A sort the filter does not take (a filter of a small part of the course
    keeps its own order: an old bookmark, a hand-made link) is dropped rather than refused: the page
    links only the sorts a filter takes; REST answers 400.
    """
    try:
        return api.learner_statuses(viewer, course_key, header=True, count_limit=api.COUNT_LIMIT, **filters)
    except ValidationError as exc:
        if not filters["ordering"] or set(exc.message_dict) != {"ordering"}:
            raise
        filters["ordering"] = None
        return api.learner_statuses(viewer, course_key, header=True, count_limit=api.COUNT_LIMIT, **filters)


def _coach_filter(viewer, course_key, filters, search):
    """
    The staff's coach filter is a search: a username prefix finds at most a few coaches (one of
    them: the list is filtered by that coach; more: they are offered as links). ``filters["coach"]``
    (an id, or "none") is set from the search or kept from the link followed.
    """
    search = search.strip()
    if filters["coach"] not in (None, "none"):
        coach = api.course_coach(viewer, course_key, filters["coach"])
        if coach is None:
            raise ValidationError({"coach": [_("This user coaches no one in this course.")]})
        return {"coach_search": coach.username, "coach_matches": []}
    if filters["coach"] == "none" or not search:
        return {"coach_search": "", "coach_matches": []}
    matches = api.search_coaches(viewer, course_key, search)
    if not matches:  # the whole list stays, with what to correct (a 400 page lost the filters and links)
        return {"coach_search": search, "coach_matches": [], "coach_notice": _(
            "No coach in this course has a name or username starting with “%(search)s”.") % {"search": search}}
    chosen = [coach for coach in matches if coach.username.lower() == search.lower()] or matches
    if len(chosen) == 1:
        filters["coach"] = str(chosen[0].id)
        return {"coach_search": chosen[0].username, "coach_matches": []}
    names = api.full_names([coach.id for coach in matches])
    return {"coach_search": search, "coach_matches": [(coach, names.get(coach.id, "")) for coach in matches]}


def _without(params, *names):
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@course_view
def learner_detail(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    draft = None
    if request.GET.get("draft"):
        try:
            draft = api.get_observation(request.user, course_key, request.GET["draft"])
        except NotFound:
            return HttpResponseBadRequest(_("No such draft."))
    co_rate = None
    if request.GET.get("corate"):
        co_rate = next((s for s in api.sessions_open_for_co_rating(request.user, learner, course_key)
                        if str(s.pk) == request.GET["corate"]), None)
        if co_rate is None:
            return HttpResponseBadRequest(_("This session is not open for co-rating."))
    elif request.GET.get("reference"):
        try:
            co_rate = api.get_observation(request.user, course_key, request.GET["reference"])
        except (NotFound, PermissionDenied):
            return HttpResponseBadRequest(_("No such observation."))
    return _render_detail(request, course_key, learner, draft=draft, co_rate=co_rate)


def _draft_form(draft):
    data = {"practice_date": draft.practice_date.isoformat(), "setting": draft.setting,
            "overall_note": draft.overall_note, "observation_id": draft.pk, "revision": draft.revision,
            "instrument_version": draft.instrument_version_id}
    for rating in draft.ratings:
        key = rating.indicator_key
        data.update({f"rating-{key}": rating.level, f"strength-{key}": rating.strength,
                     f"next_step-{key}": rating.next_step})
    return data


def _render_detail(request, course_key, learner, form_errors=None, form_data=None, status=200, draft=None,
                   co_rate=None, record_open=False, amend=None):
    api.require_coach(request.user, learner, course_key)
    context = _status_context(request.user, learner, course_key)
    policy = context["policy"]
    if draft is not None and draft.status == api.DRAFT and draft.learner_id == learner.pk:
        form_data = _draft_form(draft)
    if co_rate is not None:
        form_data = {"practice_date": co_rate.practice_date.isoformat(), "setting": co_rate.setting,
                     "co_observation_of": co_rate.pk, "is_reference": co_rate.status == api.SUBMITTED,
                     "instrument_version": co_rate.instrument_version_id}
    history = api.history_page(request.user, learner, course_key, request.GET.get("history"), include_drafts=True)
    free_text = {name: value for name, value in (form_data or {}).items()
                 if name == "overall_note" or name.startswith(("strength-", "next_step-"))}
    # Several instruments (ADR 0013): the one chosen (a link's ``?instrument=``), the draft's, or the posted one.
    choices = api.instrument_choices(policy)
    chosen = (form_data or {}).get("instrument_version") or request.GET.get("instrument") or None
    indicators = api.policy_indicators(course_key, chosen)
    current = context.get("status")
    actions = api.offered_actions(request.user, current, course_key) if current else None
    context.update(
        course_key=course_key, learner=learner, form_errors=form_errors or {}, form=form_data or {},
        # A correction's errors name the indicators of the rubric its observation was rated on.
        named_errors=field_errors.named_errors(
            form_errors or {},
            api.policy_indicators(course_key, amend[0].instrument_version_id) if amend else indicators,
            prefix=f"amend-{amend[0].pk}-" if amend else ""),
        amend_draft=amend[0] if amend else None, amend_reason=amend[1] if amend else "",
        record_open=bool(form_data) or record_open,
        actions=actions,
        approval_not_offered=api.approval_not_offered(actions.not_offered) if actions else "",
        evidence=api.certified_evidence(request.user, learner, course_key)
        if current and current.certification else None,
        privacy_patterns=api.identifier_patterns(), privacy_normalization=api.identifier_normalization(),
        autosave_messages=AUTOSAVE_MESSAGES,
        autosave_owner=autosave_owner(request), autosave_secret=autosave_secret(request),
        confirmed_submission=request.session.pop(CONFIRMED_SUBMISSION, ""),
        privacy_suspected=bool(api.fields_with_identifiers(free_text)),
        rubric_rows=api.rubric_form_rows(indicators, form_data), instrument_choices=choices,
        rubric_summaries=api.policy_summaries(course_key, chosen),
        chosen_instrument=_chosen_choice(choices, chosen),
        rubric_version_id=_form_version(choices, chosen, policy),  # the focus is shown first on its own rubric
        drafts=api.own_drafts(request.user, learner, course_key),
        signoffs=api.signoffs_for(request.user, learner, course_key),
        reflections=api.reflections_for(request.user, learner, course_key),
        # The settings the form's instrument is used in (issue 26: a team-meeting rubric offers no home visit).
        settings_choices=api.observation_settings(_form_version(choices, chosen, policy)),
        is_staff=api.is_course_staff(request.user, course_key),
        open_sessions=api.sessions_open_for_co_rating(request.user, learner, course_key),
        alert_rows=api.drift_alert_rows(request.user, course_key, learner=learner),
        course_progress=api.learner_course_progress(request.user, learner, course_key),
        self_assessments=api.self_assessments_for(request.user, learner, course_key),
        **_growth_context(request.user, learner, course_key, policy, history),
        **coaching_plans.plan_context(request.user, learner, course_key, coach=True,
                                      entered=request.session.pop(coaching_plans.ENTERED, None)),
    )
    context["names"] = _people_names(learner, context)
    context["learner_name"] = context["names"].get(learner.pk) or learner.username
    return render(request, "miiwrap_fidelity/learner_detail.html", context, status=status)


def _form_version(choices, chosen, policy):
    """The instrument version the observation form rates on: the chosen choice's, else the policy's first."""
    choice = _chosen_choice(choices, chosen)
    return choice.id if choice else getattr(policy, "instrument_version_id", None)


def _chosen_choice(choices, chosen):
    """The choice whose indicators the form shows: the chosen one when the policy names it, else its first."""
    return next((c for c in choices if str(c.id) == str(chosen)), choices[0] if choices else None)


def _detail_url(course_key, learner):
    return reverse("miiwrap_fidelity:learner_detail", args=[str(course_key), learner.pk])


@require_POST
@retrying_view
@course_view
def record_observation(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    data = {
        "practice_date": request.POST.get("practice_date", ""),
        "setting": request.POST.get("setting", ""),
        "overall_note": request.POST.get("overall_note", ""),
        "ratings": api.ratings_from_form(
            request.POST, api.policy_indicators(course_key, request.POST.get("instrument_version") or None)),
        "instrument_version": request.POST.get("instrument_version") or None,
        "revision": request.POST.get("revision") or None,
        "privacy_confirmed": request.POST.get("privacy_confirmed") == "on",
    }
    if not request.POST.get("observation_id"):  # a draft keeps its session: an edit does not name it
        data.update({"co_observation_of": request.POST.get("co_observation_of") or None,
                     "is_reference": request.POST.get("is_reference") == "on"})
    try:
        result = api.save_observation(request.user, learner, course_key, data,
                                      observation_id=request.POST.get("observation_id") or None,
                                      submit=request.POST.get("action") == "submit",
                                      idempotency_key=request.POST.get("submission_token"))
    except ValidationError as exc:  # a conflict (the draft changed since it was opened) is a 409
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict,
                              form_data=request.POST, status=409 if isinstance(exc, Conflict) else 400,
                              record_open=True)
    # The page the browser comes back to confirms this post, so the browser drops its copy of the form.
    request.session[CONFIRMED_SUBMISSION] = request.POST.get("submission_token", "")
    for kind in result.warnings:
        messages.warning(request, api.identifier_warning(kind))
    if result.observation.status == api.SUBMITTED:
        messages.success(request, _("Observation submitted (%(percent)s of applicable indicators met).")
                         % {"percent": api.format_percent(result.observation.percent)})
        if result.observation.co_observation_of_id is None:  # next in the loop: the plan after this session
            return redirect(f"{_detail_url(course_key, learner)}?plan=open#mwf-plan-heading")
        return redirect(_detail_url(course_key, learner))
    messages.info(request, _("Draft saved."))
    return redirect(f"{_detail_url(course_key, learner)}?draft={result.observation.pk}#mwf-record-heading")


@require_POST
@retrying_view
@course_view
def decide_competency(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    action = request.POST.get("action")
    try:
        if action == "approve":
            api.sign_off(request.user, learner, course_key, level=request.POST.get("level", api.COACH),
                         reason=request.POST.get("reason", ""), idempotency_key=request.POST.get("submission_token"),
                         privacy_confirmed=request.POST.get("privacy_confirmed") == "on")
            messages.success(request, _("Competency approved."))
        elif action == "revoke":
            api.revoke(request.user, learner, course_key, request.POST.get("reason", ""),
                       idempotency_key=request.POST.get("submission_token"),
                       privacy_confirmed=request.POST.get("privacy_confirmed") == "on")
            messages.success(request, _("Competency revoked."))
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    except ValidationError as exc:
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict, status=400)
    return redirect(_detail_url(course_key, learner))


@require_POST
@retrying_view
@course_view
def comment_reflection(request, course_key, learner_id, reflection_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    try:
        reflection = api.get_reflection_by_id(request.user, course_key, reflection_id)
        if reflection.learner_id != learner.pk:
            raise NotFound(_("No such reflection."))
        api.comment_on_reflection(request.user, reflection.pk, request.POST.get("text", ""),
                                  privacy_confirmed=request.POST.get("privacy_confirmed") == "on",
                                  idempotency_key=request.POST.get("submission_token"))
    except ValidationError as exc:
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict, status=400)
    except NotFound:
        return HttpResponseBadRequest(_("No such reflection."))
    messages.success(request, _("Comment added."))
    return redirect(_detail_url(course_key, learner))


@require_POST
@retrying_view
@course_view
def amend_observation(request, course_key, learner_id, observation_id):
    """Correct a submitted observation's text (an amendment record; the original is kept)."""
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    observation = api.get_observation(request.user, course_key, observation_id)
    if observation.learner_id != learner.pk:
        raise NotFound(_("No such observation."))
    feedback = {r.indicator_key: {"strength": request.POST.get(f"strength-{r.indicator_key}", ""),
                                  "next_step": request.POST.get(f"next_step-{r.indicator_key}", "")}
                for r in observation.ratings}
    data = {"reason": request.POST.get("reason", ""), "overall_note": request.POST.get("overall_note", ""),
            "feedback": feedback, "privacy_confirmed": request.POST.get("privacy_confirmed") == "on"}
    try:
        api.amend_observation(request.user, course_key, observation.pk, data,
                              idempotency_key=request.POST.get("submission_token"))
    except ValidationError as exc:
        # Show the form again, open, with what was entered (the history shows the stored text).
        entered = replace(observation, overall_note=data["overall_note"], ratings=tuple(
            replace(r, **feedback[r.indicator_key]) for r in observation.ratings))
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict, status=400,
                              amend=(entered, data["reason"]))
    messages.success(request, _("Observation corrected; the original is kept."))
    return redirect(f"{_detail_url(course_key, learner)}#mwf-observation-{observation.pk}")
