"""
Coach and lead sign-off, certification and revocation (append-only sign-offs).

Each write is: lock the learner's status row, load their records once, let ``competency`` decide,
write, and store the decision on the new records (decided again in memory, nothing read twice).
"""
from collections.abc import Collection
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from opaque_keys.edx.keys import CourseKey

from ..records import audit, evaluation
from ..records.models import Certification, CompetencyPolicy, LearnerStatus, SignOff
from ..rules import competency, data, privacy
from ..rules.errors import ValidationError
from ..rules.validation import clean_text
from ..seams import tracking_events as events
from ..wording import reason_sentences
from . import self_assessments, submission_keys
from . import to_data as values
from .courses import require_policy
from .inputs import MAX_REASON_CHARS, CourseRef, User, UserRef, get_user, parse_course_key
from .roles import can_view_learner, is_course_staff, require, require_coach
from .signals import certification_issued
from .status import announce_change


def _evidence(policy: CompetencyPolicy, decision: competency.Decision) -> dict[str, Any]:
    return {
        "policy": policy.pk,
        "instrument_version": policy.instrument_version_id,
        "observations": [{"id": obs.id, "percent": obs.percent} for obs in decision.qualifying],
    }


def _locked_decision(policy: CompetencyPolicy, learner: User, course_key: CourseKey) -> tuple[
        evaluation.CourseContext, LearnerStatus, evaluation.Records, competency.Decision]:
    """Lock the learner's status row, then load their records once and decide: ``(context, status, records, decision)``."""
    context = evaluation.CourseContext(policy, course_key)
    status = evaluation.lock_status(learner.pk, course_key)
    records = evaluation.load_records(context, [learner.pk])[learner.pk]
    return context, status, records, evaluation.decide_records(context, records, timezone.now())


def _store(context: evaluation.CourseContext, status: LearnerStatus,
           records: evaluation.Records) -> competency.Decision:
    """Decide on ``records`` (with what was just written) and store it in the locked status row."""
    decision = evaluation.decide_records(context, records, timezone.now())
    evaluation.store_status(status, decision, records.certification)
    return decision


