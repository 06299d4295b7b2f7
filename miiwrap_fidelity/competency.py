"""
Every certification rule, as pure functions: records in, decision with reasons out.

No I/O, no database, no translation here (the import-linter contracts in ``.importlinter`` keep it so):
callers load records (``evaluation``) and pass plain values in; results carry machine-readable
reasons (codes and numbers) that ``reason_sentences`` words for people. What lives here:

- the evidence rules (which observations qualify, what is still missing): ``evaluate_evidence``;
- the learner's decision and state: ``decide`` and the ``State`` enum the status rows store;
- the certification's state at a moment (active, expiring, expired, revoked): ``certification_state``,
  with the one expiring window ``EXPIRING_DAYS`` (also the recertification window);
- the state lists show for a stored row: ``display_state`` (the SQL of ``roster`` is built from
  ``STATE_FILTERS`` below, the same rules);
- the certificate gate's answer from a stored status row: ``gate_verdict``;
- the sign-off rules (lead after coach, lead not the approving coach, renewal window, "all levels
  approved: issue a certification"): ``signoff_verdict`` and ``revoke_refusal``.
"""
import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

COACH = "coach"
LEAD = "lead"
APPROVE = "approve"
REVOKE = "revoke"
#: Reasons that inform but do not by themselves keep a learner from competency.
INFORMATIONAL = frozenset({"other_instrument_version", "latest_all_not_applicable", "observer_not_calibrated"})
#: A certification expiring within this many days is "expiring"; a new sign-off may then renew it.
EXPIRING_DAYS = 90
#: The narrower "expiring" filters offered to staff, in days (each within ``EXPIRING_DAYS``).
EXPIRING_WINDOWS = (30, 60, EXPIRING_DAYS)


