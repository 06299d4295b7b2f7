"""
The competency decision: a pure function from a learner's records and a course policy.

No I/O here: callers load records (``api``) and pass plain values in; the result carries
machine-readable reasons (codes and numbers) that views turn into learner-readable sentences.
"""
import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

COACH = "coach"
LEAD = "lead"
#: Reasons that inform but do not by themselves keep a learner from competency.
INFORMATIONAL = frozenset({"other_instrument_version", "latest_all_not_applicable", "observer_not_calibrated"})
#: A certified learner may be recertified (fresh evidence, new sign-off) this close to expiry.
RECERTIFICATION_DAYS = 90


@dataclass(frozen=True)
class Rules:
    """The parts of a ``CompetencyPolicy`` the decision needs."""

    instrument_version_id: int
    min_observations: int = 3
    min_percent: int = 80
    window_days: int = 180
    critical_required: bool = True
    min_distinct_observers: int = 1
    require_lead_signoff: bool = False
    validity_months: int = 24

    @property
    def required_levels(self):
        return (COACH, LEAD) if self.require_lead_signoff else (COACH,)


@dataclass(frozen=True)
class ObservationRecord:
    """A submitted observation's score snapshot."""

    id: int
    observer_id: int
    instrument_version_id: int
    practice_date: date
    met_count: int
    applicable_count: int
    critical_missed: tuple = ()

    @property
    def percent(self):
        return percent(self.met_count, self.applicable_count)


@dataclass(frozen=True)
class SignOffRecord:
    id: int
    action: str  # "approve" | "revoke"
    level: str  # "coach" | "lead"
    actor_id: int
    created_at: datetime


@dataclass(frozen=True)
class CertificationRecord:
    id: int
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now):
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class Reason:
    """Why a learner is not (yet) certified: a stable code and the numbers behind it."""

    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self):
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data):
        return cls(code=data["code"], params=dict(data.get("params") or {}))

    @property
    def message(self):
        """The sentence for the learner ("your latest observation...")."""
        return reason_message(self)

    @property
    def reviewer_message(self):
        """The sentence for a coach or course staff looking at the learner ("the latest observation...")."""
        return reason_message(self, reviewer=True)


def reason_messages(reason_dicts, reviewer=False):
    """Sentences for stored reasons (``Reason.as_dict`` values), for the learner or for a reviewer."""
    reasons = [Reason.from_dict(item) for item in reason_dicts or []]
    return [reason.reviewer_message if reviewer else reason.message for reason in reasons]


@dataclass(frozen=True)
class Decision:
    state: str
    certified: bool
    evidence_met: bool
    reasons: tuple
    qualifying: tuple
    approved_levels: tuple
    certification: CertificationRecord | None
    required_count: int
    last_observation: ObservationRecord | None
    stale_after: datetime | None
    evidence_reasons: tuple = ()  # what the (fresh) evidence lacks, even while certified

    @property
    def messages(self):
        return [reason.message for reason in self.reasons]


def percent(met, applicable):
    """Percent of applicable indicators met, or None when nothing was applicable."""
    if not applicable:
        return None
    return round(100.0 * met / applicable, 1)


def meets_threshold(met, applicable, min_percent):
    """Integer comparison, so that exactly the threshold (e.g. 4 of 5 = 80%) qualifies."""
    return applicable > 0 and met * 100 >= min_percent * applicable


