"""Course staff pages: assigning coaches and start dates (one at a time or by CSV). The policy: ``policy_editor``."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

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
