"""
The signals miiwrap-fidelity sends (definitions only; the receivers are connected in ``hooks/receivers.py``).

All are sent after the transaction that caused them commits.
"""
from django.dispatch import Signal

#: kwargs: learner_id, course_key (str), state, cause ("observation_submitted" | "approved" | "revoked")
competency_changed = Signal()

#: kwargs: certification_id, countdown (seconds to wait before asking the platform for the certificate)
certification_issued = Signal()

#: kwargs: course_id (str): every learner of the course is to be re-evaluated (the policy changed)
course_reevaluation_requested = Signal()

#: kwargs: comment_id. Sent after a coach's comment on a reflection commits (the learner is told).
reflection_commented = Signal()

#: kwargs: learner_id, program (its name), completed (True: every course of the program is certified;
#: False: it no longer is), course_key (str: the course whose change decided it), course_keys (the
#: program's courses, in its order). Sent once per change (ADR 0025), from the outbox.
program_completion_changed = Signal()

#: kwargs: learner_id, course_key (str), plan_id, observation_id (the session it follows), coach_id (who
#: saved it; None once retired), indicator_keys (the focus, in order). Ids and keys only: never the
#: practice steps. Sent once per saved change of a plan's focus (issue 31, ADR 0027), from the outbox.
coaching_plan_saved = Signal()

#: kwargs: learner_id, course_key (str), plan_id, indicator_key, outcome ("improved" | "held" |
#: "slipped": the coach's word), computed_outcome (from the ratings; None when they cannot say),
#: observation_id (the session that followed the focus up), coach_id. Sent once per confirmation,
#: from the outbox.
coaching_follow_up_confirmed = Signal()
