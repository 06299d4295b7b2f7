"""Django admin for every record; evidence (observations, sign-offs, audit), policies and coach assignments
are read-only (they change through ``api``: role check, audit, re-evaluation)."""
from django.contrib import admin

from .records import models
from .records.coaching_plans import CoachingPlan, PlanFocus
from .records.program_completion import ProgramCompletion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IndicatorInline(admin.TabularInline):
    model = models.Indicator
    extra = 0
    fields = ("position", "key", "kind", "domain", "label", "critical")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")


@admin.register(models.InstrumentVersion)
class InstrumentVersionAdmin(ReadOnlyAdmin):
    list_display = ("instrument", "number", "title", "created_at")
    inlines = [IndicatorInline]


@admin.register(models.Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ("key", "version", "kind", "domain", "critical")
    list_filter = ("kind", "critical", "domain")


# Policies and coach assignments change through the course's Coaching pages or the REST API, which
# check the course role, write the audit event and start the re-evaluation: read-only here.
@admin.register(models.CompetencyPolicy)
class CompetencyPolicyAdmin(ReadOnlyAdmin):
    list_display = ("course_key", "enabled", "instrument_version", "mode", "program")
    list_filter = ("enabled", "mode")


@admin.register(models.CoachAssignment)
class CoachAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("course_key", "coach", "learner", "created_at")
    raw_id_fields = ("coach", "learner")


class IndicatorRatingInline(admin.TabularInline):
    model = models.IndicatorRating
    extra = 0
    readonly_fields = ("indicator", "level", "strength", "next_step")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Observation)
class ObservationAdmin(ReadOnlyAdmin):
    list_display = ("id", "course_key", "learner", "observer", "practice_date", "status", "percent")
    list_filter = ("status", "setting")
    inlines = [IndicatorRatingInline]


@admin.register(models.ObservationAmendment)
class ObservationAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "observation", "author", "created_at")
    list_select_related = ("observation", "author")


@admin.register(models.SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("id", "course_key", "learner", "actor", "action", "level", "created_at")
    list_filter = ("action", "level")


@admin.register(models.Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "course_key", "learner", "issued_at", "expires_at", "revoked_at", "certificate_outcome",
                    "certificate_confirmed_at")


@admin.register(models.LearnerStatus)
class LearnerStatusAdmin(ReadOnlyAdmin):
    list_display = ("course_key", "learner", "state", "qualifying_count", "required_count", "evaluated_at")
    list_filter = ("state",)


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "action", "actor_id", "subject_user_id", "object_type", "object_id")
    list_filter = ("action",)


@admin.register(models.AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("count", "last_id", "last_hash")


class ReflectionCommentInline(admin.TabularInline):
    model = models.ReflectionComment
    extra = 0
    readonly_fields = ("author", "text", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Reflection)
class ReflectionAdmin(ReadOnlyAdmin):
    list_display = ("id", "course_key", "learner", "title", "status", "submitted_at")
    list_filter = ("status",)
    inlines = [ReflectionCommentInline]


@admin.register(models.DriftAlert)
class DriftAlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "course_key", "learner", "kind", "indicator_key", "created_at", "resolved_at")
    list_filter = ("kind",)


@admin.register(models.CourseReevaluation)
class CourseReevaluationAdmin(ReadOnlyAdmin):
    list_display = ("course_key", "requested_at", "started_at", "heartbeat_at", "finished_at", "failed_at", "done",
                    "total")


@admin.register(models.MessagePreference)
class MessagePreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "non_essential", "updated_at")
    raw_id_fields = ("user",)


@admin.register(models.ExpiryReminder)
class ExpiryReminderAdmin(ReadOnlyAdmin):
    list_display = ("certification", "days_before", "sent_at")


@admin.register(models.SelfAssessment)
class SelfAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("observation", "course_key", "learner", "status", "requested_at", "answered_at")
    list_filter = ("status",)


@admin.register(models.LearnerStartDate)
class LearnerStartDateAdmin(ReadOnlyAdmin):
    """Read-only: hire dates change on the start-dates page (audited, and the learner re-evaluated)."""

    list_display = ("course_key", "learner", "start_date", "updated_at")


@admin.register(models.OverdueNotice)
class OverdueNoticeAdmin(ReadOnlyAdmin):
    list_display = ("course_key", "learner", "due_date", "sent_at")


@admin.register(models.Consequence)
class ConsequenceAdmin(ReadOnlyAdmin):
    """The outbox of status changes' consequences (ADR 0019): what is still due, and how often it failed."""
    list_display = ("id", "kind", "course_key", "learner_id", "created_at", "attempts", "due_at", "delivered_at")
    list_filter = ("kind",)


@admin.register(models.SubmissionKey)
class SubmissionKeyAdmin(ReadOnlyAdmin):
    """Clients' submission keys and the record each first submission made (ADR 0022), kept a day."""
    list_display = ("id", "user_id", "action", "record_id", "created_at")
    list_filter = ("action",)


@admin.register(ProgramCompletion)
class ProgramCompletionAdmin(ReadOnlyAdmin):
    """Whether each learner's program was complete when last decided: the latch of its event (ADR 0025)."""
    list_display = ("id", "program", "learner", "completed", "changed_at")
    list_filter = ("completed",)


@admin.register(CoachingPlan)
class CoachingPlanAdmin(ReadOnlyAdmin):
    """Plans agreed after observed sessions (ADR 0027): they change through the coach's and learner's pages."""
    list_display = ("id", "course_key", "learner", "observation", "created_at")
    raw_id_fields = ("learner", "author", "observation")


@admin.register(PlanFocus)
class PlanFocusAdmin(ReadOnlyAdmin):
    list_display = ("id", "plan", "indicator", "confirmed_outcome")
