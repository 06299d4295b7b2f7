"""
The learner list of a course: filtering, searching and sorting status rows in SQL.

One query for the rows (learner and certification joined) and one for the count, whatever the
page size or a learner's history: every figure shown is on the status row. Internal to ``api``.
"""
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import competency
from .models import CoachAssignment, LearnerStatus

EXPIRING_DAYS = 90

#: Filter values: the stored states plus the two that depend on today's date.
STATE_FILTERS = {
    "not_started": gettext_lazy("Not started"),
    "in_progress": gettext_lazy("In progress"),
    "ready": gettext_lazy("Ready for sign-off"),
    "awaiting_lead": gettext_lazy("Awaiting lead confirmation"),
    "certified": gettext_lazy("Certified"),
    "expiring": gettext_lazy("Expiring within 90 days"),
    "expiring_60": gettext_lazy("Expiring within 60 days"),
    "expiring_30": gettext_lazy("Expiring within 30 days"),
    "expired": gettext_lazy("Expired"),
    "revoked": gettext_lazy("Revoked"),
}

ORDERINGS = {
    "username": ("learner__username",),
    "-username": ("-learner__username",),
    "state": ("state", "learner__username"),
    "-state": ("-state", "learner__username"),
    "qualifying": ("qualifying_count", "learner__username"),
    "-qualifying": ("-qualifying_count", "learner__username"),
    "last_observation": ("last_practice_date", "learner__username"),
    "-last_observation": ("-last_practice_date", "learner__username"),
}


EXPIRING_FILTERS = {"expiring": 90, "expiring_60": 60, "expiring_30": 30}


def _state_q(state, now):
    certified = Q(state=LearnerStatus.CERTIFIED)
    lapsed = certified & Q(certification__expires_at__lte=now)
    if state == "certified":
        return certified & ~lapsed
    if state in EXPIRING_FILTERS:
        soon = now + timedelta(days=EXPIRING_FILTERS[state])
        return certified & Q(certification__expires_at__gt=now, certification__expires_at__lte=soon)
    if state == "expired":
        return Q(state=LearnerStatus.EXPIRED) | lapsed
    return Q(state=state)


def statuses(course_key, coach_id=None, state=None, search=None, ordering=None, now=None):
    """
    The course's status rows, filtered: ``coach_id`` (learners of that coach), ``state`` (a key of
    ``STATE_FILTERS``), ``search`` (part of a username), sorted by an ``ORDERINGS`` key.
    """
    now = now or timezone.now()
    errors = {}
    if state and state not in STATE_FILTERS:
        errors["state"] = [_("Unknown status filter.")]
    if ordering and ordering not in ORDERINGS:
        errors["ordering"] = [_("Unknown sort order.")]
    if coach_id not in (None, "") and (isinstance(coach_id, bool) or not str(coach_id).isdigit()):
        errors["coach"] = [_("Choose a coach from the list.")]
    if search is not None and (not isinstance(search, str) or len(search) > 150):
        errors["search"] = [_("At most 150 characters.")]
    if errors:
        raise ValidationError(errors)
    rows = LearnerStatus.objects.filter(course_key=course_key).select_related("learner", "certification")
    if coach_id not in (None, ""):
        rows = rows.filter(learner_id__in=CoachAssignment.objects.filter(
            course_key=course_key, coach_id=int(coach_id)).values("learner_id"))
    if state:
        rows = rows.filter(_state_q(state, now))
    if search:
        rows = rows.filter(learner__username__icontains=search.strip())
    return rows.order_by(*ORDERINGS[ordering or "username"])


def display_state(status, now=None):
    """The state to show: certified rows become "expiring" or "expired" as their expiry nears."""
    now = now or timezone.now()
    expires = status.certification.expires_at if status.certification_id and status.certification else None
    if status.state == LearnerStatus.CERTIFIED and expires is not None:
        if expires <= now:
            return "expired"
        if expires <= now + timedelta(days=EXPIRING_DAYS):
            return "expiring"
    return status.state


def row(status, now=None):
    """What the learner list shows for one status row (no further queries)."""
    state = display_state(status, now)
    certification = status.certification if status.certification_id else None
    first_reason = competency.Reason.from_dict(status.reasons[0]) if status.reasons else None
    return {
        "learner": status.learner,
        "state": state,
        "state_label": str(STATE_FILTERS[state]) if state in STATE_FILTERS else status.get_state_display(),
        "qualifying": status.qualifying_count,
        "required": status.required_count,
        "last_practice_date": status.last_practice_date,
        "last_percent": status.last_percent,
        "next_step": first_reason.message if first_reason else "",
        "expires_at": certification.expires_at if certification else None,
    }


def expiring_counts(course_key, now=None):
    """How many certifications in the course expire within 30, 60 and 90 days (one query)."""
    now = now or timezone.now()
    return LearnerStatus.objects.filter(course_key=course_key).aggregate(**{
        name: Count("pk", filter=_state_q(name, now)) for name in ("expiring_30", "expiring_60", "expiring")
    })
