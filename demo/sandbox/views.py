"""The sandbox's own pages: who to log in as, the learner's certificate actions, the request log."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openedx_filters.learning.filters import CertificateRenderStarted

from miiwrap_fidelity import api

from .fake_platform import FakePlatform
from .models import CertificateRequest

DEMO_USERS = [
    ("learner_ana", "learner: no observations yet"),
    ("learner_ben", "learner: in progress (a critical indicator not met)"),
    ("learner_cam", "learner: ready for coach sign-off"),
    ("learner_dee", "learner: enrolled, no coach yet"),
    ("coach_casey", "coach of seven learners: ana, ben, cam and cohort_02, 04, 06, 08"),
    ("lead_lee", "course staff / certification lead"),
]
DEMO_PASSWORD = "miiwrap-demo"


def index(request):
    course_id = settings.DEMO_COURSE_ID
    users = {user.username: user for user in get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS])}
    return render(request, "sandbox/index.html", {
        "course_id": course_id,
        "demo_users": [(users.get(name), name, role) for name, role in DEMO_USERS],
        "password": DEMO_PASSWORD,
        "requests": CertificateRequest.objects.select_related("user")[:20],
        "is_coach": request.user.is_authenticated and (
            api.coached_learner_ids(request.user, course_id) or api.is_course_staff(request.user, course_id)),
    })


@require_POST
@login_required
def request_certificate(request):
    """What the LMS does when a learner passes the course: ask for the certificate."""
    generated = FakePlatform().request_certificate(request.user, api.parse_course_key(settings.DEMO_COURSE_ID))
    if generated:
        messages.success(request, _("Certificate generated: the competency gate let it through."))
    else:
        messages.warning(request, _("Certificate prevented by the competency gate: %(reasons)s") % {
            "reasons": CertificateRequest.objects.filter(user=request.user).first().message})
    return redirect("sandbox:index")


@login_required
def view_certificate(request):
    """What the LMS certificate page does before rendering: run CertificateRenderStarted."""
    context = {"accomplishment_user_id": request.user.pk, "course_id": settings.DEMO_COURSE_ID}
    generated = CertificateRequest.objects.filter(user=request.user, outcome="generated").exists()
    try:
        CertificateRenderStarted.run_filter(context=context, custom_template=None)
    except CertificateRenderStarted.RenderAlternativeInvalidCertificate as exc:
        return render(request, "sandbox/certificate.html", {"invalid": str(exc)}, status=403)
    return render(request, "sandbox/certificate.html", {"generated": generated, "course_id": settings.DEMO_COURSE_ID})