class State(str, enum.Enum):
    """A learner's stored competency state (``LearnerStatus.state``)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    AWAITING_LEAD = "awaiting_lead"
    CERTIFIED = "certified"
    EXPIRED = "expired"
    REVOKED = "revoked"

    def __str__(self):
        return self.value


#: What lists show: the stored states, with a certified row "expiring" as its expiry nears.
EXPIRING = "expiring"


class CertificationState(str, enum.Enum):
    """A certification at a given moment."""

    ACTIVE = "active"
    EXPIRING = "expiring"  # active, and expires within ``EXPIRING_DAYS``
    EXPIRED = "expired"
    REVOKED = "revoked"

    def __str__(self):
        return self.value


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
    summary_scores: tuple = ()  # sorted ``(summary_key, value)`` pairs
    setting: str = ""

    @property
    def percent(self):
        return percent(self.met_count, self.applicable_count)


@dataclass(frozen=True)
class SignOffRecord:
    id: int
    action: str  # APPROVE | REVOKE
    level: str  # COACH | LEAD
    actor_id: int
    created_at: datetime
    evidence_digest: str = ""


@dataclass(frozen=True)
class CertificationRecord:
    id: int
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now):
        return is_active(self.expires_at, self.revoked_at, now)


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


@dataclass(frozen=True)
class Decision:
    state: State
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
    approvals: dict = field(default_factory=dict)  # level -> the SignOffRecord that approved it


# --- certifications over time -------------------------------------------------------------------

def is_active(expires_at, revoked_at, now):
    """A certification counts from issue until revoked or until its expiry moment (exclusive)."""
    return revoked_at is None and (expires_at is None or now < expires_at)


def certification_state(expires_at, revoked_at, now, expiring_days=EXPIRING_DAYS):
    """Active, expiring (active and within ``expiring_days`` of expiry), expired or revoked at ``now``."""
    if revoked_at is not None:
        return CertificationState.REVOKED
    if not is_active(expires_at, revoked_at, now):
        return CertificationState.EXPIRED
    if expires_at is not None and expires_at <= now + timedelta(days=expiring_days):
        return CertificationState.EXPIRING
    return CertificationState.ACTIVE


def display_state(stored_state, expires_at, now):
    """
    The state a list shows for a stored status row and its certification's expiry: a certified row
    is "expiring" within ``EXPIRING_DAYS`` of its expiry and "expired" from then on.
    """
    if stored_state != State.CERTIFIED:
        return str(stored_state)
    state = certification_state(expires_at, None, now)
    return {CertificationState.EXPIRING: EXPIRING, CertificationState.EXPIRED: str(State.EXPIRED)}.get(
        state, str(State.CERTIFIED))


@dataclass(frozen=True)
class StateFilter:
    """
    One filter of the learner list, as conditions on a stored row (``states``: stored states that
    match outright; ``certified_expiry``: certified rows match when their expiry lies in that range,
    ``(after_days, until_days)`` from now, ``None`` for an open end: "no expiry" counts as after any
    moment). ``roster`` turns these into SQL; ``matches`` is the same rule in Python.
    """

    states: tuple = ()
    certified_expiry: tuple | None = None

    def matches(self, stored_state, expires_at, now):
        """The rule in Python (the property test holds ``roster``'s SQL to it)."""
        if stored_state in self.states:
            return True
        if self.certified_expiry is None or stored_state != State.CERTIFIED:
            return False
        after, until = self.certified_expiry
        after_ok = after is None or expires_at is None or expires_at > now + timedelta(days=after)
        if expires_at is None:
            return after_ok and until is None
        return after_ok and (until is None or expires_at <= now + timedelta(days=until))


def expiring_filter(days):
    """The list filter's name for "expiring within ``days`` days" ("expiring" for the widest window)."""
    return EXPIRING if days == EXPIRING_DAYS else f"{EXPIRING}_{days}"


#: Every filter of the learner list; each matches exactly the rows ``display_state`` shows so
#: (the expiring windows are nested: "within 60 days" includes "within 30 days").
STATE_FILTERS = {
    str(State.NOT_STARTED): StateFilter(states=(State.NOT_STARTED,)),
    str(State.IN_PROGRESS): StateFilter(states=(State.IN_PROGRESS,)),
    str(State.READY): StateFilter(states=(State.READY,)),
    str(State.AWAITING_LEAD): StateFilter(states=(State.AWAITING_LEAD,)),
    str(State.CERTIFIED): StateFilter(certified_expiry=(0, None)),
    **{expiring_filter(days): StateFilter(certified_expiry=(0, days)) for days in reversed(EXPIRING_WINDOWS)},
    str(State.EXPIRED): StateFilter(states=(State.EXPIRED,), certified_expiry=(None, 0)),
    str(State.REVOKED): StateFilter(states=(State.REVOKED,)),
}


# --- evidence -----------------------------------------------------------------------------------

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
        if signoff.action == REVOKE:
            approved.clear()
        else:
            approved.setdefault(signoff.level, signoff)
    return approved


# --- the decision -------------------------------------------------------------------------------

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
        return Decision(State.CERTIFIED, True, evidence_met, (), qualifying, approved_levels, certification,
                        rules.min_observations, latest, stale_after, tuple(reasons), approvals)

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
                    latest, stale_after, tuple(r for r in evidence_reasons if r.code not in INFORMATIONAL),
                    approvals)


def _state(evidence_met, approved_levels, certification, observations):
    if evidence_met and COACH in approved_levels:
        return State.AWAITING_LEAD
    if certification is not None and certification.revoked_at is not None:
        return State.REVOKED
    if evidence_met:
        return State.READY
    if certification is not None:
        return State.EXPIRED
    return State.IN_PROGRESS if observations else State.NOT_STARTED


def recertification_open(certification, now):
    """Whether an active certification is close enough to expiry for a new sign-off to renew it."""
    return (certification is not None and certification_state(certification.expires_at, certification.revoked_at,
                                                               now) == CertificationState.EXPIRING)


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


# --- the certificate gate -----------------------------------------------------------------------

@dataclass(frozen=True)
class GateVerdict:
    allowed: bool
    reasons: tuple = ()


