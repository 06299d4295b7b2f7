"""
The only door into miiwrap-fidelity's records: XBlocks, views, filters and tasks call these.

Every write checks the actor's role on the server, validates its input (``ValidationError`` with
field messages), runs in one transaction, and leaves an audit event. Permission failures raise
``django.core.exceptions.PermissionDenied``. Each module of this package holds one subject;
callers use the names below, not the modules.
"""
from django.core.exceptions import PermissionDenied, ValidationError

from .. import competency, privacy, rubric
from ..validation import clean_text, collect
from .courses import (
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    POLICY_FIELDS,
    assign_coach,
    assign_coaches_from_csv,
    coach_assignments,
    coached_learner_ids,
    course_coaches,
    get_policy,
    note_enrollment,
    note_unenrollment,
    read_csv_upload,
    save_policy,
    unassign_coach,
)
from .inputs import MAX_NOTE_CHARS, MAX_REASON_CHARS, get_user, parse_course_key
from .messaging import receives_non_essential, set_non_essential
from .observations import (
    OBSERVATION_SETTINGS,
    ObservationResult,
    get_observation,
    observations_for,
    save_observation,
    sessions_open_for_co_rating,
)
from .oversight import acknowledge_alert, alert_rows, drift_alerts, export_lines, leader_view, reliability_report
from .progress import learner_course_progress
from .reflection_records import (
    clean_reflection_prompts,
    comment_on_reflection,
    get_reflection,
    get_reflection_by_id,
    policy_indicators,
    reflections_for,
    save_reflection,
)
from .roles import can_coach, can_view_learner, is_coach_of, is_course_staff, require_coach
from .signoffs import revoke, sign_off, signoffs_for
from .status import (
    GateResult,
    certification_status,
    coachable_rows,
    competency_decision,
    gate_decision,
    learner_rows,
    learner_status,
    learner_statuses,
    reevaluate,
    reevaluate_course,
    reevaluation_progress,
)

__all__ = [
    "PermissionDenied",
    "ValidationError",
    "competency",
    "privacy",
    "rubric",
    "clean_text",
    "collect",
    "get_user",
    "MAX_NOTE_CHARS",
    "MAX_REASON_CHARS",
    "parse_course_key",
    "can_coach",
    "can_view_learner",
    "is_coach_of",
    "is_course_staff",
    "require_coach",
    "assign_coach",
    "assign_coaches_from_csv",
    "coach_assignments",
    "coached_learner_ids",
    "course_coaches",
    "get_policy",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
    "note_enrollment",
    "note_unenrollment",
    "POLICY_FIELDS",
    "read_csv_upload",
    "save_policy",
    "unassign_coach",
    "get_observation",
    "OBSERVATION_SETTINGS",
    "ObservationResult",
    "observations_for",
    "save_observation",
    "sessions_open_for_co_rating",
    "clean_reflection_prompts",
    "comment_on_reflection",
    "get_reflection",
    "get_reflection_by_id",
    "policy_indicators",
    "reflections_for",
    "save_reflection",
    "certification_status",
    "coachable_rows",
    "competency_decision",
    "gate_decision",
    "GateResult",
    "learner_rows",
    "learner_status",
    "learner_statuses",
    "reevaluate",
    "reevaluate_course",
    "reevaluation_progress",
    "learner_course_progress",
    "receives_non_essential",
    "set_non_essential",
    "revoke",
    "sign_off",
    "signoffs_for",
    "acknowledge_alert",
    "alert_rows",
    "drift_alerts",
    "export_lines",
    "leader_view",
    "reliability_report",
]