def sign_off(actor: User, learner: UserRef, course_key: CourseRef, level: str = SignOff.COACH, reason: str = "",
             idempotency_key: str | None = None, privacy_confirmed: bool = False) -> data.SignOffData:
    """
    Approve a learner's competency at ``level`` ("coach", or "lead" for the second level).

    Refused unless the evidence meets the policy (``competency.signoff_verdict`` has every rule).
    Approving again on the same evidence changes nothing. When every required level has approved,
    a certification is issued and, after the transaction commits, the platform certificate is
    requested once.

    Args:
        actor: a coach of the learner ("coach"), or course staff other than the learner ("lead").
        learner: the learner, or their id.
        course_key: the course.
        level: ``SignOff.COACH`` or ``SignOff.LEAD``.
        reason: an optional note (the learner reads it).
        idempotency_key: a repeat with the same key (``submission_keys``) returns the first one's
            approval.
        privacy_confirmed: the author confirms that a reason which looks client-identifying is not.

    Returns:
        The approval that stands.

    Raises:
        PermissionDenied: ``actor`` may not approve at this level.
        ValidationError: an unknown level, a reason too long or one that looks client-identifying
            and is not confirmed, evidence that does not meet the policy, a key that is malformed
            or was used for other content, no such learner, no competency policy in the course, or
            not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    # The role first: a repeat is answered only to someone who may approve now.
    if level not in (SignOff.COACH, SignOff.LEAD):
        raise ValidationError({"level": [_("Choose coach or lead.")]})
    if level == SignOff.LEAD:
        require(is_course_staff(actor, course_key) and actor.pk != learner.pk,
                _("Only a certification lead (course staff) can confirm competency."))
    else:
        require_coach(actor, learner, course_key)
    submitted = submission_keys.fingerprint(learner.pk, str(course_key), level, reason)
    return submission_keys.once(actor, idempotency_key, "approval", submitted,
                                lambda: _approve(actor, learner, course_key, level, reason, privacy_confirmed),
                                _signoff_by_id)


def _signoff_by_id(signoff_id: int) -> data.SignOffData:
    return values.signoff_data(SignOff.objects.select_related("actor").get(pk=signoff_id))


def _approve(actor: User, learner: User, course_key: CourseKey, level: str, reason: str,
             privacy_confirmed: bool) -> tuple[data.SignOffData, int]:
    """``sign_off``'s write: ``(SignOffData, sign-off id)``."""
    reason = clean_text(reason, "reason", MAX_REASON_CHARS)
    privacy.require_confirmed({"reason": reason}, privacy_confirmed)
    policy = require_policy(course_key)
    with transaction.atomic():
        context, status, records, decision = _locked_decision(policy, learner, course_key)
        evidence = _evidence(policy, decision)
        digest = SignOff.digest(evidence)
        verdict = competency.signoff_verdict(context.rules, decision, level, actor.pk, digest, timezone.now())
        if verdict.outcome == competency.SignOffOutcome.REFUSED:
            raise ValidationError({field: reason_sentences.sentences(reasons, reviewer=True)
                                   for field, reasons in verdict.refusals.items()})
        if verdict.outcome == competency.SignOffOutcome.ALREADY_CERTIFIED:
            approval = cast(SignOff, _latest_approval(learner, course_key))  # certified: an approval stands
            return values.signoff_data(approval), approval.pk
        if verdict.outcome == competency.SignOffOutcome.ALREADY_APPROVED:
            existing = cast(competency.SignOffRecord, verdict.existing)  # already approved: the approval is there
            return _signoff_by_id(existing.id), existing.id
        signoff = SignOff.objects.create(course_key=course_key, learner=learner, actor=actor, action=SignOff.APPROVE,
                                         level=level, reason=reason, evidence=evidence, evidence_digest=digest)
        audited = [audit.Entry("competency.approved", signoff, actor, learner.pk, course_key)]
        events.competency_approved(signoff)
        certification = None
        if verdict.outcome == competency.SignOffOutcome.RECORD_AND_CERTIFY:
            certification = _issue_certification(context, learner, course_key, digest)
            audited.append(audit.Entry("certification.issued", certification, actor, learner.pk, course_key))
        decision = _store(context, status, records.with_signoff(signoff, certification))
        audit.record_all(audited)  # the head is the last lock (ADR 0006): one lock, one insert
        announce_change(learner.pk, course_key, decision.state, "approved")
    return values.signoff_data(signoff), signoff.pk


def _latest_approval(learner: User, course_key: CourseKey) -> SignOff | None:
    return SignOff.objects.select_related("actor").filter(
        learner=learner, course_key=course_key, action=SignOff.APPROVE).order_by("-created_at", "-id").first()


def _issue_certification(context: evaluation.CourseContext, learner: User, course_key: CourseKey,
                         digest: str) -> Certification:
    """The certification an approval issues (its audit event is the caller's, with the approval's)."""
    now = timezone.now()
    certification = Certification.objects.create(
        course_key=course_key, learner=learner, policy=context.policy, issued_at=now,
        expires_at=competency.expiry_for(now, context.rules), evidence_digest=digest,
    )
    events.certification_issued(certification)
    # After commit, a receiver (``hooks/receivers.py``) queues the platform certificate request; a broker outage
    # must not fail the approval that already committed: the periodic ``request_pending_certificates``
    # task picks up any certification left unrequested.
    countdown = getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN", 0) or 0
    transaction.on_commit(lambda: certification_issued.send(sender=Certification, certification_id=certification.pk,
                                                            countdown=countdown), robust=True)
    return certification


