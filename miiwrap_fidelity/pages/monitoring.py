"""Monitoring pages: drift alerts, rater agreement, the leader view and CSV exports."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from .. import api
from ..api import ValidationError
from ..tasks import upkeep
from ..wording import bar_charts
from .access import course_view, retrying_view, safe_next


@course_view
def alerts(request, course_key):
    """Open drift alerts of the coach's learners (all learners for staff), newest first."""
    rows = api.drift_alert_rows(request.user, course_key)
    is_staff = api.is_course_staff(request.user, course_key)
    return render(request, "miiwrap_fidelity/alerts.html", {
        "course_key": course_key, "rows": rows, "is_staff": is_staff,
        # one query for the page's people: learners, and whoever acknowledged an alert
        "names": api.full_names([row["alert"].learner_id for row in rows]
                                + [row["alert"].acknowledged_by.pk for row in rows if row["alert"].acknowledged_by]),
    })


@require_POST
@retrying_view
@course_view
def acknowledge(request, course_key, alert_id):
    try:
        alert = api.acknowledge_alert(request.user, alert_id, request.POST.get("plan_note", ""),
                                      privacy_confirmed=request.POST.get("privacy_confirmed") == "on")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(safe_next(request, reverse("miiwrap_fidelity:alerts", args=[str(course_key)])))
    messages.success(request, _("Alert acknowledged with a coaching plan."))
    return redirect(reverse("miiwrap_fidelity:learner_detail", args=[str(course_key), alert.learner_id]))


@course_view
def reliability(request, course_key):
    report = api.reliability_report(request.user, course_key)
    return render(request, "miiwrap_fidelity/reliability.html", {
        "course_key": course_key, "report": report,
        "names": api.full_names([row["coach_id"] for part in ("coaches", "calibration") for row in report[part]]
                                + [person["id"] for row in report["pairs"] for person in row["observers"]]),
        "policy": api.get_policy(course_key)})


BAND_LABELS = {"high": gettext_noop("High"), "adequate": gettext_noop("Adequate"),
               "borderline": gettext_noop("Borderline"), "low": gettext_noop("Low")}


@require_POST
@course_view
def refresh_leaders(request, course_key):
    """Compute the leader view's figures again now (course staff); once at a time."""
    outcome = api.request_leader_refresh(request.user, course_key, upkeep.refresh_leader_figures.delay)
    if outcome == "queued":
        messages.success(request, _("The figures are being computed again."))
    elif outcome == "running":
        messages.info(request, _("The figures are already being computed."))
    else:
        messages.error(request, _("The figures could not be computed now. Try again in a few minutes."))
    return redirect(reverse("miiwrap_fidelity:leaders", args=[str(course_key)]))


@course_view
def leaders(request, course_key):
    """
    Aggregates for leaders: charts (SVG, values written on every bar) and the same data as tables,
    as last computed; stale or missing figures are recomputed by a task (at once where tasks run
    eagerly, as in the sandbox).
    """
    kept = api.kept_leader_view(request.user, course_key, upkeep.refresh_leader_figures.delay)
    if kept["figures"] is None:
        return render(request, "miiwrap_fidelity/leaders.html", {"course_key": course_key, "kept": kept})
    view = kept["figures"]
    learners = max([row["value"] or 0 for row in view["distribution"]] + [1])
    charts = {
        "distribution": bar_charts.bar_svg(
            "mwf-chart-distribution", _("Learners by band of their latest score"),
            [(_(BAND_LABELS[row["band"]]), row) for row in view["distribution"]], maximum=learners, unit=""),
        "domains": bar_charts.bar_svg(
            "mwf-chart-domains", _("Indicators met, by domain"),
            [(row["domain"], row) for row in view["indicators"]["domains"]]),
        "months": bar_charts.bar_svg(
            "mwf-chart-months", _("Mean fidelity score by month"),
            [(row["month"].strftime("%Y-%m"), row) for row in view["months"]]),
        "dosage": bar_charts.bar_svg(
            "mwf-chart-dosage", _("Mean fidelity score by number of observations (coaching dosage)"),
            [(ngettext("%(count)s observation", "%(count)s observations", 1 if row["observations"] == "1" else 2)
              % {"count": row["observations"]}, row) for row in view["dosage"]]),
    }
    return render(request, "miiwrap_fidelity/leaders.html", {
        "course_key": course_key, "view": view, "kept": kept,
        "cadence": Paginator(view["cadence"], api.STAFF_PAGE_SIZE).get_page(request.GET.get("cadence")),
        # Built by bar_charts.bar_svg from numbers and escaped text only.
        "charts": {name: mark_safe(svg) for name, svg in charts.items()},  # nosec
    })


@course_view
def export(request, course_key, kind):
    response = StreamingHttpResponse(api.export_lines(request.user, course_key, kind),
                                     content_type="text/csv; charset=utf-8")
    slug = str(course_key).replace(":", "_").replace("+", "_")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{kind}.csv"'
    return response
