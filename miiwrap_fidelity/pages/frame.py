"""
The frame our pages are drawn in: ``MIIWRAP_FIDELITY_BASE_TEMPLATE`` (the LMS's ``main_django.html``
in the platform, so the pages carry the site's header, footer and theme; the sandbox's own base in
the demo). A page shown inside the legacy instructor dashboard's iframe (browsers say so with
``Sec-Fetch-Dest: iframe`` on every page opened there; ``?embedded=1`` asks for it too) gets the
bare frame, not a second copy of the LMS header; so does a site without the named template
(Studio has no ``main_django.html``), rather than an error. Inside a site's frame the pages draw no
header band of their own (``_own_header``).
"""
from functools import lru_cache

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

STANDALONE = "miiwrap_fidelity/standalone.html"


@lru_cache(maxsize=8)
def _usable(name):
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return STANDALONE
    return name


def frame(request):
    embedded = request is not None and (request.GET.get("embedded") == "1"
                                        or request.headers.get("Sec-Fetch-Dest") == "iframe")
    configured = getattr(settings, "MIIWRAP_FIDELITY_BASE_TEMPLATE", "") or STANDALONE
    base = STANDALONE if embedded else _usable(configured)
    return {"miiwrap_base_template": base, "miiwrap_own_header": _own_header(base, embedded)}


def _own_header(base, embedded):
    """
    Whether our pages draw their own header band (what they are, who is signed in). Inside the LMS
    they do not: its ``main_django.html`` draws the site's header, and a second navy band under it
    repeats it (issue 26); nor inside the instructor dashboard's iframe, which sits under that header.
    A bare frame with no site around it (Studio, ``standalone.html``) draws it, and
    ``MIIWRAP_FIDELITY_FRAME_HEADER = True`` asks for it in a site's frame too (the sandbox).
    """
    if embedded:
        return False
    asked = getattr(settings, "MIIWRAP_FIDELITY_FRAME_HEADER", None)
    return base == STANDALONE if asked is None else bool(asked)
