"""The page where a person chooses which of our messages they receive (linked from every message)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import api


@login_required
@require_http_methods(["GET", "POST"])
def message_preferences(request):
    """Only the signed-in person's own choice: there is no user parameter to tamper with."""
    if request.method == "POST":
        receive = request.POST.get("non_essential") == "on"
        api.set_non_essential(request.user, receive)
        messages.success(request, _("Saved: you will receive these messages.") if receive
                         else _("Saved: you will no longer receive these messages."))
        return redirect("miiwrap_fidelity:message_preferences")
    return render(request, "miiwrap_fidelity/message_preferences.html",
                  {"non_essential": api.receives_non_essential(request.user)})
