"""
Every certification rule, as pure functions: records in, decision with reasons out.

No I/O, no database, no translation here (the import-linter contracts in ``.importlinter`` keep it so):
callers load records (``evaluation``) and pass plain values in; results carry machine-readable
reasons (codes and numbers) that ``reason_sentences`` words for people. What lives here:

- the evidence rules (which observations qualify, what is still missing): ``evaluate_evidence``, over
  the policy's requirement sets (``RequirementSet``: scope, window, counts, and the ``Condition`` values
  a qualifying observation meets; ADR 0013);
- the learner's decision and state: ``decide`` and the ``State`` enum the status rows store;
- deadlines ("competent within N days of starting"): ``Deadline``, the due date and when a learner
  is overdue (the day edge in the learner's time zone);
- stages: ``Prerequisite`` (another course's certification must be active, and only practice
  observed after it was issued counts here);
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
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, TypeVar, cast

COACH = "coach"
LEAD = "lead"
APPROVE = "approve"
REVOKE = "revoke"
#: Reasons that inform but do not by themselves keep a learner from competency.
INFORMATIONAL = frozenset({"other_instrument_version", "other_setting", "latest_all_not_applicable",
                           "observer_not_calibrated"})
#: A certification expiring within this many days is "expiring"; a new sign-off may then renew it.
EXPIRING_DAYS = 90
#: The narrower "expiring" filters offered to staff, in days (each within ``EXPIRING_DAYS``).
EXPIRING_WINDOWS = (30, 60, EXPIRING_DAYS)

#: A date or a datetime (``add_months`` gives back the kind it is given).
D = TypeVar("D", bound=date)


class State(str, enum.Enum):
    """A learner's stored competency state (``LearnerStatus.state``)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    AWAITING_LEAD = "awaiting_lead"
    CERTIFIED = "certified"
    EXPIRED = "expired"
    REVOKED = "revoked"

    def __str__(self) -> str:
        return self.value


#: What lists show: the stored states, with a certified row "expiring" as its expiry nears.
EXPIRING = "expiring"
#: The list filter of learners past their due date (a policy with a deadline), whatever their state.
OVERDUE = "overdue"


class CertificationState(str, enum.Enum):
    """A certification at a given moment."""

    ACTIVE = "active"
    EXPIRING = "expiring"  # active, and expires within ``EXPIRING_DAYS``
    EXPIRED = "expired"
    REVOKED = "revoked"

    def __str__(self) -> str:
        return self.value


#: Condition measures: percent of applicable indicators met, every essential indicator met, a summary score.
PERCENT = "percent"
ESSENTIALS = "essentials"
SUMMARY = "summary"
MEASURES = (PERCENT, ESSENTIALS, SUMMARY)
AT_LEAST = ">="
AT_MOST = "<="
OPERATORS = (AT_LEAST, AT_MOST)
#: Summary scores are stored floats (means, ratios): a comparison forgives this much rounding noise,
#: so that a score computed as 3.4999999999 meets "at least 3.5".
SCORE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Condition:
    """
    One thing a qualifying observation meets: ``measure`` (``MEASURES``) compared by ``op``
    (``OPERATORS``) with ``value``; ``key`` names the summary score (``SUMMARY``). ``ESSENTIALS``
    has no operator or value: every essential indicator rated met.
    """

    measure: str
    op: str = AT_LEAST
    value: float = 0
    key: str = ""

    def holds(self, observation: "ObservationRecord") -> bool:
        """
        Whether ``observation`` meets this condition.

        Args:
            observation: a submitted observation's score snapshot.

        Returns:
            True when it meets the condition; a summary condition on a score the observation does
            not have is not met.
        """
        if self.measure == ESSENTIALS:
            return not observation.critical_missed
        measured: float | None
        if self.measure == PERCENT:
            # Integer-exact (no rounding): exactly the threshold, e.g. 4 of 5 = 80%, meets ">= 80".
            measured, bound = observation.met_count * 100, self.value * observation.applicable_count
            tolerance: float = 0
        else:
            measured = dict(observation.summary_scores).get(self.key)
            if measured is None:  # not scored (e.g. another instrument): the condition is not met
                return False
            bound, tolerance = self.value, SCORE_TOLERANCE
        return measured >= bound - tolerance if self.op == AT_LEAST else measured <= bound + tolerance

    def as_dict(self) -> dict[str, Any]:
        """
        The condition in its stored form.

        Returns:
            ``{"measure"}`` for essentials, ``{"measure", "op", "value"}`` for a percent, with ``key``
            for a summary.
        """
        if self.measure == ESSENTIALS:
            return {"measure": ESSENTIALS}
        data = {"measure": self.measure, "op": self.op, "value": self.value}
        return {**data, "key": self.key} if self.measure == SUMMARY else data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Condition":
        """
        A condition from its stored form (``as_dict``).

        Args:
            data: ``{"measure", "op", "value", "key"}`` (all but ``measure`` optional).

        Returns:
            The condition.
        """
        return cls(data["measure"], data.get("op", AT_LEAST), data.get("value", 0), data.get("key", ""))


