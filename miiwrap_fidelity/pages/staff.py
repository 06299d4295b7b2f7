"""Course staff pages: assigning coaches (one at a time or by CSV) and editing the competency policy."""
import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import api
from ..api import PermissionDenied, ValidationError
from .access import course_view, retrying_view


def _require_staff(user, course_key):
    if not api.is_course_staff(user, course_key):
        raise PermissionDenied(_("Only course staff can do this."))


@retrying_view
@course_view
def assignments(request, course_key):
    """List, add and remove coach assignments; upload a CSV (all rows or none, with a row report)."""
    _require_staff(request.user, course_key)
    context, status = {"course_key": course_key, "form_errors": {}, "report": None}, 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                # A username or a full name each; what was typed is shown again when it is refused.
                context["entered"] = entered = {name: request.POST.get(name, "").strip() for name in ("coach", "learner")}
                api.assign_coach(request.user, course_key, entered["coach"], entered["learner"])
                messages.success(request, _("Coach assigned."))
                return redirect(_url("assignments", course_key))
            if action == "remove":
                api.unassign_coach(request.user, request.POST.get("assignment", ""))
                messages.success(request, _("Assignment removed."))
                return redirect(_url("assignments", course_key))
            if action == "upload":
                status = _apply_csv_upload(request, course_key, context, api.assign_coaches_from_csv,
                                           _("%(count)s assignments added."))
            else:
                raise ValidationError({"action": [_("Unknown action.")]})
        except ValidationError as exc:
            context["form_errors"], status = exc.message_dict, 400
    context["page"] = page = Paginator(api.coach_assignments(request.user, course_key), api.STAFF_PAGE_SIZE).get_page(
        request.GET.get("page"))
    context["names"] = api.full_names(user.pk for row in page.object_list for user in (row.learner, row.coach))
    return render(request, "miiwrap_fidelity/assignments.html", context, status=status)


