"""The learner's self-assessment of an observed session, posted from their competency page (ADR 0014)."""
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import api
from ..api import ValidationError
from .access import course_view, retrying_view
from .learner_and_coach import my_competency


@require_POST
@retrying_view
@course_view
def self_assess(request, course_key, observation_id):
    """Submit (or decline) the self-assessment; bad input re-renders the page with messages and 400."""
    if request.POST.get("action") == "decline":
        data = {"decline": True}
    else:
        assessment = api.self_assessment_for(request.user, course_key, observation_id)
        data = {"ratings": {row.indicator_key: request.POST.get(f"rating-{row.indicator_key}", "")
                            for row in assessment.rows if request.POST.get(f"rating-{row.indicator_key}")},
                "note": request.POST.get("note", ""), "privacy_confirmed": request.POST.get("privacy_confirmed") == "on"}
    try:
        api.save_self_assessment(request.user, course_key, observation_id, data,
                                 idempotency_key=request.POST.get("submission_token"))
    except ValidationError as exc:  # shown again with what the learner entered
        return my_competency(request, str(course_key), form_errors=exc.message_dict, http_status=400,
                             assessed=observation_id, entered=data)
    messages.success(request, _("Self-assessment declined; your coach's ratings are now shown.")
                     if data.get("decline") else
                     _("Self-assessment submitted; your ratings and your coach's are now side by side."))
    return redirect(reverse("miiwrap_fidelity:my_competency", args=[str(course_key)]) + "#mwf-self-heading")
