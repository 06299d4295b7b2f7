"""
The sentences people read for ``competency.Reason`` codes, in the active language.

The decision itself (``competency``) stays free of translation machinery: it returns codes and
numbers, and pages, REST answers, XBlocks and the certificate gate's message word them here.
"""
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from ..rules import competency, practice_settings, rating_scales
from ..rules.competency import Reason
from . import formatting


def sentences(reasons, reviewer=False, coached=True):
    """
    Sentences for ``Reason`` values or stored reasons (``Reason.as_dict`` values); ``coached``
    False: nobody coaches the learner in the course (the learner then reads so, issue 26).
    """
    return [sentence(reason if isinstance(reason, Reason) else Reason.from_dict(reason), reviewer, coached)
            for reason in reasons or []]


def sentence(reason, reviewer=False, coached=True):  # pylint: disable=too-many-return-statements
    """
    A sentence in the active language, in developmental wording: addressed to the learner, or
    (``reviewer``) about the learner, for their coaches and course staff. A learner nobody
    coaches (``coached`` False) reads that no coach is assigned instead of waiting for one.
    """
    params = reason.params
    code = reason.code
    if code == "coach_signoff_missing" and not reviewer and not coached:
        return _("No coach is assigned to you yet; your course staff assigns one.")
    if code == "observations_short" and "conditions" in params:
        return _requirement_short(params)
    if code == "observations_short":
        return ngettext(
            "%(have)s of %(need)s qualifying observation so far (practice observed in the last "
            "%(window_days)s days, at least %(min_percent)s of indicators met).",
            "%(have)s of %(need)s qualifying observations so far (practice observed in the last "
            "%(window_days)s days, at least %(min_percent)s of indicators met).",
            params["need"],
        ) % {**params, "min_percent": formatting.percent(params["min_percent"])} + _latest_short(params)
    if code == "observers_short" and "set" in params:
        return ngettext(
            "Requirement %(set)s: its qualifying observations come from %(have)s observer; %(need)s different "
            "observer is needed.",
            "Requirement %(set)s: its qualifying observations come from %(have)s observers; %(need)s different "
            "observers are needed.",
            params["need"],
        ) % params
    if code == "observers_short":
        return ngettext(
            "Qualifying observations come from %(have)s observer; %(need)s different observer is needed.",
            "Qualifying observations come from %(have)s observers; %(need)s different observers are needed.",
            params["need"],
        ) % params
    if code == "critical_not_met_latest":
        values = {"indicators": ", ".join(_in_reader_language(params.get("labels") or params["indicators"],
                                                              params.get("label_translations"))),
                  "date": params["date"]}
        if reviewer:
            return _("Next step: the essential indicator(s) %(indicators)s were not yet met in the latest "
                     "observation (%(date)s).") % values
        return _("Next step: the essential indicator(s) %(indicators)s were not yet met in your latest "
                 "observation (%(date)s).") % values
    if code == "latest_all_not_applicable":
        if reviewer:
            return _("The latest observation (%(date)s) had no applicable indicators, so it does not count.") % params
        return _("Your latest observation (%(date)s) had no applicable indicators, so it does not count.") % params
    if code == "coach_signoff_missing":
        return _("Waiting for a coach's sign-off.") if reviewer else _(
            "Your coach has not signed off your competency yet.")
    if code == "lead_signoff_missing":
        return _("Waiting for a certification lead to confirm competency.") if reviewer else _(
            "A certification lead has not confirmed your competency yet.")
    if code == "certification_revoked":
        if reviewer:
            return _("The certification was revoked on %(date)s.") % params
        return _("Your certification was revoked on %(date)s; talk with your coach about the next steps.") % params
    if code == "certification_expired":
        if reviewer:
            return _("The certification expired on %(date)s; recertification needs fresh observations and "
                     "sign-off.") % params
        return _("Your certification expired on %(date)s; recertification needs fresh observations and "
                 "sign-off.") % params
    if code == "observer_not_calibrated":
        return ngettext("%(count)s observation is by an observer not yet calibrated and does not count.",
                        "%(count)s observations are by observers not yet calibrated and do not count.",
                        params["count"]) % params
    if code == "other_instrument_version":
        return ngettext("%(count)s observation used an earlier rubric version and does not count.",
                        "%(count)s observations used an earlier rubric version and do not count.",
                        params["count"]) % params
    if code == "other_setting":
        return ngettext("%(count)s observation was of a setting no requirement asks for and does not count.",
                        "%(count)s observations were of settings no requirement asks for and do not count.",
                        params["count"]) % params
    if code == "prerequisite_not_certified":
        values = {"course": params.get("course_name") or params["course"]}  # by name (ids from before)
        if reviewer:
            return _("The learner's certification in the earlier stage “%(course)s” is not active; this "
                     "course builds on it.") % values
        return _("First, your certification in the earlier stage “%(course)s” must be active: this course "
                 "builds on it, and only practice observed after it was issued counts here.") % values
    if code == "due_by":
        if reviewer:
            return _("Due date: competent by %(date)s.") % params
        return _("Your due date: competent by %(date)s.") % params
    if code == "overdue":
        if reviewer:
            return _("Overdue: the due date was %(date)s.") % params
        return _("Your due date was %(date)s; talk with your coach about what is still open.") % params
    if code == "no_lead_level":
        return _("This course's policy has no lead sign-off level.")
    if code == "coach_approves_first":
        return _("The coach approves first; the lead then confirms.")
    if code == "lead_is_approving_coach":
        return _("The lead confirmation must come from someone other than the approving coach.")
    if code == "nothing_to_revoke":
        return _("There is no approval or active certification to revoke.")
    return code