def add_months(moment, months):
    """``moment`` plus whole calendar months, clamped to the last day of a shorter month."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(issued_at, rules):
    return add_months(issued_at, rules.validity_months) if rules.validity_months else None


def _window_start(rules, today):
    return today - timedelta(days=rules.window_days)


def _in_window(observation, rules, today):
    return _window_start(rules, today) <= observation.practice_date <= today


def evaluate_evidence(rules, observations, today, fresh_after=None, calibrated_observers=None):
    """
    Which observations qualify and what the evidence still lacks.

    ``fresh_after``: after a certification, only practice observed after its date counts (a
    recertification needs fresh evidence). ``calibrated_observers``: when the policy requires
    calibration, the observers whose ratings count. Returns ``(qualifying, reasons, latest)``
    where ``latest`` is the most recent counted observation in the window.
    """
    reasons = []
    if calibrated_observers is not None:
        uncalibrated = [obs for obs in observations if obs.observer_id not in calibrated_observers]
        if uncalibrated:
            reasons.append(Reason("observer_not_calibrated", {"count": len(uncalibrated)}))
        observations = [obs for obs in observations if obs.observer_id in calibrated_observers]
    if fresh_after is not None:
        observations = [obs for obs in observations if obs.practice_date > fresh_after]
    current = [obs for obs in observations if obs.instrument_version_id == rules.instrument_version_id]
    in_window = sorted(
        (obs for obs in current if _in_window(obs, rules, today)),
        key=lambda obs: (obs.practice_date, obs.id),
    )
    qualifying = tuple(
        obs for obs in in_window
        if meets_threshold(obs.met_count, obs.applicable_count, rules.min_percent)
        and not (rules.critical_required and obs.critical_missed)
    )
    latest = in_window[-1] if in_window else None
    other_version = len(observations) - len(current)
    if other_version:
        reasons.append(Reason("other_instrument_version", {"count": other_version}))
    if len(qualifying) < rules.min_observations:
        reasons.append(
            Reason("observations_short", {"have": len(qualifying), "need": rules.min_observations,
                                          "min_percent": rules.min_percent, "window_days": rules.window_days})
        )
    observers = len({obs.observer_id for obs in qualifying})
    if observers < rules.min_distinct_observers > 1:  # with one observer, "observations_short" says it all
        reasons.append(Reason("observers_short", {"have": observers, "need": rules.min_distinct_observers}))
    if latest is not None and latest.applicable_count == 0:
        reasons.append(Reason("latest_all_not_applicable", {"date": latest.practice_date.isoformat()}))
    if rules.critical_required and latest is not None and latest.critical_missed:
        reasons.append(
            Reason("critical_not_met_latest", {"indicators": list(latest.critical_missed),
                                               "date": latest.practice_date.isoformat()})
        )
    return qualifying, reasons, latest


def current_approvals(signoffs, since=None):
    """
    Levels approved since the last revocation (and since ``since``, the last certification).

    A certification consumes the approvals that produced it: after it expires or is revoked,
    fresh approvals are needed.
    """
    approved = {}
    for signoff in sorted(signoffs, key=lambda s: (s.created_at, s.id)):
        if since is not None and signoff.created_at <= since:
            continue
        if signoff.action == "revoke":
            approved.clear()
        else:
            approved.setdefault(signoff.level, signoff)
    return approved


def decide(rules, observations, signoffs, certification, now, calibrated_observers=None):
    """
    The learner's competency decision at ``now``.

    ``certification`` is the learner's most recent certification in the course (or None); the
    evidence for the next one must be observed after it was issued.
    """
    today = now.date()
    fresh_after = certification.issued_at.date() if certification is not None else None
    qualifying, evidence_reasons, latest = evaluate_evidence(rules, observations, today, fresh_after,
                                                             calibrated_observers)
    reasons = [r for r in evidence_reasons if r.code not in INFORMATIONAL]
    evidence_met = not reasons
    active = certification is not None and certification.is_active(now)
    approvals = current_approvals(signoffs, since=certification.issued_at if certification else None)
    approved_levels = tuple(level for level in rules.required_levels if level in approvals)
    stale_after = _stale_after(rules, observations, today, certification if active else None)

    if active:
        return Decision("certified", True, evidence_met, (), qualifying, approved_levels, certification,
                        rules.min_observations, latest, stale_after, tuple(reasons))

    if certification is not None and certification.revoked_at is not None:
        reasons.insert(0, Reason("certification_revoked", {"date": certification.revoked_at.date().isoformat()}))
    elif certification is not None:
        reasons.insert(0, Reason("certification_expired", {"date": certification.expires_at.date().isoformat()}))
    for level in rules.required_levels:
        if level not in approvals:
            reasons.append(Reason(f"{level}_signoff_missing"))
    reasons += [r for r in evidence_reasons if r.code in INFORMATIONAL]
    return Decision(_state(evidence_met, approved_levels, certification, observations), False, evidence_met,
                    tuple(reasons), qualifying, approved_levels, certification, rules.min_observations,
                    latest, stale_after, tuple(r for r in evidence_reasons if r.code not in INFORMATIONAL))


def _state(evidence_met, approved_levels, certification, observations):
    if evidence_met and COACH in approved_levels:
        return "awaiting_lead"
    if certification is not None and certification.revoked_at is not None:
        return "revoked"
    if evidence_met:
        return "ready"
    if certification is not None:
        return "expired"
    return "in_progress" if observations else "not_started"


def recertification_open(certification, now):
    """Whether an active certification is close enough to expiry for a new sign-off to renew it."""
    return (certification is not None and certification.is_active(now) and certification.expires_at is not None
            and certification.expires_at - now <= timedelta(days=RECERTIFICATION_DAYS))


def _stale_after(rules, observations, today, active_certification):
    """The first moment at which the mere passing of time can change this decision."""
    if active_certification is not None:
        return active_certification.expires_at
    leaving = [
        obs.practice_date + timedelta(days=rules.window_days + 1)
        for obs in observations if _in_window(obs, rules, today)
    ]
    if not leaving:
        return None
    return datetime.combine(min(leaving), time.min, tzinfo=timezone.utc)


def reason_message(reason, reviewer=False):  # pylint: disable=too-many-return-statements
    """
    A sentence in the active language, in developmental wording: addressed to the learner, or
    (``reviewer``) about the learner, for their coaches and course staff.
    """
    params = reason.params
    code = reason.code
    if code == "observations_short":
        return ngettext(
            "%(have)s of %(need)s qualifying observation so far (practice observed in the last "
            "%(window_days)s days, at least %(min_percent)s%% of indicators met).",
            "%(have)s of %(need)s qualifying observations so far (practice observed in the last "
            "%(window_days)s days, at least %(min_percent)s%% of indicators met).",
            params["need"],
        ) % params
    if code == "observers_short":
        return ngettext(
            "Qualifying observations come from %(have)s observer; %(need)s different observer is needed.",
            "Qualifying observations come from %(have)s observers; %(need)s different observers are needed.",
            params["need"],
        ) % params
    if code == "critical_not_met_latest":
        values = {"indicators": ", ".join(params.get("labels") or params["indicators"]), "date": params["date"]}
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
    return code
