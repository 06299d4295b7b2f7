"""
The frame our pages are drawn in: ``MIIWRAP_FIDELITY_BASE_TEMPLATE`` (the LMS's ``main_django.html``
in the platform, so the pages carry the site's header, footer and theme; the sandbox's own base in
the demo). A page shown inside the legacy instructor dashboard (``?embedded=1``, an iframe) gets
the bare frame, not a second copy of the LMS header.
"""
from django.conf import settings

STANDALONE = "miiwrap_fidelity/standalone.html"


def frame(request):
    embedded = request is not None and request.GET.get("embedded") == "1"
    base = STANDALONE if embedded else getattr(settings, "MIIWRAP_FIDELITY_BASE_TEMPLATE", "") or STANDALONE
    return {"miiwrap_base_template": base, "miiwrap_embedded": embedded}
