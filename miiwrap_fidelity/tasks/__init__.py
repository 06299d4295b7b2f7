"""
Entry points: every Celery task of the plugin (the platform's worker autodiscovers ``<app>.tasks``).

Task names are explicit and stay what they were before the modules moved (``name=``), so messages
already queued under a name still find their task after an upgrade.
"""
from .certificates import (
                           invalidate_certificate,
                           invalidate_lapsed_certificates,
                           request_certificate,
                           request_pending_certificates,
)
from .messages import (
                           send_coach_digests,
                           send_competency_message,
                           send_expiry_reminders,
                           send_overdue_notices,
                           send_reflection_feedback,
)
from .upkeep import (
                           deliver_consequences,
                           expire_certifications,
                           reevaluate_course,
                           reevaluate_dependents,
                           refresh_leader_figures,
                           refresh_search_names,
                           refresh_stale_statuses,
                           resume_stopped_reevaluations,
)
