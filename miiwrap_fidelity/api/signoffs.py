"""Coach and lead sign-off, certification and revocation (append-only sign-offs)."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, competency, evaluation, events
from ..models import Certification, SignOff
from ..validation import clean_text
from .courses import require_policy
from .inputs import MAX_REASON_CHARS, get_user, parse_course_key
from .roles import can_view_learner, is_course_staff, require, require_coach
from .status import announce_change


def _evidence(policy, decision):
    return {
        "policy": policy.pk,
        "instrument_version": policy.instrument_version_id,
        "observations": [{"id": obs.id, "percent": obs.percent} for obs in decision.qualifying],
    }


def sign_off(actor, learner, course_key, level=SignOff.COACH, reason=""):
    """
    Approve a learner's competency at ``level`` ("coach", or "lead" for the second level).

    Refused unless the evidence meets the policy. Approving again on the same evidence changes
    nothing. When every required level has approved, a certification is issued and, after the
    transaction commits, the platform certificate is requested once.
    """
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    reason = clean_text(reason, "reason", MAX_REASON_CHARS)
    if level not in (SignOff.COACH, SignOff.LEAD):
        raise ValidationError({"level": [_("Choose coach or lead.")]})
    if level == SignOff.LEAD:
        require(is_course_staff(actor, course_key) and actor.pk != learner.pk,
                 _("Only a certification lead (course staff) can confirm competency."))
    else:
        require_coach(actor, learner, course_key)
    policy = require_policy(course_key)
    with transaction.atomic():
        status = evaluation.lock_status(learner.pk, course_key)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        renewing = decision.certified and competency.recertification_open(decision.certification, timezone.now())
        if decision.certified and not renewing:
            return _latest_approval(learner, course_key)
        if not decision.evidence_met:
            reasons = decision.evidence_reasons if renewing else decision.reasons
            raise ValidationError({"evidence": [reason.reviewer_message for reason in reasons]})
        if level == SignOff.LEAD and policy.require_lead_signoff is False:
            raise ValidationError({"level": [_("This course's policy has no lead sign-off level.")]})
        approvals = competency.current_approvals(
            evaluation.load_signoffs(learner.pk, course_key), since=certification.issued_at if certification else None
        )
        if level == SignOff.LEAD and SignOff.COACH not in approvals:
            raise ValidationError({"level": [_("The coach approves first; the lead then confirms.")]})
        if level == SignOff.LEAD and approvals[SignOff.COACH].actor_id == actor.pk:
            raise ValidationError({"level": [_("The lead confirmation must come from someone other than the "
                                               "approving coach.")]})
        evidence = _evidence(policy, decision)
        digest = SignOff.digest(evidence)
        existing = approvals.get(level)
        if existing is not None and SignOff.objects.filter(pk=existing.id, evidence_digest=digest).exists():
            return SignOff.objects.get(pk=existing.id)
        signoff = SignOff.objects.create(course_key=course_key, learner=learner, actor=actor, action=SignOff.APPROVE,
                                         level=level, reason=reason, evidence=evidence, evidence_digest=digest)
        audit.record("competency.approved", signoff, actor=actor, subject_user_id=learner.pk, course_key=course_key)
        events.competency_approved(signoff)
        if set(evaluation.rules_for(policy).required_levels) <= set(approvals) | {level}:
            _issue_certification(policy, learner, course_key, digest, actor)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        evaluation.store_status(status, decision, certification)
        announce_change(learner.pk, course_key, decision.state, "approved")
    return signoff


def _latest_approval(learner, course_key):
    return SignOff.objects.filter(learner=learner, course_key=course_key, action=SignOff.APPROVE).order_by(
        "-created_at", "-id"
    ).first()


def _issue_certification(policy, learner, course_key, digest, actor):
    now = timezone.now()
    certification = Certification.objects.create(
        course_key=course_key, learner=learner, policy=policy, issued_at=now,
        expires_at=competency.expiry_for(now, evaluation.rules_for(policy)), evidence_digest=digest,
    )
    audit.record("certification.issued", certification, actor=actor, subject_user_id=learner.pk,
                 course_key=course_key)
    events.certification_issued(certification)
    from .. import tasks  # pylint: disable=import-outside-toplevel

    # robust: a broker outage must not fail the approval that already committed; the periodic
    # ``request_pending_certificates`` task picks up any certification left unrequested.
    countdown = getattr(settings, "MIIWRAP_FIDELITY_CERTIFICATE_COUNTDOWN", 0) or 0
    transaction.on_commit(lambda: tasks.request_certificate.apply_async(args=[certification.pk], countdown=countdown),
                          robust=True)
    return certification


def revoke(actor, learner, course_key, reason):
    """Revoke a learner's competency (approvals and active certification), with a required reason."""
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require_coach(actor, learner, course_key)
    reason = clean_text(reason, "reason", MAX_REASON_CHARS, required=True)
    policy = require_policy(course_key)
    with transaction.atomic():
        status = evaluation.lock_status(learner.pk, course_key)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        if not decision.certified and not decision.approved_levels:
            raise ValidationError({"learner": [_("There is no approval or active certification to revoke.")]})
        signoff = SignOff.objects.create(
            course_key=course_key, learner=learner, actor=actor, action=SignOff.REVOKE,
            level=SignOff.LEAD if is_course_staff(actor, course_key) else SignOff.COACH,
            reason=reason, evidence=_evidence(policy, decision),
            evidence_digest=SignOff.digest(_evidence(policy, decision)),
        )
        if decision.certified:
            certification.revoked_at, certification.revoked_by = signoff.created_at, signoff
            certification.save(update_fields=["revoked_at", "revoked_by"])
            audit.record("certification.revoked", certification, actor=actor, subject_user_id=learner.pk,
                         course_key=course_key)
        audit.record("competency.revoked", signoff, actor=actor, subject_user_id=learner.pk, course_key=course_key)
        events.competency_revoked(signoff)
        decision, certification = evaluation.evaluate(policy, learner.pk, course_key)
        evaluation.store_status(status, decision, certification)
        announce_change(learner.pk, course_key, decision.state, "revoked")
    return signoff


def signoffs_for(viewer, learner, course_key):
    course_key = parse_course_key(course_key)
    learner = get_user(learner, "learner")
    require(can_view_learner(viewer, learner, course_key), _("You cannot see this learner's records."))
    return list(SignOff.objects.filter(learner=learner, course_key=course_key).order_by("created_at", "id"))
