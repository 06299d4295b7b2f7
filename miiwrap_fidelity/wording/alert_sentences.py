"""The sentences people read for drift alerts, in the active language (developmental wording)."""
from django.utils.translation import gettext as _

from .formatting import percent


def alert_message(kind, details, indicator_label=""):
    """Developmental wording for the learner and the coach."""
    if kind == "below_band":
        return _("Recent observations average %(rolling)s, below the adequate band (%(adequate)s). "
                 "Plan a next step with your coach.") % {"rolling": percent(details["rolling"]),
                                                         "adequate": percent(details["adequate"])}
    if kind == "not_met_twice":
        return _("Next step: “%(indicator)s” was not yet met in the last two observations.") % {
            "indicator": indicator_label}
    if kind == "critical_not_met":
        return _("Next step: the essential indicator “%(indicator)s” was not yet met in the latest "
                 "observation.") % {"indicator": indicator_label}
    return kind