@dataclass(frozen=True)
class RequirementSet:
    """
    "At least ``min_observations`` qualifying observations of ``setting`` (empty: any setting) with
    instrument version ``instrument_version_id``, of practice within ``window_days`` days (or,
    when ``window_months`` is set, within that many calendar months: "12 months" is a year, leap
    or not), by ``min_distinct_observers`` distinct observers"; an observation qualifies when it
    meets every one of ``conditions`` (and had applicable indicators). An observation counts
    towards every set whose scope and conditions it meets. With ``window_months``, ``window_days``
    is the months' usual length (``MONTH_DAYS``), for the observation cadence.
    """

    instrument_version_id: int
    min_observations: int = 3
    window_days: int = 180
    min_distinct_observers: int = 1
    setting: str = ""
    conditions: tuple = ()
    window_months: int = 0

    def window_start(self, today: date) -> date:
        """
        The first day of practice the set counts when its window ends on ``today``.

        Args:
            today: the window's last day.

        Returns:
            ``window_months`` calendar months before ``today`` (clamped to a shorter month's last
            day), else ``window_days`` days before.
        """
        if self.window_months:
            return add_months(today, -self.window_months)
        return today - timedelta(days=self.window_days)

    def leaves_window_on(self, practice_date: date) -> date:
        """
        The first day whose window no longer holds practice of ``practice_date``.

        Args:
            practice_date: the day practised.

        Returns:
            The day after the window's last day that still counts it.
        """
        if self.window_months:  # window_start is monotone: the first day past the months' last is it
            return add_months(practice_date, self.window_months) + timedelta(days=1)
        return practice_date + timedelta(days=self.window_days + 1)

    @property
    def essentials_required(self) -> bool:
        """Whether one of the conditions is ``ESSENTIALS``."""
        return any(condition.measure == ESSENTIALS for condition in self.conditions)

    def in_scope(self, observation: "ObservationRecord") -> bool:
        """
        Whether ``observation`` is of this set's instrument version and setting.

        Args:
            observation: a submitted observation's score snapshot.

        Returns:
            True when the set may count it (windows and conditions aside).
        """
        return (observation.instrument_version_id == self.instrument_version_id
                and (not self.setting or observation.setting == self.setting))

    def in_window(self, observation: "ObservationRecord", today: date) -> bool:
        """
        Whether ``observation``'s practice lies within the set's window.

        Args:
            observation: a submitted observation's score snapshot.
            today: the window's last day.

        Returns:
            True when practised from ``window_start(today)`` to ``today``.
        """
        return self.window_start(today) <= observation.practice_date <= today

    def qualifies(self, observation: "ObservationRecord") -> bool:
        """
        Whether ``observation`` meets every condition of the set (and had applicable indicators).

        Args:
            observation: a submitted observation's score snapshot.

        Returns:
            True when it qualifies (scope and window aside).
        """
        return ((observation.applicable_count > 0 or not self.reads_indicators)
                and all(c.holds(observation) for c in self.conditions))

    @property
    def reads_indicators(self) -> bool:
        """
        Whether the set judges the session's indicators (met, essentials; or, with no condition at
        all, that some were rated): a set of summary-score conditions alone does not (a MITI-style
        coding, whose scales have no "met" point, has no applicable indicator).
        """
        return not self.conditions or any(c.measure != SUMMARY for c in self.conditions)

    def as_dict(self) -> dict[str, Any]:
        """
        The set in its stored form (``CompetencyPolicy.requirement_sets``).

        Returns:
            ``{"instrument_version", "setting", "min_observations", "window_days"[,
            "window_months"], "min_distinct_observers", "conditions"}`` (``window_months`` only
            when set: the stored form of a set in days is unchanged).
        """
        stored = {"instrument_version": self.instrument_version_id, "setting": self.setting,
                  "min_observations": self.min_observations, "window_days": self.window_days,
                  "min_distinct_observers": self.min_distinct_observers,
                  "conditions": [condition.as_dict() for condition in self.conditions]}
        if self.window_months:
            stored["window_months"] = self.window_months
        return stored

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RequirementSet":
        """
        A set from its stored form (``as_dict``).

        Args:
            data: the stored set (``min_distinct_observers``, ``setting`` and ``conditions`` optional).

        Returns:
            The set.
        """
        return cls(data["instrument_version"], data["min_observations"], data["window_days"],
                   data.get("min_distinct_observers", 1), data.get("setting") or "",
                   tuple(Condition.from_dict(c) for c in data.get("conditions") or ()),
                   data.get("window_months") or 0)


def qualifies_for_a_set(rules: "Rules", observation: "ObservationRecord") -> bool:
    """
    Whether an observation counts as qualifying for at least one of the policy's requirement sets
    (in its scope and meeting its conditions), leaving time windows aside: how a single session is
    marked on a growth chart.

    Args:
        rules: the policy's rules.
        observation: a submitted observation's score snapshot.

    Returns:
        True when some set's scope and conditions hold for it.
    """
    return any(requirement.in_scope(observation) and requirement.qualifies(observation) for requirement in rules.sets)


def simple_set(instrument_version_id: int, min_observations: int = 3, min_percent: float = 80,
               window_days: int = 180, essentials: bool = True, min_distinct_observers: int = 1,
               setting: str = "") -> RequirementSet:
    """
    The most common requirement set: "``min_observations`` observations with at least
    ``min_percent``% of applicable indicators met (and every essential one, with ``essentials``)".
    A shorthand for writing a set (a new policy's first set, scripts, tests): a policy holds sets
    only (ADR 0026).

    Args:
        instrument_version_id: the instrument version observed.
        min_observations: qualifying observations needed.
        min_percent: the percent of applicable indicators met for a session to qualify.
        window_days: the window of practice, in days.
        essentials: every essential indicator must be met too.
        min_distinct_observers: distinct observers needed.
        setting: the practice setting ("" for any).

    Returns:
        The set.
    """
    conditions = (Condition(PERCENT, AT_LEAST, min_percent),) + ((Condition(ESSENTIALS),) if essentials else ())
    return RequirementSet(instrument_version_id, min_observations, window_days, min_distinct_observers, setting,
                          conditions)


def qualifying_percent(requirement_sets: Sequence[RequirementSet]) -> float | None:
    """
    The percent of indicators met a session needs in the first set that asks for one (what a chart
    of scores marks), or None when no set does.

    Args:
        requirement_sets: a policy's sets.

    Returns:
        The "at least" percent, or None.
    """
    return next((condition.value for requirement in requirement_sets for condition in requirement.conditions
                 if condition.measure == PERCENT and condition.op == AT_LEAST), None)


