"""
The frame our pages are drawn in: ``MIIWRAP_FIDELITY_BASE_TEMPLATE`` (the LMS's ``main_django.html``
in the platform, so the pages carry the site's header, footer and theme; the sandbox's own base in
the demo). A page shown inside the legacy instructor dashboard's iframe (browsers say so with
``Sec-Fetch-Dest: iframe`` on every page opened there; ``?embedded=1`` asks for it too) gets the
bare frame, not a second copy of the LMS header; so does a site without the named template
(Studio has no ``main_django.html``), rather than an error.
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
    return {"miiwrap_base_template": STANDALONE if embedded else _usable(configured)}
