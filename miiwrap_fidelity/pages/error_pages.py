"""
Clear 403 and 404 pages with a way back, in our frame. ``views.course_view`` answers with them on
our pages; a site (the sandbox) may also name them as its ``handler403`` / ``handler404``.

Rendered as responses rather than raised, so the operators' log gets one line per refusal
("Forbidden: /path"), not a traceback.
"""
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def _page(request, status, title, explanation, message="", course_key=None):
    return render(request, "miiwrap_fidelity/error.html", {
        "status": status, "title": title, "explanation": explanation, "message": message,
        "course_key": course_key, "back": _same_site(request, request.META.get("HTTP_REFERER", "")),
    }, status=status)


def _same_site(request, url):
    """``url`` when it is a page of this site (a back link never leads elsewhere), else empty."""
    return url if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else ""


def permission_denied(request, exception=None, course_key=None):
    return _page(request, 403, _("You cannot open this page"),
                 _("Your account does not have access to it. If you think it should, ask the course staff "
                   "to check your role (coach, certification lead) in this course."),
                 message=_message(exception), course_key=course_key)


def page_not_found(request, exception=None, course_key=None):
    return _page(request, 404, _("Page not found"),
                 _("The page or record does not exist, or it is not yours to see in this course."),
                 message=_message(exception), course_key=course_key)


def _message(exception):
    """The api's own sentence, when it gave one (it is worded for people); never an internal path."""
    message = getattr(exception, "message", None) or (exception.args[0] if exception and exception.args else "")
    return message if isinstance(message, str) and not message.startswith(("/", "Resolver404")) else ""