def _in_reader_language(names, translations):
    """
    Names of an instrument's items (indicator labels, a summary score's label) in the reader's
    language where the instrument translates them (``translations``: ``{language: names}``, as
    evaluation stores them with the reason), else as the instrument's own text (issue 26).
    """
    chosen = rating_scales.pick_language(translations if isinstance(translations, dict) else None, get_language())
    return translations[chosen] if chosen else names


def _number(value):
    """A threshold as the reader's language writes it: 80, 3.5 / 3,5 (no trailing zeros)."""
    return formatting.number(value, digits=3)


def condition_phrase(condition):
    """One condition of a requirement set (``Condition.as_dict`` plus the summary score's ``label``)."""
    measure, value = condition.get("measure"), condition.get("value", 0)
    at_least = condition.get("op", competency.AT_LEAST) == competency.AT_LEAST
    if measure == competency.ESSENTIALS:
        return _("every essential indicator met")
    if measure == competency.PERCENT:
        # The percent sign goes with the number (formatting.percent), as the reader's language writes it.
        return (_("at least %(percent)s of indicators met") if at_least
                else _("at most %(percent)s of indicators met")) % {"percent": formatting.percent(value, digits=3)}
    values = {"score": _in_reader_language(condition.get("label") or condition.get("key", ""),
                                           condition.get("label_translations")), "value": _number(value)}
    return (_("%(score)s of at least %(value)s") if at_least else _("%(score)s of at most %(value)s")) % values


def _requirement_short(params):
    """What a requirement set still lacks, naming its setting, window and conditions."""
    values = {**params, "conditions": "; ".join(condition_phrase(c) for c in params["conditions"])
              or _("no further conditions"), "setting": practice_settings.label(params.get("setting") or ""),
              "window": _window(params)}
    prefix = (_("Requirement %(set)s: ") % params) if "set" in params else ""
    if "latest_short" in params:  # what the latest session lacked, instead of every condition of the set
        if params.get("setting"):
            return prefix + ngettext(
                "%(have)s of %(need)s qualifying observation in the setting \"%(setting)s\" so far (practice "
                "observed in the last %(window)s).",
                "%(have)s of %(need)s qualifying observations in the setting \"%(setting)s\" so far (practice "
                "observed in the last %(window)s).",
                params["need"]) % values + _latest_short(params)
        return prefix + ngettext(
            "%(have)s of %(need)s qualifying observation so far (practice observed in the last %(window)s).",
            "%(have)s of %(need)s qualifying observations so far (practice observed in the last %(window)s).",
            params["need"]) % values + _latest_short(params)
    if params.get("setting"):
        return prefix + ngettext(
            "%(have)s of %(need)s qualifying observation in the setting \"%(setting)s\" so far (practice observed "
            "in the last %(window)s, each with %(conditions)s).",
            "%(have)s of %(need)s qualifying observations in the setting \"%(setting)s\" so far (practice "
            "observed in the last %(window)s, each with %(conditions)s).",
            params["need"]) % values
    return prefix + ngettext(
        "%(have)s of %(need)s qualifying observation so far (practice observed in the last %(window)s, "
        "each with %(conditions)s).",
        "%(have)s of %(need)s qualifying observations so far (practice observed in the last %(window)s, "
        "each with %(conditions)s).",
        params["need"]) % values


def _latest_short(params):
    """' The latest, on <date>, fell short: <each failed condition>.' ("" without a shortfall)."""
    latest = params.get("latest_short")
    if not latest:
        return ""
    failures = "; ".join(_failure(condition) for condition in latest["failed"])
    return " " + _("The latest, on %(date)s, fell short: %(failures)s.") % {"date": latest["date"],
                                                                           "failures": failures}


def _failure(condition):
    """One failed condition with the session's own value, in the reader's words."""
    measure, actual = condition["measure"], condition.get("actual")
    if measure == competency.NONE_APPLICABLE:
        return _("no indicator applied")
    if measure == competency.ESSENTIALS:
        return _("an essential indicator was not met")
    at_least = condition.get("op", competency.AT_LEAST) == competency.AT_LEAST
    if measure == competency.PERCENT:
        values = {"actual": formatting.percent(actual, digits=3), "value": formatting.percent(condition["value"],
                                                                                                 digits=3)}
        return (_("%(actual)s of indicators met, needs at least %(value)s") if at_least
                else _("%(actual)s of indicators met, needs at most %(value)s")) % values
    score = _in_reader_language(condition.get("label") or condition.get("key", ""),
                                condition.get("label_translations"))
    if actual is None:
        return _("%(score)s could not be computed for it (a count it divides by was 0, or a rating it needs is "
                 "missing)") % {"score": score}
    values = {"score": score, "actual": _number(actual), "value": _number(condition["value"])}
    return (_("%(score)s %(actual)s, needs at least %(value)s") if at_least
            else _("%(score)s %(actual)s, needs at most %(value)s")) % values


def _window(params):
    """A requirement set's window as the reader says it: "180 days", "12 months"."""
    months = params.get("window_months")
    if months:
        return ngettext("%(months)s month", "%(months)s months", months) % {"months": months}
    return ngettext("%(days)s day", "%(days)s days", params["window_days"]) % {"days": params["window_days"]}


def approval_not_offered(code):
    """Why a page or block offers no approval (``competency.OfferedActions.not_offered``), for the coach."""
    if code == "certified":
        return _("Certified: nothing to approve now. Approval for recertification opens as the expiry date nears.")
    if code == "renewal_needs_evidence":
        return _("Recertification can be approved once enough new qualifying observations are in (see the "
                 "status above).")
    if code == "awaiting_lead":
        return _("You have approved; a certification lead confirms next.")
    return _("Approval opens when the observations meet the course's requirements (see what remains above).")