def gate_verdict(stored_reasons, certification, now):
    """
    The certificate gate's answer from a learner's stored status: ``stored_reasons`` (``Reason``
    values the last evaluation stored) and ``certification`` (the row's certification record, or
    None). Time is applied here, so a certification that expired after the last evaluation is
    refused with the expiry as its first reason.
    """
    if certification is not None and certification.is_active(now):
        return GateVerdict(True)
    reasons = tuple(stored_reasons)
    if certification is not None and certification.revoked_at is None:
        reasons = (Reason("certification_expired", {"date": certification.expires_at.date().isoformat()}),
                   ) + tuple(r for r in reasons if r.code != "certification_expired")
    return GateVerdict(False, reasons)


def gate_verdict_without_status(rules, now):
    """The gate's answer for a learner the course has never evaluated (no records at all)."""
    return GateVerdict(False, decide(rules, [], [], None, now).reasons)


# --- sign-off rules -----------------------------------------------------------------------------

class SignOffOutcome(str, enum.Enum):
    REFUSED = "refused"
    ALREADY_CERTIFIED = "already_certified"  # nothing to do: the certification stands
    ALREADY_APPROVED = "already_approved"  # the same level approved the same evidence already
    RECORD = "record"  # write the approval
    RECORD_AND_CERTIFY = "record_and_certify"  # write it; every required level has now approved

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class SignOffVerdict:
    outcome: SignOffOutcome
    refusals: dict = field(default_factory=dict)  # field -> tuple of Reason
    existing: SignOffRecord | None = None  # the approval that stands, for the "already" outcomes

    @property
    def writes(self):
        return self.outcome in (SignOffOutcome.RECORD, SignOffOutcome.RECORD_AND_CERTIFY)


def signoff_verdict(rules, decision, level, actor_id, evidence_digest, now):
    """
    What an approval at ``level`` by ``actor_id`` does, given the learner's ``decision``.

    Approving needs evidence that meets the policy (while certified, only inside the renewal window,
    and then fresh evidence); the lead confirms after a coach, and is someone other than that coach.
    Approving again on the same evidence changes nothing. (Who may approve at all is a role check,
    done by the caller before.)
    """
    renewing = decision.certified and recertification_open(decision.certification, now)
    if decision.certified and not renewing:
        return SignOffVerdict(SignOffOutcome.ALREADY_CERTIFIED)
    if not decision.evidence_met:
        missing = decision.evidence_reasons if renewing else decision.reasons
        return SignOffVerdict(SignOffOutcome.REFUSED, {"evidence": tuple(
            r for r in missing if not r.code.endswith("_signoff_missing"))})
    if level not in rules.required_levels:
        return SignOffVerdict(SignOffOutcome.REFUSED, {"level": (Reason("no_lead_level"),)})
    approvals = decision.approvals
    if level == LEAD and COACH not in approvals:
        return SignOffVerdict(SignOffOutcome.REFUSED, {"level": (Reason("coach_approves_first"),)})
    if level == LEAD and approvals[COACH].actor_id == actor_id:
        return SignOffVerdict(SignOffOutcome.REFUSED, {"level": (Reason("lead_is_approving_coach"),)})
    existing = approvals.get(level)
    if existing is not None and existing.evidence_digest == evidence_digest:
        return SignOffVerdict(SignOffOutcome.ALREADY_APPROVED, existing=existing)
    if set(rules.required_levels) <= set(approvals) | {level}:
        return SignOffVerdict(SignOffOutcome.RECORD_AND_CERTIFY)
    return SignOffVerdict(SignOffOutcome.RECORD)


def revoke_refusal(decision):
    """Why a revocation cannot be recorded (a ``Reason``), or None: there must be something to revoke."""
    if not decision.certified and not decision.approved_levels:
        return Reason("nothing_to_revoke")
    return None



# --- what the coach's page offers ---------------------------------------------------------------

@dataclass(frozen=True)
class OfferedActions:
    """Which sign-off actions a page offers for a learner's stored state, and why approval is not."""

    approve: bool
    revoke: bool
    level: str = COACH  # the level an offered approval is at
    not_offered: str = ""  # why approval is not offered: a code the page words (empty when offered)


