"""
The competency policy page (issue 25): requirement sets edited as fields (add, remove, reorder;
conditions chosen from the instrument's scores by name), the other settings beside them, and a
preview of what a change does to the learners before it is saved. Every check is ``api``'s.
"""
import hashlib
import json

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import api
from ..api import PermissionDenied, ValidationError
from . import requirement_set_rows as set_rows
from .access import course_view, retrying_view

POLICY_LABELS = {
    "enabled": gettext_lazy("Require observed competency for the certificate"),
    "require_lead_signoff": gettext_lazy("A certification lead confirms after the coach"),
    "validity_months": gettext_lazy("Certification valid for (months, 0 = no expiry)"),
    "mode": gettext_lazy("Grade requirement"),
    "drift_window_observations": gettext_lazy("Drift: latest observations in the rolling score"),
    "drift_window_days": gettext_lazy("Drift: window (days)"),
    "drift_min_observations": gettext_lazy("Drift: fewest observations to judge"),
    "require_calibration": gettext_lazy("Count only observations by calibrated coaches"),
    "calibration_threshold": gettext_lazy("Calibration: agreement with reference ratings (percent)"),
    "self_assessment": gettext_lazy("Learners rate each observed session themselves (self-assessment)"),
    "requirement_sets": gettext_lazy("Requirement sets"),
    "deadline_days": gettext_lazy("Deadline: competent within (days of starting, 0 = none)"),
    "prerequisite_course": gettext_lazy("Stage: the earlier course (its certification first)"),
    "program": gettext_lazy("Program: courses with the same program name share evidence"),
    "confirm_moves_back": gettext_lazy("Confirm"),
}
#: The settings shown beside the sets, in this order (the rest of ``api.POLICY_FIELDS``).
CERTIFICATION_FIELDS = ("enabled", "mode", "require_lead_signoff", "validity_months", "deadline_days",
                        "prerequisite_course", "program", "self_assessment")
MONITORING_FIELDS = ("drift_window_observations", "drift_window_days", "drift_min_observations",
                     "require_calibration", "calibration_threshold")
STAGE_HELP = gettext_lazy("The learner's certification in the earlier course must be active first; only practice "
                          "observed after it was issued counts here. Courses with a policy are listed.")
#: Number fields the editor may leave empty (the policy keeps its value).
OPTIONAL_NUMBERS = ("deadline_days",)


