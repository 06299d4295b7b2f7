"""
What both blocks need from their runtime: the Django user, the course key, translations, rendering,
and JSON handlers that answer 400/403 with a message instead of a traceback.
"""
import json
from functools import wraps

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_noop
from webob import Response
from xblock.core import XBlock
from xblock.utils.resources import ResourceLoader

from miiwrap_fidelity import api
from miiwrap_fidelity.api import NotFound, PermissionDenied, ValidationError

loader = ResourceLoader(__name__)
#: The answer to a write that kept losing lock conflicts (``api.WriteConflict``).
CONFLICT_MESSAGE = gettext_noop("Many people are saving records for this learner right now, so nothing was saved. "
                                "Please try again in a few seconds.")


def current_user(block):
    """The Django user the runtime says is acting (LMS and sandbox user services), or None."""
    service = block.runtime.service(block, "user")
    xblock_user = service.get_current_user() if service else None
    user_id = xblock_user.opt_attrs.get("edx-platform.user_id") if xblock_user else None
    if not user_id:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def course_key(block):
    """The course this block lives in (LMS/Studio usage keys; the runtime's course id otherwise)."""
    from django.conf import settings  # pylint: disable=import-outside-toplevel

    usage_id = block.scope_ids.usage_id
    key = getattr(usage_id, "context_key", None) or getattr(usage_id, "course_key", None)
    key = key or getattr(block.runtime, "course_id", None) or getattr(
        settings, "MIIWRAP_FIDELITY_WORKBENCH_COURSE_ID", None
    )
    try:
        return api.parse_course_key(key) if key else None
    except ValidationError:
        return None


def block_id(block):
    return str(block.scope_ids.usage_id)


def i18n(block):
    return block.runtime.service(block, "i18n")


def gettext(block, message):
    service = i18n(block)
    return service.gettext(message) if service else message


def render(block, template, context):
    return loader.render_django_template(f"templates/{template}", context, i18n_service=i18n(block))


def fragment(html, script=None, initializer=None):
    """A block fragment with our stylesheet and, for interactive views, the shared and the view's script."""
    from web_fragments.fragment import Fragment  # pylint: disable=import-outside-toplevel

    result = Fragment(html)
    result.add_css(loader.load_unicode("static/miiwrap_xblocks.css"))
    if script:
        result.add_javascript(loader.load_unicode("static/miiwrap_common.js"))
        result.add_javascript(loader.load_unicode(f"static/{script}"))
        result.initialize_js(initializer)
    return result


def json_body(request):
    """The request's JSON object (the shared size and nesting caps); ``ValidationError`` otherwise."""
    data = api.parse_json(request.body or b"{}")
    if not isinstance(data, dict):
        raise ValidationError({"body": [gettext_noop("The request must be a JSON object.")]})
    return data


def _json(status, payload):
    response = Response(body=json.dumps(payload, default=str).encode("utf-8"), status=status,
                        content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store, private"  # answers carry personal records
    return response


def json_handler(method):
    """
    A handler taking and returning JSON: only POST; the user must be signed in;
    the api's errors, mapped here once for every handler: ``ValidationError`` → 400 with field
    messages, ``PermissionDenied`` → 403, ``NotFound`` → 404; the write is one transaction retried
    after a lock conflict, 503 when it cannot succeed (``write_retry``).
    """

    @wraps(method)
    def wrapper(block, request, suffix=""):  # pylint: disable=unused-argument
        if request.method != "POST":
            return _json(405, {"error": gettext(block, gettext_noop("Use POST."))})
        user = current_user(block)
        if user is None:
            return _json(403, {"error": gettext(block, gettext_noop("Sign in first."))})
        try:
            return _json(200, api.run_with_write_retries(method, block, user, json_body(request)))
        except api.WriteConflict:
            return _json(503, {"error": gettext(block, CONFLICT_MESSAGE)})
        except NotFound as exc:
            return _json(404, {"error": exc.message})
        except api.Conflict as exc:
            return _json(409, {"errors": _translated(block, exc), "current_revision": exc.current_revision})
        except PermissionDenied as exc:
            return _json(403, {"error": str(exc) or gettext(block, gettext_noop("You are not allowed to do this."))})
        except ValidationError as exc:
            return _json(400, {"errors": _translated(block, exc)})

    return wrapper


def _translated(block, exc):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"error": exc.messages}
    return {field: [gettext(block, m) for m in messages] for field, messages in errors.items()}


class UnknownHandlers:
    """Mixed into our blocks: a handler name that does not exist answers 404, not a runtime error."""

    @XBlock.handler
    def fallback_handler(self, handler_name, request, suffix=""):  # pylint: disable=unused-argument
        return _json(404, {"error": gettext(self, gettext_noop("No such action."))})
