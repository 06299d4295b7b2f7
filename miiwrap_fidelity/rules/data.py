"""
The values ``api`` hands to pages, REST views, XBlocks and tasks (OEP-49 ``data.py``).

Frozen and plain: no database access can hide behind an attribute, and callers cannot write
through them. Labels (``*_label``) are worded in the language active when the value was made.
"""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import rating_scales as rating_values


@dataclass(frozen=True)
class UserRef:
    """A person as lists and pages show them."""

    id: int
    username: str

    @property
    def pk(self) -> int:  # templates and URL helpers written for users keep working
        """The user's id (as a user's ``pk``)."""
        return self.id

    def __str__(self) -> str:
        return self.username


@dataclass(frozen=True)
class CertificationData:
    id: int
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str  # ``competency.CertificationState`` at the moment the value was made
    active: bool

    def as_dict(self) -> dict[str, Any]:
        """
        The value as a dict.

        Returns:
            ``{"id", "issued_at", "expires_at", "revoked_at", "state", "active"}``.
        """
        return {"id": self.id, "issued_at": self.issued_at, "expires_at": self.expires_at,
                "revoked_at": self.revoked_at, "state": self.state, "active": self.active}


@dataclass(frozen=True)
class LearnerStatusData:
    """A learner's stored status in a course, as fresh as the records."""

    learner: UserRef
    course_key: str
    state: str  # ``competency.State``
    state_label: str
    qualifying_count: int
    required_count: int
    last_practice_date: date | None
    last_percent: float | None
    reasons: tuple  # ``competency.Reason.as_dict`` values
    certification: CertificationData | None  # the certification the row rests on (while certified)
    evaluated_at: datetime
    enrolled: bool
    due_date: date | None = None  # with a deadline: competent by this day
    overdue: bool = False
    has_coach: bool | None = None  # someone coaches the learner in the course (the row's kept flag); None: untold


@dataclass(frozen=True)
class SignOffData:
    id: int
    learner_id: int
    actor: UserRef
    action: str
    action_label: str
    level: str
    level_label: str
    reason: str
    evidence: dict
    created_at: datetime


@dataclass(frozen=True)
class PolicyData:
    """A course's competency policy (``CompetencyPolicy`` fields)."""

    course_key: str
    enabled: bool
    instrument_version_id: int  # the first requirement set's: the course's main instrument
    require_lead_signoff: bool
    validity_months: int
    mode: str
    drift_window_observations: int
    drift_window_days: int
    drift_min_observations: int
    require_calibration: bool
    calibration_threshold: int
    updated_at: datetime
    self_assessment: bool = False  # learners rate each observed session themselves, blind (ADR 0014)
    requirement_sets: tuple = ()  # ``competency.RequirementSet.as_dict`` values (ADR 0013)
    deadline_days: int = 0  # competent within this many days of starting; 0: no deadline
    prerequisite_course: str = ""  # stages: this course's certification must be active first
    program: str = ""  # courses naming the same program share evidence


@dataclass(frozen=True)
class StartDateData:
    """A learner's start (hire) date in a course, for the policy's deadline."""

    learner_id: int
    course_key: str
    start_date: date
    username: str = ""


@dataclass(frozen=True)
class CoachAssignmentData:
    id: int
    course_key: str
    coach: UserRef
    learner: UserRef
    created_at: datetime


@dataclass(frozen=True)
class IndicatorData:
    key: str
    domain: str
    label: str
    description: str
    critical: bool
    levels: list
    id: int = 0
    position: int = 0
    kind: str = rating_values.LEVELS  # ``levels``, ``scale`` or ``count`` (``rating_values``)
    spec: dict | None = None  # scale range (``min``, ``max``) or count ``max``

    @property
    def pk(self) -> int:
        """The indicator's id."""
        return self.id

    def level(self, key: str | int | None) -> dict[str, Any] | None:
        """
        The level dict a rating stands for.

        Args:
            key: a level key, a scale point or a tally.

        Returns:
            The level (``rating_scales.level_info``), or None when ``key`` is not a rating of this indicator.
        """
        return rating_values.level_info(self.kind, self.levels, self.spec, key)

    @property
    def count_max(self) -> int | None:
        """The largest tally a count indicator accepts (None: no maximum)."""
        return (self.spec or {}).get("max") if self.kind == rating_values.COUNT else None


@dataclass(frozen=True)
class SummaryScoreData:
    """One summary score of an observation, with the proficiency level it reaches (if any)."""

    key: str
    label: str
    value: float
    level: str  # the proficiency level's key ("" when none is reached or none is defined)
    level_label: str


@dataclass(frozen=True)
class InstrumentVersionData:
    id: int
    instrument: str  # the instrument's slug
    number: int
    title: str
    created_at: datetime
    indicators: tuple = ()  # ``IndicatorData``, when asked for
    summaries: tuple = ()  # the summary score definitions (dicts), in the user's language