class PolicyForm(forms.Form):
    """The settings beside the sets: their limits come from ``api`` (one place with the REST API)."""

    def __init__(self, *args, stages=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CERTIFICATION_FIELDS + MONITORING_FIELDS:
            label = POLICY_LABELS[name]
            if name == "mode":
                field = forms.ChoiceField(choices=api.POLICY_MODES, label=label)
            elif name == "prerequisite_course" and stages is not None:
                field = forms.ChoiceField(required=False, label=label,
                                          choices=[("", _("None: this is the first stage"))] + stages)
            elif name in ("prerequisite_course", "program"):
                field = forms.CharField(required=False, label=label, max_length=255)
            elif name in api.POLICY_LIMITS:
                low, high = api.POLICY_LIMITS[name]
                field = forms.IntegerField(min_value=low, max_value=high, label=label,
                                           required=name not in OPTIONAL_NUMBERS)
            else:
                field = forms.BooleanField(required=False, label=label)
            field.help_text = STAGE_HELP if name == "prerequisite_course" and stages is not None else api.POLICY_HELP[name]
            self.fields[name] = field

    def certification_fields(self):
        return [self[name] for name in CERTIFICATION_FIELDS]

    def monitoring_fields(self):
        return [self[name] for name in MONITORING_FIELDS]


def _initial(existing):
    if existing is None:
        return api.POLICY_DEFAULTS
    return {name: getattr(existing, name) for name in CERTIFICATION_FIELDS + MONITORING_FIELDS}


@retrying_view
@course_view
def policy(request, course_key):
    """Create or edit the course's competency policy; a change that moves learners back is confirmed first."""
    if not api.is_course_staff(request.user, course_key):
        raise PermissionDenied(_("Only course staff can do this."))
    existing = api.policy_for_editing(request.user, course_key)
    instruments = api.policy_instruments(request.user, course_key)
    stages = api.stage_choices(request.user, course_key)
    if stages is not None and existing is not None and existing.prerequisite_course not in {"", *dict(stages)}:
        stages.append((existing.prerequisite_course, existing.prerequisite_course))  # kept as it is, shown
    initial = _initial(existing)
    context = {"course_key": course_key, "instruments": instruments, "preview": None, "top_errors": [],
               "reevaluation": api.reevaluation_progress(request.user, course_key)}
    if request.method != "POST":
        rows = set_rows.rows_of(list(existing.requirement_sets)) if existing else [
            set_rows.new_set(instruments[0].id if instruments else "")]
        return _render(request, context, PolicyForm(initial=initial, stages=stages), rows, 200)
    form = PolicyForm(request.POST, initial=initial, stages=stages)
    rows = set_rows.rows_from_post(request.POST)
    stored = set_rows.rows_of(list(existing.requirement_sets)) if existing else [
        set_rows.new_set(instruments[0].id if instruments else "")]
    if not rows:  # a truncated or forged post: never taken as other sets than the page showed
        context["top_errors"] = [_("The requirement sets were not sent whole: reload the page and try again.")]
        return _render(request, context, form, stored, 400)
    action = request.POST.get("action", "")
    if action not in ("preview", "save", CONFIRM):  # an editing button: nothing is checked or saved yet
        context["focus"] = _focus_after(action, len(rows))
        return _render(request, context, form, set_rows.apply_action(rows, action), 200)
    if not form.is_valid():
        return _render(request, context, form, rows, 400)
    fields = {name: value for name, value in form.cleaned_data.items()
              if not (name in OPTIONAL_NUMBERS and value is None)}
    fields["requirement_sets"], places = set_rows.sets_of(rows)
    context["preview_token"] = token = _change_token(fields)
    context["described"] = set_rows.described_changes(
        list(existing.requirement_sets) if existing else [], fields["requirement_sets"],
        {str(instrument.id): instrument.title for instrument in instruments}, dict(api.OBSERVATION_SETTINGS))
    try:
        if action in ("save", CONFIRM):
            # The confirmation holds for the change previewed with it, not for another one typed since.
            confirmed = action == CONFIRM and request.POST.get("previewed") == token
            if action == CONFIRM and not confirmed:
                context["changed_since_preview"] = True
            api.save_previewed_policy(request.user, course_key, confirmed, **fields)
            messages.success(request, _("Policy saved. Learners' status is being re-evaluated."))
            return redirect(reverse("miiwrap_fidelity:policy", args=[str(course_key)]))
        context["preview"] = api.preview_policy(request.user, course_key, **fields)
        return _render(request, context, form, rows, 200)
    except ValidationError as exc:
        errors = dict(exc.message_dict)
        if "confirm_moves_back" in errors:  # not an error to correct: the preview asks for the confirmation
            context["preview"] = api.preview_policy(request.user, course_key, **fields)
            context["confirmation"] = errors.pop("confirm_moves_back")
            if not errors:
                return _render(request, context, form, rows, 200)
        for name in list(errors):
            if name in form.fields:
                form.add_error(name, errors.pop(name))
        left = set_rows.place_errors(rows, errors, places)
        context["top_errors"] = [message for messages_ in left.values() for message in messages_]
        return _render(request, context, form, rows, 400)


#: The preview's own button: save this very change, learners moving back and all.
CONFIRM = "confirm_save"


def _focus_after(action, count):
    """Where an editing button leaves the keyboard: the set it changed (the page is drawn again)."""
    name, _sep, rest = action.partition(":")
    index = rest.split(":")[0]
    if name == "add_set":
        return f"set-{count}-instrument_version"
    if name == "refresh" and index.isdecimal() and len(index) <= 2:
        return f"set-{index}-instrument_version"
    if index.isdecimal() and len(index) <= 2:
        moved = int(index) + {"up": -1, "down": 1}.get(name, 0)
        return f"mwf-set-{max(moved if name != 'remove_set' else min(moved, count - 2), 0)}"
    return ""


def _change_token(fields):
    """What a preview's confirmation is tied to: a digest of the change's fields."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _render(request, context, form, rows, status):
    by_id = {str(instrument.id): instrument for instrument in context["instruments"]}
    for row in rows:  # a score the set's instrument lacks stays chosen, named as such, never turned into another
        summaries = {set_rows.SUMMARY_PREFIX + key for key, _label in getattr(
            by_id.get(str(row.instrument_version)), "summaries", ())}
        for condition in row.conditions:
            condition.unknown = condition.measure[len(set_rows.SUMMARY_PREFIX):] if (
                condition.measure.startswith(set_rows.SUMMARY_PREFIX) and condition.measure not in summaries) else ""
    context.update({
        "form": form, "rows": [(row, by_id.get(str(row.instrument_version))) for row in rows],
        "setting_choices": api.OBSERVATION_SETTINGS, "row_errors": any(
            row.errors or any(c.errors for c in row.conditions) for row in rows),
        "units": [(set_rows.DAYS, _("days")), (set_rows.MONTHS, _("months"))],
        "operators": [(set_rows.AT_LEAST, _("at least")), (set_rows.AT_MOST, _("at most"))],
        "percent_measure": set_rows.PERCENT, "summary_prefix": set_rows.SUMMARY_PREFIX,
        "max_sets": api.MAX_REQUIREMENT_SETS,
    })
    return render(request, "miiwrap_fidelity/policy.html", context, status=status)
