"""
Server-rendered pages: the learner's competency page and the coach workspace.

Each view checks permissions through ``api``; bad input re-renders the form with messages and
HTTP 400, a refused action answers 403.
"""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from . import api, privacy, rubric
from .models import Indicator, Observation, SignOff


def _course_view(view):
    """Parse ``course_id`` from the URL; answer 400 with a message when it is not a course key."""

    @wraps(view)
    def wrapper(request, course_id, *args, **kwargs):
        try:
            course_key = api.parse_course_key(course_id)
        except ValidationError:
            return HttpResponseBadRequest(_("Not a valid course id."))
        return view(request, course_key, *args, **kwargs)

    return login_required(wrapper)


def _learner_or_400(learner_id):
    try:
        return api.get_user(learner_id, "learner"), None
    except ValidationError:
        return None, HttpResponseBadRequest(_("No such learner."))


def _status_context(viewer, learner, course_key):
    policy = api.get_policy(course_key)
    if policy is None:
        return {"policy": None}
    status = api.learner_status(viewer, learner, course_key)
    reasons = [api.competency.Reason.from_dict(item) for item in status.reasons]
    return {
        "policy": policy,
        "status": status,
        "reasons": [reason.message for reason in reasons],
        "certification": api.certification_status(learner, course_key),
    }


@_course_view
def my_competency(request, course_key):
    """The learner's own status, feedback received and what remains."""
    context = _status_context(request.user, request.user, course_key)
    context.update(course_key=course_key, learner=request.user,
                   observations=api.observations_for(request.user, request.user, course_key))
    return render(request, "miiwrap_fidelity/my_competency.html", context)


@xframe_options_sameorigin  # shown inside the legacy instructor dashboard's Coaching section
@_course_view
def workspace(request, course_key):
    """The coach's learners with their status against the gate (staff see every status row)."""
    is_staff = api.is_course_staff(request.user, course_key)
    rows = api.learner_rows(api.learner_statuses(request.user, course_key))
    return render(request, "miiwrap_fidelity/workspace.html", {
        "course_key": course_key, "rows": rows, "is_staff": is_staff, "policy": api.get_policy(course_key),
    })


@_course_view
def learner_detail(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    return _render_detail(request, course_key, learner)


def _render_detail(request, course_key, learner, form_errors=None, form_data=None, status=200):
    if not api.can_coach(request.user, learner, course_key):
        raise PermissionDenied(_("You are not a coach of this learner in this course."))
    context = _status_context(request.user, learner, course_key)
    policy = context["policy"]
    indicators = list(Indicator.objects.filter(version_id=policy.instrument_version_id)) if policy else []
    context.update(
        course_key=course_key, learner=learner, rubric_rows=rubric.form_rows(indicators, form_data),
        observations=api.observations_for(request.user, learner, course_key, include_drafts=True),
        signoffs=api.signoffs_for(request.user, learner, course_key),
        settings_choices=Observation.SETTING_CHOICES, form_errors=form_errors or {}, form=form_data or {},
        is_staff=api.is_course_staff(request.user, course_key),
    )
    return render(request, "miiwrap_fidelity/learner_detail.html", context, status=status)


def _detail_url(course_key, learner):
    return reverse("miiwrap_fidelity:learner_detail", args=[str(course_key), learner.pk])


@require_POST
@_course_view
def record_observation(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    policy = api.get_policy(course_key)
    indicators = list(Indicator.objects.filter(version_id=policy.instrument_version_id)) if policy else []
    data = {
        "practice_date": request.POST.get("practice_date", ""),
        "setting": request.POST.get("setting", ""),
        "overall_note": request.POST.get("overall_note", ""),
        "ratings": rubric.ratings_from_form(request.POST, indicators),
    }
    try:
        result = api.save_observation(request.user, learner, course_key, data,
                                      submit=request.POST.get("action") == "submit")
    except ValidationError as exc:
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict,
                              form_data=request.POST, status=400)
    for kind in result.warnings:
        messages.warning(request, privacy.warning_message(kind))
    if result.observation.status == Observation.SUBMITTED:
        messages.success(request, _("Observation submitted (%(percent)s%% of applicable indicators met).")
                         % {"percent": result.observation.percent})
    else:
        messages.info(request, _("Draft saved."))
    return redirect(_detail_url(course_key, learner))


@require_POST
@_course_view
def decide_competency(request, course_key, learner_id):
    learner, error = _learner_or_400(learner_id)
    if error:
        return error
    action = request.POST.get("action")
    try:
        if action == "approve":
            api.sign_off(request.user, learner, course_key, level=request.POST.get("level", SignOff.COACH),
                         reason=request.POST.get("reason", ""))
            messages.success(request, _("Competency approved."))
        elif action == "revoke":
            api.revoke(request.user, learner, course_key, request.POST.get("reason", ""))
            messages.success(request, _("Competency revoked."))
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    except ValidationError as exc:
        return _render_detail(request, course_key, learner, form_errors=exc.message_dict, status=400)
    return redirect(_detail_url(course_key, learner))