POLICY_LABELS = {
    "enabled": gettext_lazy("Require observed competency for the certificate"),
    "instrument_version": gettext_lazy("Observation rubric (instrument version)"),
    "min_observations": gettext_lazy("Qualifying observations needed"),
    "min_percent": gettext_lazy("Percent of applicable indicators met for an observation to qualify"),
    "window_days": gettext_lazy("Observation window (days)"),
    "critical_required": gettext_lazy("Essential indicators must be met"),
    "min_distinct_observers": gettext_lazy("Different observers needed"),
    "require_lead_signoff": gettext_lazy("A certification lead confirms after the coach"),
    "validity_months": gettext_lazy("Certification valid for (months, 0 = no expiry)"),
    "mode": gettext_lazy("Grade requirement"),
    "drift_window_observations": gettext_lazy("Drift: latest observations in the rolling score"),
    "drift_window_days": gettext_lazy("Drift: window (days)"),
    "drift_min_observations": gettext_lazy("Drift: fewest observations to judge"),
    "require_calibration": gettext_lazy("Count only observations by calibrated coaches"),
    "calibration_threshold": gettext_lazy("Calibration: agreement with reference ratings (percent)"),
    "self_assessment": gettext_lazy("Learners rate each observed session themselves (self-assessment)"),
    "requirement_sets": gettext_lazy("Requirement sets (JSON; see the authors' guide)"),
    "deadline_days": gettext_lazy("Deadline: competent within (days of starting, 0 = none)"),
    "prerequisite_course": gettext_lazy("Stage: prerequisite course id (its certification first)"),
    "program": gettext_lazy("Program: courses with the same program name share evidence"),
}
#: Number fields the editor may leave empty (the policy keeps its value).
OPTIONAL_NUMBERS = ("deadline_days",)
#: Where the policy editor shows errors of a requirement set (``requirement_sets[0].setting``...).
SETS_FIELD = "requirement_sets"
class RequirementSetsField(forms.JSONField):
    """
    ``forms.JSONField`` that also answers a field error for JSON Python cannot read (nested past the
    recursion limit, integers past the digit limit) and for text no page could show back (an
    unpaired surrogate written as ``\\ud800``), where the stock field raised (a 500).
    """

    def to_python(self, value):
        try:
            converted = super().to_python(value)
        except (RecursionError, ValueError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if api.has_lone_surrogate(json.dumps(converted, ensure_ascii=False)):
            raise forms.ValidationError(_("Contains a character that is not valid text (an unpaired surrogate)."),
                                        code="invalid")
        return converted

    def bound_data(self, data, initial):
        """What the form shows back: the text as typed when it cannot be taken (never a decoded surrogate)."""
        try:
            bound = super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return forms.fields.InvalidJSONInput(data)
        if not isinstance(bound, str) and api.has_lone_surrogate(json.dumps(bound, ensure_ascii=False)):
            return forms.fields.InvalidJSONInput(data)
        return bound


class PolicyForm(forms.Form):
    """The policy editor: its fields and limits come from ``api`` (one place with the REST API)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in api.POLICY_FIELDS:
            label = POLICY_LABELS[name]
            if name == "instrument_version":
                field = forms.TypedChoiceField(coerce=int, empty_value=None, label=label, choices=[("", "---------")] + [
                    (version.id, f"{version.instrument} v{version.number}")
                    for version in api.instrument_versions(newest_first=True)])
            elif name == "mode":
                field = forms.ChoiceField(choices=api.POLICY_MODES, label=label)
            elif name in ("prerequisite_course", "program"):
                field = forms.CharField(required=False, label=label, max_length=255)
            elif name == SETS_FIELD:
                field = RequirementSetsField(required=False, label=label, widget=forms.Textarea(attrs={"rows": 12}))
            elif name in api.POLICY_LIMITS:
                low, high = api.POLICY_LIMITS[name]
                # The deadline is optional: left empty, the policy keeps the one it has (none at first).
                field = forms.IntegerField(min_value=low, max_value=high, label=label,
                                           required=name not in OPTIONAL_NUMBERS)
            else:
                field = forms.BooleanField(required=False, label=label)
            field.help_text = api.POLICY_HELP[name]
            self.fields[name] = field


def _policy_initial(existing):
    if existing is None:
        return api.POLICY_DEFAULTS  # api.save_policy validates every field again
    return {name: getattr(existing, "instrument_version_id" if name == "instrument_version" else name)
            for name in api.POLICY_FIELDS}


@retrying_view
@course_view
def policy(request, course_key):
    """Create or edit the course's competency policy (validated by the form and by ``api``)."""
    _require_staff(request.user, course_key)
    existing = api.policy_for_editing(request.user, course_key)
    form, status = PolicyForm(initial=_policy_initial(existing)), 200
    if request.method == "POST":
        form = PolicyForm(request.POST, initial=_policy_initial(existing))
        if form.is_valid():
            fields = dict(form.cleaned_data)
            if SETS_FIELD not in form.changed_data or fields.get(SETS_FIELD) is None:
                fields.pop(SETS_FIELD, None)  # unchanged: the single-set fields above say what changed
            for name in OPTIONAL_NUMBERS:
                if fields.get(name) is None:
                    fields.pop(name, None)
            try:
                api.save_policy(request.user, course_key, **fields)
                messages.success(request, _("Policy saved. Learners' status is being re-evaluated."))
                return redirect(_url("policy", course_key))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    if field.startswith(SETS_FIELD + "["):  # name the place inside the sets
                        form.add_error(SETS_FIELD, [f"{field[len(SETS_FIELD):]}: {error}" for error in errors])
                    else:
                        form.add_error(field if field in form.fields else None, errors)
        status = 400
    _name_the_prerequisite(form, existing)
    return render(request, "miiwrap_fidelity/policy.html", {
        "course_key": course_key, "form": form,
        "reevaluation": api.reevaluation_progress(request.user, course_key)}, status=status)


def _name_the_prerequisite(form, existing):
    """The saved prerequisite course by its name beside its id field (issue 25: an id alone hid a typo)."""
    course = getattr(existing, "prerequisite_course", "")
    if course:
        field = form.fields["prerequisite_course"]
        field.help_text = format_html("{} {}", field.help_text, _("Now: “%(name)s”") % {
            "name": api.course_display_name(course)})


@retrying_view
@course_view
def start_dates(request, course_key):
    """Learners' start (hire) dates for the policy's deadline: one at a time or from a CSV file."""
    _require_staff(request.user, course_key)
    context, status = {"course_key": course_key, "form_errors": {}, "report": None}, 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "set":
                api.set_start_date(request.user, course_key, request.POST.get("learner", "").strip(),
                                   request.POST.get("start_date", ""))
                messages.success(request, _("Start date saved."))
                return redirect(_url("start_dates", course_key))
            if action == "upload":
                status = _apply_csv_upload(request, course_key, context, api.set_start_dates_from_csv,
                                           _("%(count)s start dates saved."))
            else:
                raise ValidationError({"action": [_("Unknown action.")]})
        except ValidationError as exc:
            context["form_errors"], status = exc.message_dict, 400
    context["page"] = Paginator(api.start_dates(request.user, course_key), api.STAFF_PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "miiwrap_fidelity/start_dates.html", context, status=status)


def _apply_csv_upload(request, course_key, context, upload, saved_message):
    """
    An uploaded CSV applied by ``upload`` (all rows or none): its row report goes to the page; the
    status is 400 when a row was refused, else the ``saved_message`` (with ``count``) is shown.
    """
    report, count = upload(request.user, course_key, api.read_csv_upload(request.FILES.get("file")))
    context["report"] = report
    if any(row["status"] == "error" for row in report):
        return 400
    messages.success(request, saved_message % {"count": count})
    return 200


def _url(name, course_key):
    return reverse(f"miiwrap_fidelity:{name}", args=[str(course_key)])
