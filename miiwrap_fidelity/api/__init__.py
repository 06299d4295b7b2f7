"""
The only door into miiwrap-fidelity's records: pages, the REST API, XBlocks, filters, receivers,
tasks and commands use the names below, never the modules of this package (``.importlinter``).

Every write checks the actor's role on the server, validates its input, runs in one transaction and
leaves an audit event; every read checks who may see it. Records leave as frozen values
(``rules/data.py``). Every error raised on purpose is a ``MiiwrapError``, of a few kinds each entry
point maps once: ``NotFound`` (404), ``PermissionDenied`` (403), ``ValidationError`` with field
messages (400), ``Conflict`` (409: the record changed since it was read), ``WriteConflict`` (503:
other writes held the records; nothing was saved).

Each module of this package holds one subject, in layers (``.importlinter``: no cycle).
"""
# pylint: disable=unused-import
# ruff: noqa: F401  (this module is the list of what the api offers)

# Errors, and the input checks every path shares
from ..records.write_retry import WriteConflict
from ..records.write_retry import retrying as with_write_retries
from ..records.write_retry import run as run_with_write_retries
from ..rules.errors import MiiwrapError, NotFound, PermissionDenied, ValidationError
from ..rules.text_checks import has_lone_surrogate
from ..rules.validation import MAX_JSON_BYTES, Conflict, clean_id, clean_text, collect, parse_json
from .inputs import MAX_NOTE_CHARS, MAX_REASON_CHARS, get_user, parse_course_key

# Words and rules the entry points show (decided here, never re-derived by a page)
from ..rules.competency import (ANNOUNCE, APPROVE, COACH, DEPENDENTS, EXPIRY_EVENT, INVALIDATION, LEAD, LEADER_FIGURES,
                                MESSAGE, REVOKE)
from ..rules.privacy import client_normalization as identifier_normalization
from ..rules.privacy import client_patterns as identifier_patterns
from ..rules.privacy import fields_with_identifiers
from ..rules.privacy import warning_message as identifier_warning
from ..rules.rubric import MAX_FEEDBACK_CHARS
from ..rules.rubric import form_rows as rubric_form_rows
from ..rules.rubric import ratings_from_form
from ..wording.formatting import percent as format_percent
from ..wording.reason_sentences import approval_not_offered
from ..wording.reason_sentences import sentences as reason_sentences

# What the api announces (receivers connect in hooks/receivers.py) and the platform seams it offers
from ..seams.tracking_events import send as send_tracking_event
from .signals import certification_issued, competency_changed, course_reevaluation_requested, reflection_commented

# Who may do what
from .roles import can_coach, can_view_learner, is_coach_of, is_course_staff, require_coach

# A course: its policy, coaches, start dates, names
from .courses import (MAX_CSV_BYTES, MAX_CSV_ROWS, POLICY_DEFAULTS, POLICY_FIELDS, POLICY_HELP, POLICY_LIMITS,
                      POLICY_MODES, assign_coach, assign_coaches_from_csv, coach_assignments, coached_learner_ids,
                      course_coach, get_policy, note_enrollment, note_unenrollment, policy_for_editing,
                      read_csv_upload, save_policy, search_coaches, unassign_coach)
from .names import course_display_name, full_names
from .paged import STAFF_PAGE_SIZE
from .coaching_plans import add_learner_note, confirm_follow_up, current_plan, save_plan, suggested_focus
from .plan_sessions import focus_by_session, latest_session
from .policy_choices import MAX_REQUIREMENT_SETS, policy_instruments, stage_choices
from .policy_preview import PREVIEW_LEARNERS, preview_policy, save_previewed_policy
from .start_dates import set_start_date, set_start_dates_from_csv, start_dates

# Instruments
from .instrument_choices import instrument_choices
from .rubrics import instrument_version, instrument_versions

# Evidence: observations, corrections, self-assessments, reflections, sign-offs
from .amendments import amend_observation
from .evidence import certified_evidence, offered_actions
from .history import (HISTORY_PAGE_SIZE, growth_observations, history_page, observation_history, own_drafts,
                      qualifying_ids, qualifying_percent)
from .observations import (DRAFT, OBSERVATION_SETTINGS, SUBMITTED, ObservationResult, get_observation,
                           observation_settings, save_observation, sessions_open_for_co_rating)
from .progress import learner_course_progress
from .reflection_records import (clean_reflection_prompts, comment_on_reflection, get_reflection, get_reflection_by_id,
                                 policy_indicators, policy_summaries, reflections_for, save_reflection)
from .self_assessments import save_self_assessment, self_assessment_for, self_assessments_for
from .signoffs import revoke, sign_off, signoffs_for

# Where learners stand: decisions, the gate, lists, re-evaluation
from .stages import reevaluate_dependents
from .status import (COUNT_LIMIT, EXPIRING_FILTERS, LAST_PAGE, SORT_KEYS, STATE_FILTERS, GateResult, NotEnrolled,
                     certificate_still_valid, certification_status, coachable_rows, courses_with_policy,
                     expire_certifications, gate_decision, has_coach, learner_rows, learner_status,
                     learner_statuses, reevaluate, reevaluate_course, reevaluation_progress, refresh_stale_statuses,
                     status_reason_sentences)

# Programs: a learner's progress through the courses of a program, its completion event (ADR 0025)
from ..rules.programs import PROGRAM_CHANGED, PROGRAM_CHECK
from .programs import program_progress, settle_program
from .signals import program_completion_changed

# Oversight: drift, rater agreement, the leader view, exports
from .oversight import (acknowledge_alert, drift_alert_rows, export_lines, kept_leader_view, leader_figures_changed,
                        leader_view, refresh_leader_figures, reliability_report, request_leader_refresh)

# Consequences of a change, the platform certificate, messages
from .certificate_requests import (certificates_to_invalidate, invalidate_platform_certificate,
                                   pending_certificate_requests, request_platform_certificate, stopped_reevaluations)
from .consequences import deliver_consequences, pending_consequences, register_consequence_handler, send_expiry_event
from .messaging import (competency_message_type, receives_non_essential, send_coach_digests, send_competency_message,
                        send_expiry_reminders, send_overdue_notices, send_reflection_feedback, set_non_essential)

# Operators' work
from .maintenance import (SAMPLE_INSTRUMENT, SAMPLE_INSTRUMENTS, AuditSealRefused, InstrumentInvalid,
                          audit_chain_sealed, import_instrument, platform_retirement_signals, purge_free_text,
                          reconcile_enrollments, refresh_search_names, retention_cutoff, retire_user, seal_audit_chain,
                          stray_status_learners, verify_audit_chain)

# The coaching loop's consequences: the plan's message and events, delivered from the outbox (issue 31)
from ..rules.competency import FOLLOW_UP_CONFIRMED, PLAN_MESSAGE, PLAN_SAVED
from .messaging import send_plan_message
from .signals import coaching_follow_up_confirmed, coaching_plan_saved
