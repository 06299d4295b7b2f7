"""
The coaching loop on the pages (issue 31): the coach agrees a plan after a session (focus indicators
suggested from it, a practice step each) and confirms each follow-up; the learner adds their note.
Every check is ``api``'s; a refusal is shown on the page it came from.
"""
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import api
from ..api import ValidationError
from .access import course_view, retrying_view

#: Focus rows the plan form offers (``coaching_loop.MAX_FOCUS``).
FOCUS_ROWS = 2
#: The session entry holding a refused plan's rows, shown again on the coach's page.
ENTERED = "miiwrap_fidelity.plan_entered"
#: The session entry holding a refused note of the learner's, shown again on their page.
NOTE_ENTERED = "miiwrap_fidelity.plan_note_entered"
#: A follow-up's outcome as people read it.
OUTCOME_LABELS = {"improved": gettext_lazy("Improved"), "held": gettext_lazy("Held"),
                  "slipped": gettext_lazy("Slipped")}


def plan_context(viewer, learner, course_key, coach=False, entered=None, note_entered=None):
    """
    What the pages show of the loop: the current plan with its follow-ups, and for a coach the
    session a new plan would follow with the focus it suggests (a plan already agreed on it is
    edited instead).
    """
    plan = api.current_plan(viewer, learner, course_key)
    context = {"plan": plan, "focus_keys": [focus.indicator_key for focus in plan.focus] if plan else [],
               "outcome_labels": OUTCOME_LABELS, "note_entered": note_entered}
    if coach:
        session, suggested = api.latest_session(viewer, learner, course_key)
        context["plan_session"] = session
        if session is not None:
            editing = plan is not None and plan.observation_id == session.id
            chosen = [(f.indicator_key, f.step) for f in plan.focus] if editing else [(key, "") for key in suggested]
            chosen += [("", "")] * (FOCUS_ROWS - len(chosen))
            if entered and entered.get("observation") == str(session.id):  # a refused plan, as typed
                chosen = [tuple(row) for row in entered["rows"]]
            context.update(plan_editing=editing, plan_rows=chosen[:FOCUS_ROWS], plan_refused=bool(entered),
                           plan_indicators=api.policy_indicators(course_key, session.instrument_version_id))
    return context


def _learner_url(course_key, learner_id, anchor="mwf-plan-heading"):
    return reverse("miiwrap_fidelity:learner_detail", args=[str(course_key), learner_id]) + f"#{anchor}"


def _refused(request, exc):
    """A refusal shown on the page the form came from (each message once)."""
    for error in dict.fromkeys(error for errors in exc.message_dict.values() for error in errors):
        messages.error(request, error)


@require_POST
@retrying_view
@course_view
def save_plan(request, course_key, learner_id, observation_id):
    """The coach's plan after a session: the posted focus rows (empty ones left out)."""
    focus = [{"indicator": request.POST.get(f"focus-{i}-indicator", ""), "step": request.POST.get(f"focus-{i}-step", "")}
             for i in range(FOCUS_ROWS)]
    focus = [item for item in focus if item["indicator"] or item["step"].strip()]
    try:
        api.save_plan(request.user, observation_id, focus, request.POST.get("privacy_confirmed") == "on")
        messages.success(request, _("Plan saved: the learner sees their focus."))
    except ValidationError as exc:
        _refused(request, exc)
        # Nothing typed is lost: the form shows it again, with the privacy confirmation offered.
        request.session[ENTERED] = {"observation": str(observation_id), "rows": [
            [request.POST.get(f"focus-{i}-indicator", ""), request.POST.get(f"focus-{i}-step", "")[:4000]]
            for i in range(FOCUS_ROWS)]}
    return redirect(_learner_url(course_key, learner_id))


@require_POST
@retrying_view
@course_view
def confirm_follow_up(request, course_key, learner_id, plan_id):
    """The coach's word on how the next session followed a focus up."""
    try:
        api.confirm_follow_up(request.user, plan_id, request.POST.get("indicator", ""), request.POST.get("outcome", ""))
        messages.success(request, _("Follow-up recorded."))
    except ValidationError as exc:
        _refused(request, exc)
    return redirect(_learner_url(course_key, learner_id))


@require_POST
@retrying_view
@course_view
def plan_note(request, course_key, plan_id):
    """The learner's own note on their plan."""
    try:
        api.add_learner_note(request.user, plan_id, request.POST.get("note", ""),
                             request.POST.get("privacy_confirmed") == "on")
        messages.success(request, _("Your note is saved."))
    except ValidationError as exc:
        _refused(request, exc)
        request.session[NOTE_ENTERED] = request.POST.get("note", "")[:4000]  # shown again, nothing lost
    return redirect(reverse("miiwrap_fidelity:my_competency", args=[str(course_key)]) + "#mwf-focus-heading")