@dataclass(frozen=True)
class Rules:
    """
    The parts of a ``CompetencyPolicy`` the decision needs: its requirement sets (``RequirementSet``
    values, at least one: the evidence rules), its sign-off levels and how long a certification
    lasts.
    """

    requirement_sets: tuple[RequirementSet, ...]
    require_lead_signoff: bool = False
    validity_months: int = 24

    def __post_init__(self) -> None:
        if not self.requirement_sets:
            raise ValueError("A policy has at least one requirement set.")

    @property
    def required_levels(self) -> tuple[str, ...]:
        """The sign-off levels a certification needs: the coach's, and the lead's when required."""
        return (COACH, LEAD) if self.require_lead_signoff else (COACH,)

    @property
    def sets(self) -> tuple[RequirementSet, ...]:
        """The evidence rules."""
        return self.requirement_sets

    @property
    def required_count(self) -> int:
        """Qualifying observations needed in all (the sum over the sets)."""
        return sum(requirement.min_observations for requirement in self.sets)


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
    def percent(self) -> float | None:
        """Percent of applicable indicators met (None when none was applicable)."""
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

    def is_active(self, now: datetime) -> bool:
        """
        Whether the certification counts at ``now`` (``is_active``).

        Args:
            now: the moment.

        Returns:
            True from issue until revoked or until its expiry moment (exclusive).
        """
        return is_active(self.expires_at, self.revoked_at, now)


@dataclass(frozen=True)
class Deadline:
    """
    "Competent within ``days`` days of starting": ``start_date`` (a hire date staff uploaded, else
    the enrollment date) in the learner's ``time_zone`` (a ``tzinfo``), where the day edge falls.
    A learner never certified in the course is overdue from the day after the due date on.
    """

    start_date: date
    days: int
    time_zone: tzinfo = timezone.utc

    @property
    def due_date(self) -> date:
        """The last day to become competent: ``days`` after the start date."""
        return self.start_date + timedelta(days=self.days)

    @property
    def overdue_from(self) -> datetime:
        """The first moment of the day after the due date, in the learner's time zone."""
        return datetime.combine(self.due_date + timedelta(days=1), time.min, tzinfo=self.time_zone)

    def overdue(self, now: datetime) -> bool:
        """
        Whether a learner never certified is overdue at ``now``.

        Args:
            now: the moment (time zone aware).

        Returns:
            True from ``overdue_from`` on.
        """
        return now >= self.overdue_from


@dataclass(frozen=True)
class Prerequisite:
    """
    The stage before this course: ``course_key``'s certification (``certification``: the learner's
    latest there, or None). While it is not active this course's certification cannot be reached,
    and only practice observed after it was issued counts here. A certification issued here stands
    on its own afterwards (it expires or is revoked by its own rules; ADR 0013).
    """

    course_key: str
    certification: CertificationRecord | None = None
    course_name: str = ""  # its display name, for the reason people read ("" when unknown)


@dataclass(frozen=True)
class Reason:
    """Why a learner is not (yet) certified: a stable code and the numbers behind it."""

    code: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """
        The reason in its stored form.

        Returns:
            ``{"code", "params"}`` (a copy of the params).
        """
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Reason":
        """
        A reason from its stored form (``as_dict``).

        Args:
            data: ``{"code", "params"}`` (params optional).

        Returns:
            The reason.
        """
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
    due_date: date | None = None  # with a deadline: competent by this day
    overdue: bool = False  # past the due date and never certified in the course
    counted: int = 0  # progress toward ``required_count``: per set, qualifying observations up to its need


# --- certifications over time -------------------------------------------------------------------