def offered_actions(state, certification_state, qualifying_count, required_count, reviewer_is_lead):
    """
    The actions a coach's page shows for a learner (the write paths still decide: ``signoff_verdict``
    and ``revoke_refusal``). Approval is offered when the evidence is ready, at the lead level while
    awaiting the lead (to course staff only), and while certified only inside the renewal window once
    fresh evidence is in; revocation when there is a certification or an approval to withdraw.
    """
    state = State(state)
    revoke = state in (State.CERTIFIED, State.AWAITING_LEAD)
    if state == State.READY:
        return OfferedActions(True, revoke)
    if state == State.AWAITING_LEAD:
        if reviewer_is_lead:
            return OfferedActions(True, revoke, LEAD)
        return OfferedActions(False, revoke, not_offered="awaiting_lead")
    if state == State.CERTIFIED:
        if certification_state != CertificationState.EXPIRING:
            return OfferedActions(False, revoke, not_offered="certified")
        if qualifying_count < required_count:
            return OfferedActions(False, revoke, not_offered="renewal_needs_evidence")
        return OfferedActions(True, revoke)
    return OfferedActions(False, revoke, not_offered="not_ready")
# Self-assessment: the learner rates an observed session on the same rubric. It is a coaching
# conversation, never evidence: nothing above reads it. What lives here is who may see what, when.

#: An open self-assessment invitation lapses this many days after the coach's ratings were
#: recorded; from then on the learner sees the coach's ratings without rating first.
SELF_ASSESSMENT_OPEN_DAYS = 14


class SelfAssessmentState(str, enum.Enum):
    """Where a requested self-assessment stands at a given moment."""

    AWAITING = "awaiting"  # asked for, not answered, still open: the coach's ratings stay hidden
    SUBMITTED = "submitted"  # final; both ratings are in, shown side by side
    DECLINED = "declined"  # the learner chose not to rate; final
    LAPSED = "lapsed"  # not answered within ``SELF_ASSESSMENT_OPEN_DAYS``; no longer blind

    def __str__(self):
        return self.value


def self_assessment_closes_at(requested_at, open_days=SELF_ASSESSMENT_OPEN_DAYS):
    """When an unanswered invitation lapses."""
    return requested_at + timedelta(days=open_days)


def self_assessment_state(stored_status, requested_at, now):
    """
    The state of a self-assessment stored as ``"requested"``, ``"submitted"`` or ``"declined"``:
    an unanswered request is awaiting until it closes, then lapsed (time alone changes it).
    """
    if stored_status in (SelfAssessmentState.SUBMITTED.value, SelfAssessmentState.DECLINED.value):
        return SelfAssessmentState(stored_status)
    return SelfAssessmentState.AWAITING if now < self_assessment_closes_at(requested_at) \
        else SelfAssessmentState.LAPSED


def coach_ratings_hidden_from_learner(state):
    """The learner rates blind: while their self-assessment is awaited, the coach's judgement stays hidden."""
    return state == SelfAssessmentState.AWAITING


def learner_ratings_visible(state):
    """
    The learner's ratings show only once submitted (the coach's are always recorded first: a
    self-assessment is only asked for a submitted observation).
    """
    return state == SelfAssessmentState.SUBMITTED


def rating_agreement(coach_level, coach_met, self_level, self_met):
    """
    One indicator side by side: ``"same"`` (same level), ``"close"`` (other level, same met / not
    met / not applicable outcome) or ``"differ"``; ``"unrated"`` when either side has no level.
    """
    if not coach_level or not self_level:
        return "unrated"
    if coach_level == self_level:
        return "same"
    return "close" if coach_met == self_met else "differ"


#: Reasons that tell one session's ratings (named by its ``date``): held back from a learner who
#: has yet to rate that session.
SESSION_REASONS = frozenset({"critical_not_met_latest", "latest_all_not_applicable"})


def reasons_seen_blind(reasons, hidden_dates):
    """The stored reasons (``Reason.as_dict`` values) a learner sees while the sessions of ``hidden_dates`` are hidden."""
    return tuple(reason for reason in reasons if not (
        reason["code"] in SESSION_REASONS and (reason.get("params") or {}).get("date") in hidden_dates))