@dataclass(frozen=True)
class RatingData:
    """One indicator's rating in an observation, with its feedback."""

    indicator_id: int
    indicator_key: str
    indicator_label: str
    level: str
    level_label: str
    outcome: str  # "met", "not_yet", "na" (not applicable) or "unrated"
    strength: str
    next_step: str


@dataclass(frozen=True)
class ObservationData:
    id: int
    course_key: str
    learner_id: int
    observer: UserRef
    instrument_version_id: int
    practice_date: date
    setting: str
    setting_label: str
    status: str
    status_label: str
    overall_note: str
    percent: float | None
    met_count: int | None
    applicable_count: int | None
    critical_missed: tuple
    revision: int
    submitted_at: datetime | None
    co_observation_of_id: int | None
    co_observation_of_date: date | None
    is_reference: bool
    ratings: tuple = ()  # ``RatingData`` in rubric order
    amendment: "AmendmentData | None" = None  # the latest correction, whose text the fields above hold
    #: True when the learner sees it before rating the session themselves: only when and where it
    #: happened, none of the coach's judgement (ratings, score, note).
    blinded: bool = False
    summary_scores: tuple = ()  # ``SummaryScoreData`` in the instrument's order

    @property
    def pk(self) -> int:
        """The observation's id."""
        return self.id

    @property
    def observer_id(self) -> int:
        """The observer's id."""
        return self.observer.id


@dataclass(frozen=True)
class CommentData:
    id: int
    author: UserRef
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ReflectionData:
    id: int
    course_key: str
    learner_id: int
    block_id: str
    title: str
    prompts: list
    answers: dict
    self_ratings: dict
    status: str
    submitted_at: datetime | None
    comments: tuple = ()  # ``CommentData``, oldest first
    self_rating_labels: tuple = ()  # ``(indicator label, level label)`` of the self-ratings, in rubric order

    @property
    def pk(self) -> int:
        """The reflection's id."""
        return self.id


@dataclass(frozen=True)
class DriftAlertData:
    id: int
    learner: UserRef
    kind: str
    indicator_key: str
    details: dict
    created_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: UserRef | None
    plan_note: str

    @property
    def pk(self) -> int:
        """The alert's id."""
        return self.id

    @property
    def learner_id(self) -> int:
        """The learner's id."""
        return self.learner.id


@dataclass(frozen=True)
class EvidenceObservationData:
    """One observation a certification rests on, as the approval saw it."""

    id: int
    practice_date: date
    setting_label: str
    percent: float | None
    observer: UserRef


@dataclass(frozen=True)
class CertifiedEvidenceData:
    """What an active certification rests on: the qualifying observations at sign-off, and its expiry."""

    certification: CertificationData
    observations: tuple  # ``EvidenceObservationData``, oldest first
    signed_off_at: datetime | None
    signed_off_by: tuple  # ``UserRef`` of the approvals that certified, coach first


@dataclass(frozen=True)
class AmendmentData:
    """The latest correction of an observation's free text."""

    id: int
    author: UserRef
    reason: str
    created_at: datetime
    count: int  # how many corrections there are
    original_note: str = ""  # the original text: for coaches and staff, never for the learner
    original_feedback: tuple = ()  # ``(indicator label, strength, next step)`` of the original
    shows_original: bool = False


@dataclass(frozen=True)
class SideBySideRow:
    """One indicator of a self-assessed session: the coach's and the learner's level, when each may be seen."""

    indicator_key: str
    indicator_label: str
    critical: bool
    coach: "RatingData | None"  # None while hidden from the viewer
    learner_level: str
    learner_level_label: str
    learner_outcome: str  # as ``RatingData.outcome``; "unrated" while hidden
    agreement: str  # ``competency.rating_agreement``: same, close, differ, unrated; "" unless both are shown
    domain: str = ""
    description: str = ""
    levels: tuple = ()  # the indicator's anchored levels (``{"key", "label", "anchor", "met"}``), for the form
    kind: str = "levels"  # ``rating_values`` kind: a ``count`` is a tally, with no levels
    count_max: int | None = None  # a count's ceiling, when its instrument sets one


@dataclass(frozen=True)
class SelfAssessmentData:
    """A learner's self-assessment of one observed session, as the viewer may see it (ADR 0014)."""

    id: int
    observation_id: int
    course_key: str
    learner_id: int
    observer: UserRef
    practice_date: date
    setting_label: str
    state: str  # ``competency.SelfAssessmentState``
    state_label: str
    requested_at: datetime
    closes_at: datetime
    answered_at: datetime | None
    coach_visible: bool  # the coach's ratings are shown to this viewer
    learner_visible: bool  # the learner's ratings and note are shown to this viewer
    note: str
    rows: tuple = ()  # ``SideBySideRow`` in rubric order

    @property
    def pk(self) -> int:
        """The self-assessment's id."""
        return self.id

    @property
    def side_by_side(self) -> bool:
        """Both ratings are shown to this viewer."""
        return self.coach_visible and self.learner_visible

    @property
    def same_count(self) -> int:
        """How many indicators the coach and the learner rated at the same level."""
        return sum(1 for row in self.rows if row.agreement == "same")