def is_active(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """
    A certification counts from issue until revoked or until its expiry moment (exclusive).

    Args:
        expires_at: the certification's expiry (None: it never expires).
        revoked_at: when it was revoked (None: never).
        now: the moment.

    Returns:
        True when it counts at ``now``.
    """
    return revoked_at is None and (expires_at is None or now < expires_at)


def certification_state(expires_at: datetime | None, revoked_at: datetime | None, now: datetime,
                        expiring_days: int = EXPIRING_DAYS) -> CertificationState:
    """
    A certification's state at ``now``.

    Args:
        expires_at: the certification's expiry (None: it never expires).
        revoked_at: when it was revoked (None: never).
        now: the moment.
        expiring_days: how close to its expiry an active certification is "expiring".

    Returns:
        Active, expiring (active and within ``expiring_days`` of expiry), expired or revoked.
    """
    if revoked_at is not None:
        return CertificationState.REVOKED
    if not is_active(expires_at, revoked_at, now):
        return CertificationState.EXPIRED
    if expires_at is not None and expires_at <= now + timedelta(days=expiring_days):
        return CertificationState.EXPIRING
    return CertificationState.ACTIVE


#: How far along each stored state is, for "would this change move a learner back?" (a policy's
#: preview): an expired or revoked certification is back at "in progress".
STATE_STEPS = {State.NOT_STARTED: 0, State.IN_PROGRESS: 1, State.EXPIRED: 1, State.REVOKED: 1, State.READY: 2,
               State.AWAITING_LEAD: 3, State.CERTIFIED: 4}


def moves_back(before: str, after: str) -> bool:
    """
    Whether a learner going from stored state ``before`` to ``after`` loses ground (e.g. ready to
    in progress).

    Args:
        before: the stored state now.
        after: the state a change would give.

    Returns:
        True when ``after`` is fewer steps along than ``before``.
    """
    return STATE_STEPS[State(after)] < STATE_STEPS[State(before)]


def display_state(stored_state: str, expires_at: datetime | None, now: datetime) -> str:
    """
    The state a list shows for a stored status row and its certification's expiry: a certified row
    is "expiring" within ``EXPIRING_DAYS`` of its expiry and "expired" from then on.

    Args:
        stored_state: the row's state (a ``State`` or its value).
        expires_at: the expiry of the row's certification (None: none, or it never expires).
        now: the moment.

    Returns:
        The stored state's value, or ``EXPIRING`` or "expired" for a certified row.
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
    overdue: bool = False  # rows whose stored decision is overdue (past the due date, never certified)

    def matches(self, stored_state: str, expires_at: datetime | None, now: datetime, overdue: bool = False) -> bool:
        """
        The rule in Python (the property test holds ``roster``'s SQL to it).

        Args:
            stored_state: the row's state (a ``State`` or its value).
            expires_at: the expiry of the row's certification (None: none, or it never expires).
            now: the moment.
            overdue: the row's stored decision is overdue.

        Returns:
            True when the row is in the filter.
        """
        if self.overdue:
            return overdue
        if stored_state in self.states:
            return True
        if self.certified_expiry is None or stored_state != State.CERTIFIED:
            return False
        after, until = self.certified_expiry
        after_ok = after is None or expires_at is None or expires_at > now + timedelta(days=after)
        if expires_at is None:
            return after_ok and until is None
        return after_ok and (until is None or expires_at <= now + timedelta(days=until))


def expiring_filter(days: int) -> str:
    """
    The list filter's name for "expiring within ``days`` days".

    Args:
        days: one of ``EXPIRING_WINDOWS``.

    Returns:
        ``expiring_<days>``; "expiring" for the widest window (``EXPIRING_DAYS``).
    """
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
    OVERDUE: StateFilter(overdue=True),
}


# --- evidence -----------------------------------------------------------------------------------

def percent(met: int, applicable: int | None) -> float | None:
    """
    Percent of applicable indicators met.

    Args:
        met: the indicators met.
        applicable: the indicators applicable.

    Returns:
        The percent, rounded to 0.1; None when nothing was applicable.
    """
    if not applicable:
        return None
    return round(100.0 * met / applicable, 1)


#: A month's usual length in days (365.25 / 12): a window of months as days, for the observation cadence.
MONTH_DAYS = 30.4375


def window_days_of_months(months: int) -> int:
    """
    A window of ``months`` calendar months as whole days (its usual length, rounded).

    Args:
        months: the window's months.

    Returns:
        The days (365 for 12 months).
    """
    return int(months * MONTH_DAYS + 0.5)


def add_months(moment: D, months: int) -> D:
    """
    ``moment`` plus whole calendar months, clamped to the last day of a shorter month.

    Args:
        moment: a date or a datetime.
        months: the months to add (negative: to go back).

    Returns:
        The same kind of value, months later (the 31st of January and one month: the last of February).
    """
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(issued_at: datetime, rules: Rules) -> datetime | None:
    """
    When a certification issued at ``issued_at`` expires.

    Args:
        issued_at: the moment of issue.
        rules: the policy's rules (``validity_months``).

    Returns:
        ``validity_months`` after issue; None when the policy's certifications never expire (0 months).
    """
    return add_months(issued_at, rules.validity_months) if rules.validity_months else None


#: A shortfall's measure when no indicator of the session applied (it cannot qualify).
NONE_APPLICABLE = "none_applicable"


def shortfall(requirement: RequirementSet, observation: ObservationRecord) -> list[dict[str, Any]]:
    """
    What ``observation`` lacked to qualify for ``requirement``: the conditions it failed, each with
    the session's own value (``actual``: the percent met, the summary score, None when the score
    is undefined, e.g. a ratio over no questions; the missed essentials).

    Args:
        requirement: the set.
        observation: a session in its scope that does not qualify.

    Returns:
        The failed conditions in their stored form with ``actual``; ``[{"measure": NONE_APPLICABLE}]``
        when no indicator applied.
    """
    if observation.applicable_count == 0 and requirement.reads_indicators:
        return [{"measure": NONE_APPLICABLE}]
    failed = []
    for condition in requirement.conditions:
        if condition.holds(observation):
            continue
        if condition.measure == ESSENTIALS:
            actual: Any = list(observation.critical_missed)
        elif condition.measure == PERCENT:
            actual = observation.percent
        else:
            actual = dict(observation.summary_scores).get(condition.key)
        failed.append({**condition.as_dict(), "actual": actual})
    return failed


def _short_params(requirement: RequirementSet, have: int, number: int, several: bool) -> dict[str, Any]:
    """
    The numbers of an "observations_short" reason. A policy's one set as the single-set fields make
    it keeps the reason's original shape (``min_percent``); any other set names its setting,
    conditions and (when there are several) its number, so the learner reads which one is open.
    """
    params: dict[str, Any] = {"have": have, "need": requirement.min_observations,
                              "window_days": requirement.window_days}
    if requirement.window_months:
        params["window_months"] = requirement.window_months
    percent_only = [c for c in requirement.conditions if c.measure != ESSENTIALS]
    if (not several and not requirement.setting and not requirement.window_months and len(percent_only) == 1
            and percent_only[0].measure == PERCENT and percent_only[0].op == AT_LEAST):
        return {**params, "min_percent": percent_only[0].value}
    params.update({"setting": requirement.setting, "conditions": [c.as_dict() for c in requirement.conditions]})
    return {**params, "set": number} if several else params


def evaluate_evidence(rules: Rules, observations: Sequence[ObservationRecord], today: date,
                      fresh_after: date | None = None, calibrated_observers: Collection[int] | None = None,
                      ) -> tuple[tuple[ObservationRecord, ...], list[Reason], ObservationRecord | None, int]:
    """
    Which observations qualify and what the evidence still lacks, set by set (``rules.sets``). A set
    that requires essential indicators is open while its latest observation missed one.

    Args:
        rules: the policy's rules.
        observations: the learner's submitted observations.
        today: the last day of the sets' windows.
        fresh_after: after a certification, only practice observed after this day counts (a
            recertification needs fresh evidence).
        calibrated_observers: when the policy requires calibration, the observers whose ratings
            count (None: everyone's).

    Returns:
        ``(qualifying, reasons, latest, counted)``: ``qualifying`` is every observation that counts
        for some set (oldest first), ``reasons`` what the evidence lacks (informational ones
        included), ``latest`` the most recent observation in some set's scope and window, and
        ``counted`` the progress people read as "n of ``rules.required_count``": per set, its
        qualifying observations up to its need (a set's surplus does not make up for another's
        shortfall).
    """
    reasons = []
    if calibrated_observers is not None:
        uncalibrated = [obs for obs in observations if obs.observer_id not in calibrated_observers]
        if uncalibrated:
            reasons.append(Reason("observer_not_calibrated", {"count": len(uncalibrated)}))
        observations = [obs for obs in observations if obs.observer_id in calibrated_observers]
    if fresh_after is not None:
        observations = [obs for obs in observations if obs.practice_date > fresh_after]
    sets = rules.sets
    versions = {requirement.instrument_version_id for requirement in sets}
    current = [obs for obs in observations if obs.instrument_version_id in versions]
    other_version = len(observations) - len(current)
    if other_version:
        reasons.append(Reason("other_instrument_version", {"count": other_version}))
    other_setting = sum(1 for obs in current if not any(r.in_scope(obs) for r in sets))
    if other_setting:
        reasons.append(Reason("other_setting", {"count": other_setting}))
    in_window: dict = {}
    qualifying: dict = {}
    essentials_missed: dict = {}
    open_reasons, counted_toward = [], 0
    for number, requirement in enumerate(sets, 1):
        scoped = sorted((obs for obs in current if requirement.in_scope(obs) and requirement.in_window(obs, today)),
                        key=lambda obs: (obs.practice_date, obs.id))
        in_window.update((obs.id, obs) for obs in scoped)
        if requirement.essentials_required and scoped and scoped[-1].critical_missed:
            essentials_missed[scoped[-1].id] = scoped[-1]  # the set's latest missed an essential indicator
        counted = [obs for obs in scoped if requirement.qualifies(obs)]
        qualifying.update((obs.id, obs) for obs in counted)
        counted_toward += min(len(counted), requirement.min_observations)
        if len(counted) < requirement.min_observations:
            params = _short_params(requirement, len(counted), number, len(sets) > 1)
            if scoped and not requirement.qualifies(scoped[-1]):  # say what the latest lacked, not every rule
                params["latest_short"] = {"date": scoped[-1].practice_date.isoformat(),
                                          "failed": shortfall(requirement, scoped[-1])}
            open_reasons.append(Reason("observations_short", params))
        observers = len({obs.observer_id for obs in counted})
        if observers < requirement.min_distinct_observers > 1:  # with one observer, "observations_short" says it
            params = {"have": observers, "need": requirement.min_distinct_observers}
            open_reasons.append(Reason("observers_short", {**params, "set": number} if len(sets) > 1 else params))
    reasons += open_reasons
    ordered = sorted(in_window.values(), key=lambda obs: (obs.practice_date, obs.id))
    latest = ordered[-1] if ordered else None
    if latest is not None and latest.applicable_count == 0 and any(r.reads_indicators for r in sets):
        reasons.append(Reason("latest_all_not_applicable", {"date": latest.practice_date.isoformat()}))
    for missed in sorted(essentials_missed.values(), key=lambda obs: (obs.practice_date, obs.id)):
        reasons.append(
            Reason("critical_not_met_latest", {"indicators": list(missed.critical_missed),
                                               "date": missed.practice_date.isoformat()})
        )
    return (tuple(sorted(qualifying.values(), key=lambda obs: (obs.practice_date, obs.id))), reasons, latest,
            counted_toward)


def current_approvals(signoffs: Iterable[SignOffRecord], since: datetime | None = None) -> dict[str, SignOffRecord]:
    """
    Levels approved since the last revocation (and since ``since``, the last certification).

    A certification consumes the approvals that produced it: after it expires or is revoked,
    fresh approvals are needed.

    Args:
        signoffs: the learner's sign-offs in the course.
        since: the issue of the last certification (None: none).

    Returns:
        ``{level: the first approval at that level}`` since then.
    """
    approved: dict[str, SignOffRecord] = {}
    for signoff in sorted(signoffs, key=lambda s: (s.created_at, s.id)):
        if since is not None and signoff.created_at <= since:
            continue
        if signoff.action == REVOKE:
            approved.clear()
        else:
            approved.setdefault(signoff.level, signoff)
    return approved


# --- the decision -------------------------------------------------------------------------------

def decide(rules: Rules, observations: Sequence[ObservationRecord], signoffs: Iterable[SignOffRecord],
           certification: CertificationRecord | None, now: datetime,
           calibrated_observers: Collection[int] | None = None, deadline: Deadline | None = None,
           prerequisite: Prerequisite | None = None) -> Decision:
    """
    The learner's competency decision at ``now``.

    Args:
        rules: the policy's rules.
        observations: the learner's submitted observations.
        signoffs: the learner's sign-offs in the course.
        certification: the learner's most recent certification in the course (or None); the
            evidence for the next one must be observed after it was issued.
        now: the moment.
        calibrated_observers: when the policy requires calibration, the observers whose ratings
            count (None: everyone's).
        deadline: the learner's ``Deadline`` when the policy sets one; it is met by the first
            certification.
        prerequisite: the ``Prerequisite`` when the course is a later stage.

    Returns:
        The decision: state, reasons, qualifying observations, approvals, and when the passing of
        time alone may change it (``stale_after``).
    """
    today = now.date()
    fresh_after = certification.issued_at.date() if certification is not None else None
    prerequisite_open = None
    if prerequisite is not None:
        before = prerequisite.certification
        # Only practice after the earlier stage's certification counts (none before it was issued).
        fresh_after = max(filter(None, (fresh_after, before.issued_at.date() if before else date.max)))
        if before is None or not before.is_active(now):
            prerequisite_open = Reason("prerequisite_not_certified", {
                "course": prerequisite.course_key,
                **({"course_name": prerequisite.course_name} if prerequisite.course_name else {})})
    qualifying, evidence_reasons, latest, counted = evaluate_evidence(rules, observations, today, fresh_after,
                                                                      calibrated_observers)
    if prerequisite_open is not None:
        evidence_reasons.insert(0, prerequisite_open)
    # The learner's last observed session, shown in lists, even when it predates the certification
    # (only fresh evidence counts toward the next one, but the coach was there).
    latest = latest or max(observations, key=lambda obs: (obs.practice_date, obs.id), default=None)
    reasons = [r for r in evidence_reasons if r.code not in INFORMATIONAL]
    evidence_met = not reasons
    active = certification is not None and certification.is_active(now)
    approvals = current_approvals(signoffs, since=certification.issued_at if certification else None)
    approved_levels = tuple(level for level in rules.required_levels if level in approvals)
    stale_after = _stale_after(rules, observations, today, certification if active else None)
    due_date = deadline.due_date if deadline is not None else None
    overdue = deadline is not None and certification is None and deadline.overdue(now)
    if deadline is not None and certification is None and not overdue:
        stale_after = min(filter(None, (stale_after, deadline.overdue_from)))
    if prerequisite_open is None and prerequisite is not None and not active:
        # (Not open: the earlier stage's certification exists and is active, which the type checker cannot tell.)
        stale_after = min(filter(None, (stale_after, cast(CertificationRecord, prerequisite.certification).expires_at)),
                          default=None)

    if active:
        return Decision(State.CERTIFIED, True, evidence_met, (), qualifying, approved_levels, certification,
                        rules.required_count, latest, stale_after, tuple(reasons), approvals, due_date, overdue,
                        counted)

    if certification is not None and certification.revoked_at is not None:
        reasons.insert(0, Reason("certification_revoked", {"date": certification.revoked_at.date().isoformat()}))
    elif certification is not None:  # not active, not revoked: expired (it has an expiry)
        reasons.insert(0, Reason("certification_expired",
                                 {"date": cast(datetime, certification.expires_at).date().isoformat()}))
    for level in rules.required_levels:
        if level not in approvals:
            reasons.append(Reason(f"{level}_signoff_missing"))
    if deadline is not None and certification is None:
        reasons.append(Reason("overdue" if overdue else "due_by", {"date": deadline.due_date.isoformat()}))
    reasons += [r for r in evidence_reasons if r.code in INFORMATIONAL]
    return Decision(_state(evidence_met, approved_levels, certification, observations), False, evidence_met,
                    tuple(reasons), qualifying, approved_levels, certification, rules.required_count,
                    latest, stale_after, tuple(r for r in evidence_reasons if r.code not in INFORMATIONAL),
                    approvals, due_date, overdue, counted)


def _state(evidence_met: bool, approved_levels: tuple[str, ...], certification: CertificationRecord | None,
           observations: Sequence[ObservationRecord]) -> State:
    if evidence_met and COACH in approved_levels:
        return State.AWAITING_LEAD
    if certification is not None and certification.revoked_at is not None:
        return State.REVOKED
    if evidence_met:
        return State.READY
    if certification is not None:
        return State.EXPIRED
    return State.IN_PROGRESS if observations else State.NOT_STARTED


def recertification_open(certification: CertificationRecord | None, now: datetime) -> bool:
    """
    Whether an active certification is close enough to expiry for a new sign-off to renew it.

    Args:
        certification: the learner's certification (None: none).
        now: the moment.

    Returns:
        True when it is "expiring" (``certification_state``).
    """
    return (certification is not None and certification_state(certification.expires_at, certification.revoked_at,
                                                               now) == CertificationState.EXPIRING)


def _stale_after(rules: Rules, observations: Sequence[ObservationRecord], today: date,
                 active_certification: CertificationRecord | None) -> datetime | None:
    """The first moment at which the mere passing of time can change this decision."""
    if active_certification is not None:
        return active_certification.expires_at
    leaving = [
        requirement.leaves_window_on(obs.practice_date)
        for requirement in rules.sets for obs in observations
        if requirement.in_scope(obs) and requirement.in_window(obs, today)
    ]
    if not leaving:
        return None
    return datetime.combine(min(leaving), time.min, tzinfo=timezone.utc)


# --- reminders and observation cadence ----------------------------------------------------------

#: Reminders before a certification expires, in days (the widest is the expiring window).
EXPIRY_REMINDER_DAYS = (EXPIRING_DAYS, 30)
#: The shortest time between two observations a coach is reminded of.
MIN_CADENCE_DAYS = 7
#: A learner not observed for one cadence is "due for observation"; for two (or never), "long due".
#: Not "overdue", which is only ever the policy's deadline (``Decision.overdue``).
DUE_FOR_OBSERVATION, LONG_DUE_FOR_OBSERVATION = "due_for_observation", "long_due_for_observation"


def observation_cadence_days(requirement_sets: Iterable[tuple[int, int]]) -> int:
    """
    How often a learner should be observed to gather the evidence in time: for each requirement set,
    its window shared by its observations; the most demanding set decides, never more often than
    ``MIN_CADENCE_DAYS``.

    Args:
        requirement_sets: ``(window_days, min_observations)`` of each requirement set.

    Returns:
        The days between two observations.
    """
    per_set = [window_days // max(needed, 1) for window_days, needed in requirement_sets] or [MIN_CADENCE_DAYS]
    return max(MIN_CADENCE_DAYS, min(per_set))


def observation_due(last_practice_date: date | None, today: date, cadence_days: int) -> str | None:
    """
    Whether a learner last observed on ``last_practice_date`` is due for observation.

    Args:
        last_practice_date: the learner's last observed practice (None: never observed).
        today: the day.
        cadence_days: ``observation_cadence_days``.

    Returns:
        ``DUE_FOR_OBSERVATION`` after one cadence, ``LONG_DUE_FOR_OBSERVATION`` after two (or never
        observed), else None.
    """
    if last_practice_date is None or last_practice_date <= today - timedelta(days=2 * cadence_days):
        return LONG_DUE_FOR_OBSERVATION
    if last_practice_date <= today - timedelta(days=cadence_days):
        return DUE_FOR_OBSERVATION
    return None


# --- repeated submissions -----------------------------------------------------------------------

#: A submission identical to one the same observer made this recently (same learner, course,
#: instrument, practice date, setting, note and ratings) is the same submission sent again (a
#: client's retry after a lost answer, a double click): it is answered with the first record.
REPEATED_SUBMISSION_WINDOW = timedelta(minutes=10)


def repeated_submission_since(now: datetime) -> datetime:
    """
    The earliest submission time a new submission can be a repeat of.

    Args:
        now: the new submission's moment.

    Returns:
        ``REPEATED_SUBMISSION_WINDOW`` before ``now``.
    """
    return now - REPEATED_SUBMISSION_WINDOW


#: How long a client's submission key answers repeats (a day covers an offline queue sent the next
#: morning; a client retries within minutes).
SUBMISSION_KEY_KEPT = timedelta(days=1)


def submission_keys_forgotten_before(now: datetime) -> datetime:
    """
    Submission keys recorded before this time are purged and no longer answer repeats.

    Args:
        now: the moment.

    Returns:
        ``SUBMISSION_KEY_KEPT`` before ``now``.
    """
    return now - SUBMISSION_KEY_KEPT


# --- the platform certificate's timing ------------------------------------------------------------

#: A claimed certificate request not confirmed within this long is sent again by the periodic pass
#: (a worker died between claiming and asking the platform); operators may set
#: ``MIIWRAP_FIDELITY_CERTIFICATE_LEASE_SECONDS``.
CERTIFICATE_LEASE = timedelta(minutes=10)
#: The platform generates a requested certificate in a delayed task: one requested this recently may
#: not exist yet, so "nothing to invalidate" is believed only after this long.
CERTIFICATE_GENERATION_GRACE = timedelta(hours=1)


def certificate_may_still_be_generated(requested_at: datetime, now: datetime) -> bool:
    """
    Whether a certificate requested at ``requested_at`` may not exist yet at ``now``.

    Args:
        requested_at: when the platform was asked for it.
        now: the moment.

    Returns:
        True within ``CERTIFICATE_GENERATION_GRACE`` of the request.
    """
    return requested_at > now - CERTIFICATE_GENERATION_GRACE


# --- delivering consequences (ADR 0019) -------------------------------------------------------------

#: How long a claimed consequence is left to its deliverer before another may take it (a dead worker's).
CONSEQUENCE_LEASE = timedelta(minutes=5)
#: The longest wait between two attempts at a consequence whose delivery keeps failing.
CONSEQUENCE_MAX_DELAY = timedelta(hours=1)
#: Delivered consequences are kept this long for operators, then purged.
CONSEQUENCES_KEPT = timedelta(days=7)


def consequence_retry_delay(attempts: int) -> timedelta:
    """
    The wait before the next attempt at a consequence whose delivery failed.

    Args:
        attempts: the failures so far.

    Returns:
        After the first failure one minute, doubling after each, at most ``CONSEQUENCE_MAX_DELAY``.
    """
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), CONSEQUENCE_MAX_DELAY)


# --- the consequences of a status change ---------------------------------------------------------

#: What a status change sets off outside the status row (ADR 0019), each delivered once and apart:
#: the public ``competency_changed`` signal (tracking event, other plugins), re-evaluation of the
#: courses that read this one (stages, programs), the learner's message, the platform certificate's
#: invalidation, the ``certification.expired`` tracking event.
ANNOUNCE, DEPENDENTS, MESSAGE, INVALIDATION, EXPIRY_EVENT, LEADER_FIGURES = (
    "announce", "dependents", "message", "certificate_invalidation", "certification_expired", "leader_figures")


def consequences(state: str, cause: str, previous_state: str | None = None) -> list[str]:
    """
    The consequence kinds of a change to ``state`` for ``cause`` from ``previous_state``.

    Args:
        state: the new state (a ``State`` or its value).
        cause: what changed it (``"revoked"`` invalidates the platform certificate).
        previous_state: the state before (None: not known).

    Returns:
        The kinds (``ANNOUNCE``, ``DEPENDENTS``, ``MESSAGE``, ``LEADER_FIGURES``, and
        ``INVALIDATION``, ``EXPIRY_EVENT`` when they apply), each delivered once.
    """
    state = str(state)
    kinds = [ANNOUNCE, DEPENDENTS, MESSAGE, LEADER_FIGURES]
    if cause == "revoked" or state == State.EXPIRED:
        kinds.append(INVALIDATION)
    if previous_state is not None and str(previous_state) == State.CERTIFIED and state == State.EXPIRED:
        kinds.append(EXPIRY_EVENT)
    return kinds


# --- the certificate gate -----------------------------------------------------------------------

@dataclass(frozen=True)
class GateVerdict:
    allowed: bool
    reasons: tuple = ()


def gate_verdict(stored_reasons: Iterable[Reason], certification: CertificationRecord | None,
                 now: datetime) -> GateVerdict:
    """
    The certificate gate's answer from a learner's stored status. Time is applied here, so a
    certification that expired after the last evaluation is refused with the expiry as its first
    reason.

    Args:
        stored_reasons: the ``Reason`` values the last evaluation stored.
        certification: the row's certification record, or None.
        now: the moment.

    Returns:
        Allowed while the certification is active; else refused, with the reasons.
    """
    if certification is not None and certification.is_active(now):
        return GateVerdict(True)
    reasons = tuple(stored_reasons)
    if certification is not None and certification.revoked_at is None:  # not active, not revoked: expired
        reasons = (Reason("certification_expired",
                          {"date": cast(datetime, certification.expires_at).date().isoformat()}),
                   ) + tuple(r for r in reasons if r.code != "certification_expired")
    return GateVerdict(False, reasons)


def gate_verdict_without_status(rules: Rules, now: datetime) -> GateVerdict:
    """
    The gate's answer for a learner the course has never evaluated (no records at all).

    Args:
        rules: the policy's rules.
        now: the moment.

    Returns:
        Refused, with what a learner without records lacks.
    """
    return GateVerdict(False, decide(rules, [], [], None, now).reasons)


# --- sign-off rules -----------------------------------------------------------------------------

class SignOffOutcome(str, enum.Enum):
    REFUSED = "refused"
    ALREADY_CERTIFIED = "already_certified"  # nothing to do: the certification stands
    ALREADY_APPROVED = "already_approved"  # the same level approved the same evidence already
    RECORD = "record"  # write the approval
    RECORD_AND_CERTIFY = "record_and_certify"  # write it; every required level has now approved

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SignOffVerdict:
    outcome: SignOffOutcome
    refusals: dict = field(default_factory=dict)  # field -> tuple of Reason
    existing: SignOffRecord | None = None  # the approval that stands, for the "already" outcomes

    @property
    def writes(self) -> bool:
        """Whether the approval is to be written."""
        return self.outcome in (SignOffOutcome.RECORD, SignOffOutcome.RECORD_AND_CERTIFY)


def signoff_verdict(rules: Rules, decision: Decision, level: str, actor_id: int, evidence_digest: str,
                    now: datetime) -> SignOffVerdict:
    """
    What an approval at ``level`` by ``actor_id`` does, given the learner's ``decision``.

    Approving needs evidence that meets the policy (while certified, only inside the renewal window,
    and then fresh evidence); the lead confirms after a coach, and is someone other than that coach.
    Approving again on the same evidence changes nothing. (Who may approve at all is a role check,
    done by the caller before.)

    Args:
        rules: the policy's rules.
        decision: the learner's decision now.
        level: ``COACH`` or ``LEAD``.
        actor_id: who approves.
        evidence_digest: the digest of the evidence approved.
        now: the moment.

    Returns:
        The outcome (refused with reasons by field, already certified or approved, record, or record
        and certify).
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


def revoke_refusal(decision: Decision) -> Reason | None:
    """
    Why a revocation cannot be recorded: there must be something to revoke.

    Args:
        decision: the learner's decision now.

    Returns:
        ``Reason("nothing_to_revoke")`` without a certification or an approval, else None.
    """
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


def offered_actions(state: str, certification_state: str | None, qualifying_count: int, required_count: int,
                    reviewer_is_lead: bool) -> OfferedActions:
    """
    The actions a coach's page shows for a learner (the write paths still decide: ``signoff_verdict``
    and ``revoke_refusal``). Approval is offered when the evidence is ready, at the lead level while
    awaiting the lead (to course staff only), and while certified only inside the renewal window once
    fresh evidence is in; revocation when there is a certification or an approval to withdraw.

    Args:
        state: the learner's stored state (a ``State`` value).
        certification_state: the state of the learner's certification (a ``CertificationState``
            value; None: none).
        qualifying_count: the learner's qualifying observations.
        required_count: the observations the policy requires.
        reviewer_is_lead: the viewer may approve at the lead level (course staff).

    Returns:
        Whether to offer approval (at which level) and revocation, and why approval is not offered.

    Raises:
        ValueError: ``state`` is not a ``State`` value.
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

    def __str__(self) -> str:
        return self.value


def self_assessment_closes_at(requested_at: datetime, open_days: int = SELF_ASSESSMENT_OPEN_DAYS) -> datetime:
    """
    When an unanswered invitation lapses.

    Args:
        requested_at: when the self-assessment was asked for.
        open_days: how long it stays open.

    Returns:
        ``open_days`` after the request.
    """
    return requested_at + timedelta(days=open_days)


def self_assessment_awaited_since(now: datetime, open_days: int = SELF_ASSESSMENT_OPEN_DAYS) -> datetime:
    """
    Requests made after this moment are still awaited at ``now`` (``self_assessment_state``, for queries).

    Args:
        now: the moment.
        open_days: how long a request stays open.

    Returns:
        ``open_days`` before ``now``.
    """
    return now - timedelta(days=open_days)


def self_assessment_state(stored_status: str, requested_at: datetime, now: datetime) -> SelfAssessmentState:
    """
    The state of a self-assessment stored as ``"requested"``, ``"submitted"`` or ``"declined"``:
    an unanswered request is awaiting until it closes, then lapsed (time alone changes it).

    Args:
        stored_status: the stored status.
        requested_at: when it was asked for.
        now: the moment.

    Returns:
        Submitted or declined as stored; else awaiting or lapsed.
    """
    if stored_status in (SelfAssessmentState.SUBMITTED.value, SelfAssessmentState.DECLINED.value):
        return SelfAssessmentState(stored_status)
    return SelfAssessmentState.AWAITING if now < self_assessment_closes_at(requested_at) \
        else SelfAssessmentState.LAPSED


def coach_ratings_hidden_from_learner(state: SelfAssessmentState) -> bool:
    """
    The learner rates blind: while their self-assessment is awaited, the coach's judgement stays hidden.

    Args:
        state: the self-assessment's state.

    Returns:
        True while it is awaited.
    """
    return state == SelfAssessmentState.AWAITING


def learner_ratings_visible(state: SelfAssessmentState) -> bool:
    """
    The learner's ratings show only once submitted (the coach's are always recorded first: a
    self-assessment is only asked for a submitted observation).

    Args:
        state: the self-assessment's state.

    Returns:
        True once submitted.
    """
    return state == SelfAssessmentState.SUBMITTED


def rating_agreement(coach_level: str, coach_met: str | bool | None, self_level: str,
                     self_met: str | bool | None) -> str:
    """
    One indicator side by side.

    Args:
        coach_level: the coach's level key ("": none).
        coach_met: the outcome of the coach's level (met / not met / not applicable).
        self_level: the learner's level key ("": none).
        self_met: the outcome of the learner's level, in the same terms.

    Returns:
        ``"same"`` (same level), ``"close"`` (other level, same outcome) or ``"differ"``;
        ``"unrated"`` when either side has no level.
    """
    if not coach_level or not self_level:
        return "unrated"
    if coach_level == self_level:
        return "same"
    return "close" if coach_met == self_met else "differ"


#: Reasons that tell one session's ratings (named by its ``date``): held back from a learner who
#: has yet to rate that session.
SESSION_REASONS = frozenset({"critical_not_met_latest", "latest_all_not_applicable"})


def reasons_seen_blind(reasons: Iterable[Mapping[str, Any]],
                       hidden_dates: Collection[str]) -> tuple[Mapping[str, Any], ...]:
    """
    The stored reasons a learner sees while the sessions of ``hidden_dates`` are hidden.

    Args:
        reasons: ``Reason.as_dict`` values.
        hidden_dates: the ISO dates of the sessions the learner has yet to rate.

    Returns:
        The reasons, less those that tell one of those sessions' ratings (``SESSION_REASONS``).
    """
    return tuple(reason for reason in reasons if not (
        reason["code"] in SESSION_REASONS and (reason.get("params") or {}).get("date") in hidden_dates))


# --- the coaching loop's consequences (issue 31, ADR 0027) -------------------------------------------

#: What a coaching plan sets off, through the same outbox (ADR 0019), each delivered once and apart:
#: a plan saved announces itself (``coaching_plan_saved`` signal, its tracking event) and tells the
#: learner their focus (their message); a follow-up the coach confirmed announces itself.
PLAN_SAVED, PLAN_MESSAGE, FOLLOW_UP_CONFIRMED = "plan_saved", "plan_message", "follow_up_confirmed"