def revoke(actor: User, learner: UserRef, course_key: CourseRef, reason: str, idempotency_key: str | None = None,
           privacy_confirmed: bool = False) -> data.SignOffData:
    """
    Revoke a learner's competency (approvals and active certification), with a required reason.

    Args:
        actor: a coach of the learner, or course staff.
        learner: the learner, or their id.
        course_key: the course.
        reason: why (required; the learner reads it).
        idempotency_key: a repeat with the same key (``submission_keys``) returns the first
            revocation; without one, so does the same actor's same reason within
            ``competency.REPEATED_SUBMISSION_WINDOW`` when nothing is left to revoke.
        privacy_confirmed: the author confirms that a reason which looks client-identifying is not.

    Returns:
        The revocation.

    Raises:
        PermissionDenied: ``actor`` may not coach this learner.
        ValidationError: no reason, one too long or one that looks client-identifying and is not
            confirmed, nothing to revoke, a key that is malformed or was used for other content, no
            such learner, no competency policy in the course, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require_coach(actor, learner, course_key)
    submitted = submission_keys.fingerprint(learner.pk, str(course_key), reason)
    return submission_keys.once(actor, idempotency_key, "revocation", submitted,
                                lambda: _revoke(actor, learner, course_key, reason, privacy_confirmed), _signoff_by_id)


def _revoke(actor: User, learner: User, course_key: CourseKey, reason: str,
            privacy_confirmed: bool) -> tuple[data.SignOffData, int]:
    """``revoke``'s write: ``(SignOffData, sign-off id)``."""
    reason = clean_text(reason, "reason", MAX_REASON_CHARS, required=True)
    privacy.require_confirmed({"reason": reason}, privacy_confirmed)
    policy = require_policy(course_key)
    with transaction.atomic():
        context, status, records, decision = _locked_decision(policy, learner, course_key)
        refusal = competency.revoke_refusal(decision)
        if refusal is not None:
            repeated = SignOff.objects.select_related("actor").filter(
                learner=learner, course_key=course_key, action=SignOff.REVOKE, actor=actor, reason=reason,
                created_at__gte=competency.repeated_submission_since(timezone.now())).order_by("-id").first()
            if repeated is not None:  # sent again (a retry, a double click): the first revocation answers
                return values.signoff_data(repeated), repeated.pk
            raise ValidationError({"learner": reason_sentences.sentences([refusal], reviewer=True)})
        evidence = _evidence(policy, decision)
        signoff = SignOff.objects.create(
            course_key=course_key, learner=learner, actor=actor, action=SignOff.REVOKE,
            level=SignOff.LEAD if is_course_staff(actor, course_key) else SignOff.COACH,
            reason=reason, evidence=evidence, evidence_digest=SignOff.digest(evidence),
        )
        certification = records.certification
        if decision.certified:
            certification = cast(Certification, certification)  # certified: the certification is there
            certification.revoked_at, certification.revoked_by = signoff.created_at, signoff
            certification.save(update_fields=["revoked_at", "revoked_by"])
            audit.record("certification.revoked", certification, actor=actor, subject_user_id=learner.pk,
                         course_key=course_key)
        audit.record("competency.revoked", signoff, actor=actor, subject_user_id=learner.pk, course_key=course_key)
        events.competency_revoked(signoff)
        decision = _store(context, status, records.with_signoff(signoff, certification))
        announce_change(learner.pk, course_key, decision.state, "revoked")
    return values.signoff_data(signoff), signoff.pk


def signoffs_for(viewer: User, learner: UserRef, course_key: CourseRef) -> list[data.SignOffData]:
    """
    The learner's sign-offs in the course, in one query (two for the learner themselves).

    Args:
        viewer: who asks (the learner, their coaches, course staff).
        learner: the learner, or their id.
        course_key: the course.

    Returns:
        The sign-offs, oldest first; for the learner, an approval's evidence without the score of
        a session they have yet to self-assess.

    Raises:
        PermissionDenied: ``viewer`` may not see this learner's records.
        ValidationError: no such learner, or not a course key.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    signoffs = list(SignOff.objects.select_related("actor").filter(
        learner=learner, course_key=course_key).order_by("created_at", "id"))
    blind: Collection[int] = frozenset()
    if viewer.pk == learner.pk:  # an approval's evidence holds each session's score: not before they rated it
        blind = self_assessments.blind_to_learner(
            {entry.get("id") for signoff in signoffs if isinstance(signoff.evidence, dict)
             for entry in signoff.evidence.get("observations", [])}, timezone.now())
    return [values.signoff_data(signoff, blind) for signoff in signoffs]