@dataclass(frozen=True)
class InstrumentChoiceData:
    """An instrument version a coach may record with, and the settings its requirement sets expect."""

    id: int
    title: str
    settings: tuple = ()  # setting labels (translated); empty when any setting counts


@dataclass(frozen=True)
class StateChangeData:
    """How many learners a policy change would move from one state to another, a few of them named."""

    before: str
    after: str
    count: int
    moves_back: bool  # fewer steps along (e.g. ready to in progress)
    before_label: str = ""  # the states' names, in the reader's language
    after_label: str = ""
    learners: tuple = ()  # ``UserRef`` of the first few, by username
    people: tuple = ()  # how each is named: their full name, else their username


@dataclass(frozen=True)
class PolicyPreviewData:
    """What saving a policy change would do to the course's learners, before it is saved."""

    evaluated: int  # learners decided again under the new rules
    total: int  # learners with a status in the course (``evaluated`` is at most ``PREVIEW_LEARNERS``)
    unchanged: int
    changes: tuple = ()  # ``StateChangeData``, the moves back first, then the largest
    moved_back: int = 0  # how many of ``evaluated`` would lose ground
    # other courses of the program left or joined: they share (or stop sharing) this course's
    # evidence, so their learners are evaluated again too (counted, not previewed: ADR 0026)
    other_courses: int = 0

    @property
    def needs_confirmation(self) -> bool:
        """Saving it needs the writer's confirmation: learners would move back, or other courses change."""
        return bool(self.moved_back or self.other_courses)


@dataclass(frozen=True)
class PolicyInstrumentData:
    """An instrument version as the policy editor offers it for a requirement set."""

    id: int
    title: str  # the instrument's name and version number
    summaries: tuple = ()  # ``(key, label)`` of its summary scores, labels in the reader's language
    essentials: tuple = ()  # its essential indicators' labels, in rubric order
    settings: tuple = ()  # the settings it declares (empty: any)


@dataclass(frozen=True)
class ProgramCourseData:
    """One course of a learner's program that the viewer may see (ADR 0025)."""

    course_key: str
    name: str  # the course's display name (its id when the platform has none)
    state: str  # the learner's state there as lists show it (``competency.State``, "expiring"); "not_enrolled"
    state_label: str
    done: bool  # certified there on an active certification (``programs.course_done``)
    certified_until: datetime | None = None  # that certification's expiry (None: none, or it never expires)


@dataclass(frozen=True)
class ProgramProgressData:
    """
    A learner's progress through a program (the courses whose policies name it), as the viewer may
    see it: courses they have no right in are counted (``hidden``), never named, and their state is
    never told, neither directly nor through ``completed`` (ADR 0025).
    """

    program: str
    course_key: str  # the course it was asked from
    learner: UserRef
    courses: tuple  # ``ProgramCourseData`` the viewer may see, in the program's order (stages first)
    total: int  # courses in the program, seen or not
    done: int  # courses done among ``courses``
    hidden: int  # courses of the program the viewer may not see
    completed: bool | None  # every course done; None when that depends on a hidden course

    def as_dict(self) -> dict[str, Any]:
        """
        The value as a dict (REST).

        Returns:
            ``{"program", "course_id", "learner", "courses", "total", "done", "hidden", "completed"}``;
            each course ``{"course_id", "name", "state", "state_label", "done", "certified_until"}``.
        """
        return {"program": self.program, "course_id": self.course_key,
                "learner": {"id": self.learner.id, "username": self.learner.username},
                "courses": [{"course_id": course.course_key, "name": course.name, "state": course.state,
                             "state_label": course.state_label, "done": course.done,
                             "certified_until": course.certified_until} for course in self.courses],
                "total": self.total, "done": self.done, "hidden": self.hidden, "completed": self.completed}


@dataclass(frozen=True)
class FocusData:
    """One focus indicator of a coaching plan and how the next observation followed it up."""

    indicator_id: int
    indicator_key: str
    indicator_label: str
    step: str
    computed_outcome: str | None = None  # ``coaching_loop.OUTCOMES`` from the ratings; None while unknown
    confirmed_outcome: str = ""  # the coach's word on it ("" while not given)
    followed_up_by: int | None = None  # the next observation's id, None while there is none

    @property
    def outcome(self) -> str | None:
        """The follow-up as it stands: the coach's word, else the computed one."""
        return self.confirmed_outcome or self.computed_outcome


@dataclass(frozen=True)
class PlanData:
    """A coaching plan agreed after an observed session (issue 31)."""

    id: int
    course_key: str
    learner_id: int
    observation_id: int
    practice_date: date
    author: Any  # ``UserRef`` or None (retired)
    instrument_version_id: int = 0  # the session's: the focus is on its indicators
    focus: tuple = ()  # ``FocusData``, in the order chosen
    learner_note: str = ""
    created_at: datetime | None = None
