"""Settings the plugin adds to the LMS and Studio (edx-django-utils ``plugin_settings``)."""
import copy
import os

CERTIFICATE_CREATION = "org.openedx.learning.certificate.creation.requested.v1"
CERTIFICATE_RENDER = "org.openedx.learning.certificate.render.started.v1"
DASHBOARD_TABS = "org.openedx.learning.instructor.dashboard.tabs.requested.v1"
LEGACY_DASHBOARD = "org.openedx.learning.instructor.dashboard.render.started.v1"

#: Our pipeline steps, keyed by filter type.  They are appended after whatever other plugins or the
#: operator configured, never replacing them.
PIPELINE_STEPS = {
    CERTIFICATE_CREATION: ["miiwrap_fidelity.hooks.filters.CompetencyCertificateGate"],
    CERTIFICATE_RENDER: ["miiwrap_fidelity.hooks.filters.RevokedCertificateRenderGuard"],
    DASHBOARD_TABS: ["miiwrap_fidelity.hooks.filters.CoachingDashboardTab"],
    LEGACY_DASHBOARD: ["miiwrap_fidelity.hooks.filters.CoachingLegacySection"],
}

#: The certificate filters fail closed: if our step crashes, no certificate slips through.
FAIL_CLOSED_FILTERS = {CERTIFICATE_CREATION}

#: Every tracking event we send (seams/tracking_events.py, hooks/receivers.py); each has an xAPI transformer
#: (seams/xapi.py).
TRACKING_EVENTS = [
    f"edx.miiwrap_fidelity.{name}" for name in (
        "observation.submitted", "competency.approved", "competency.revoked", "certification.issued",
        "certification.expired", "drift_alert.created", "competency.changed", "program.completed",
        "program.completion_lapsed", "coaching_plan.saved", "coaching_plan.followed_up",
    )
]

DEFAULTS = {
    # Dotted path of the edx-platform adapter; tests and the demo point this at a fake.
    "MIIWRAP_FIDELITY_PLATFORM_BACKEND": "miiwrap_fidelity.seams.platform.EdxPlatform",
    # Seconds after approval before the platform certificate task is sent (0 = immediately).
    "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN": 0,
    # The template our pages extend: the LMS's Django main template (header, footer, theme). Its
    # blocks we fill: title, headextra, bodyclass, body. "miiwrap_fidelity/standalone.html" is a
    # bare frame with the same blocks.
    "MIIWRAP_FIDELITY_BASE_TEMPLATE": "main_django.html",
    # Whether pages draw their own header band: None (the default) only in a bare frame, never
    # under the LMS's header; True in a site's frame too (the sandbox).
    "MIIWRAP_FIDELITY_FRAME_HEADER": None,
}

#: Gives every page ``miiwrap_base_template`` (pages/frame.py).
CONTEXT_PROCESSOR = "miiwrap_fidelity.pages.frame.frame"


def _translations_dir():
    """The folder holding our message catalogs, inside the installed ``miiwrap_xblocks`` package."""
    import importlib.util  # pylint: disable=import-outside-toplevel

    spec = importlib.util.find_spec("miiwrap_xblocks.translations")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.abspath(list(spec.submodule_search_locations)[0])


def merge_filter_config(existing, steps=None, fail_closed=None):
    """
    Return a copy of ``OPEN_EDX_FILTERS_CONFIG`` with our steps appended.

    Keeps every other plugin's filters and steps, and their ``fail_silently`` choice where they made
    one; accepts the list and string shorthands openedx-filters allows.
    """
    steps = PIPELINE_STEPS if steps is None else steps
    fail_closed = FAIL_CLOSED_FILTERS if fail_closed is None else fail_closed
    merged = copy.deepcopy(existing) if existing else {}
    for filter_type, our_steps in steps.items():
        entry = merged.get(filter_type)
        if entry is None:
            entry = {"pipeline": [], "fail_silently": filter_type not in fail_closed}
        elif isinstance(entry, str):
            entry = {"pipeline": [entry]}
        elif isinstance(entry, (list, tuple)):
            entry = {"pipeline": list(entry)}
        pipeline = entry.get("pipeline") or []
        if isinstance(pipeline, str):
            pipeline = [pipeline]
        entry["pipeline"] = list(pipeline) + [step for step in our_steps if step not in pipeline]
        merged[filter_type] = entry
    return merged


def plugin_settings(settings):
    """Append our filter steps, add our catalogs and set defaults the operator did not set."""
    settings.OPEN_EDX_FILTERS_CONFIG = merge_filter_config(
        getattr(settings, "OPEN_EDX_FILTERS_CONFIG", None)
    )
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
    allow_xapi_events(settings)
    add_context_processor(settings)
    translations = _translations_dir()
    locale_paths = list(getattr(settings, "LOCALE_PATHS", []) or [])
    if translations and translations not in locale_paths:
        settings.LOCALE_PATHS = locale_paths + [translations]


def add_context_processor(settings):
    """Add ours to every Django template engine (the LMS also has Mako engines, which we leave alone)."""
    for engine in getattr(settings, "TEMPLATES", None) or []:
        if engine.get("BACKEND") != "django.template.backends.django.DjangoTemplates":
            continue
        processors = engine.setdefault("OPTIONS", {}).setdefault("context_processors", [])
        if CONTEXT_PROCESSOR not in processors:
            engine["OPTIONS"]["context_processors"] = list(processors) + [CONTEXT_PROCESSOR]


def allow_xapi_events(settings):
    """
    Let event-routing-backends forward our events as xAPI, whichever plugin's settings run first.

    Its ``plugin_settings`` appends its own names to ``EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS``
    and builds ``EVENT_TRACKING_BACKENDS`` from it: before it, adding ours to the list is enough;
    after it, the built router's two allow-lists get ours too.
    """
    allowed = list(getattr(settings, "EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS", None) or [])
    settings.EVENT_TRACKING_BACKENDS_ALLOWED_XAPI_EVENTS = allowed + [
        name for name in TRACKING_EVENTS if name not in allowed]
    router = (getattr(settings, "EVENT_TRACKING_BACKENDS", None) or {}).get("event_transformer")
    if not router:
        return
    options = router.get("OPTIONS", {})
    allow_lists = [processor["OPTIONS"] for processor in options.get("processors", [])
                   if processor.get("ENGINE", "").endswith("NameWhitelistProcessor")]
    xapi = options.get("backends", {}).get("xapi", {}).get("OPTIONS", {})
    allow_lists += [processor["OPTIONS"] for processor in xapi.get("processors", [])
                    if processor.get("ENGINE", "").endswith("NameWhitelistProcessor")]
    for allow_list in allow_lists:
        names = allow_list.get("whitelist")
        if isinstance(names, set):
            names.update(TRACKING_EVENTS)
        else:
            allow_list["whitelist"] = list(names or []) + [n for n in TRACKING_EVENTS if n not in (names or [])]
