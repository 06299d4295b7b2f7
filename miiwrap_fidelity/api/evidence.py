"""What a certification rests on, and which sign-off actions a coach's page offers."""
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from ..records import evaluation
from ..records.models import Observation, SignOff
from ..rules import competency, data
from . import self_assessments
from . import to_data as values
from .inputs import CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, is_course_staff, require


def certified_evidence(viewer: User, learner: UserRef, course_key: CourseRef,
                       now: datetime | None = None) -> data.CertifiedEvidenceData | None:
    """
    What the learner's active certification rests on, in three queries: the certification, its
    approvals (matched by the evidence digest), the observations.

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.
        now: the moment (default: the clock).

    Returns:
        The certification with the qualifying observations its approvals saw (a score the learner
        is still to self-assess hidden from them); None when not certified.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    now = now or timezone.now()
    certification = evaluation.latest_certification(learner.pk, course_key)
    if certification is None or not competency.is_active(certification.expires_at, certification.revoked_at, now):
        return None
    approvals = list(SignOff.objects.select_related("actor").filter(
        learner=learner, course_key=course_key, action=SignOff.APPROVE,
        evidence_digest=certification.evidence_digest, created_at__lte=certification.issued_at,
    ).order_by("created_at", "id"))
    ids = [entry["id"] for entry in (approvals[-1].evidence.get("observations", []) if approvals else [])]
    observations = sorted(Observation.objects.select_related("observer", "self_assessment").filter(
        pk__in=ids, learner=learner, course_key=course_key), key=lambda o: (o.practice_date, o.pk)) if ids else []
    # The learner rates a session blind: its score stays hidden from them until they have (ADR 0014).
    blind = {o.pk for o in observations if viewer.pk == learner.pk and self_assessments.hides_coach_ratings(o, now)}
    return data.CertifiedEvidenceData(
        certification=values.certification_data(certification, now),
        observations=tuple(data.EvidenceObservationData(
            o.pk, o.practice_date, str(o.get_setting_display()), None if o.pk in blind else o.percent,
            values.user_ref(o.observer)) for o in observations),
        signed_off_at=approvals[-1].created_at if approvals else None,
        signed_off_by=tuple(values.user_ref(a.actor) for a in approvals),
    )


def offered_actions(viewer: User, status: data.LearnerStatusData, course_key: CourseRef) -> competency.OfferedActions:
    """
    The sign-off actions the coach's page offers, as ``competency.offered_actions`` decides them
    (the write paths check again).

    Args:
        viewer: the coach or lead looking.
        status: the learner's status (``learner_status``).
        course_key: the course.

    Returns:
        What to offer (approve, revoke, at which level) and why approval is not offered.

    Raises:
        ValidationError: ``course_key`` is not a course key.
    """
    certification = status.certification
    return competency.offered_actions(
        status.state, certification.state if certification else None, status.qualifying_count,
        status.required_count, is_course_staff(viewer, parse_course_key(course_key)))
