"""
Loading a learner's records into ``competency`` values and keeping ``LearnerStatus`` current.

Internal to ``api``: callers outside the app go through ``api``.
"""
import dataclasses

from django.db import transaction
from django.utils import timezone

from . import competency, monitoring
from .models import Certification, Indicator, LearnerStatus, Observation, SignOff


def rules_for(policy):
    return competency.Rules(
        instrument_version_id=policy.instrument_version_id,
        min_observations=policy.min_observations,
        min_percent=policy.min_percent,
        window_days=policy.window_days,
        critical_required=policy.critical_required,
        min_distinct_observers=policy.min_distinct_observers,
        require_lead_signoff=policy.require_lead_signoff,
        validity_months=policy.validity_months,
    )


def certification_record(certification):
    if certification is None:
        return None
    return competency.CertificationRecord(
        certification.pk, certification.issued_at, certification.expires_at, certification.revoked_at
    )


def load_observations(learner_id, course_key):
    rows = Observation.objects.filter(
        learner_id=learner_id, course_key=course_key, status=Observation.SUBMITTED, co_observation_of__isnull=True,
    ).values_list("id", "observer_id", "instrument_version_id", "practice_date", "met_count",
                  "applicable_count", "critical_missed")
    return [
        competency.ObservationRecord(pk, observer, version, day, met or 0, applicable or 0, tuple(missed or ()))
        for pk, observer, version, day, met, applicable, missed in rows
    ]


def load_signoffs(learner_id, course_key):
    rows = SignOff.objects.filter(learner_id=learner_id, course_key=course_key).values_list(
        "id", "action", "level", "actor_id", "created_at"
    )
    return [competency.SignOffRecord(*row) for row in rows]


def latest_certification(learner_id, course_key):
    return Certification.objects.filter(learner_id=learner_id, course_key=course_key).order_by(
        "-issued_at", "-id"
    ).first()


def evaluate(policy, learner_id, course_key, now=None):
    """The full decision from the records (a few queries, independent of history length)."""
    now = now or timezone.now()
    certification = latest_certification(learner_id, course_key)
    calibrated = (monitoring.calibrated_observers(course_key, policy.calibration_threshold)
                  if policy.require_calibration else None)
    decision = competency.decide(
        rules_for(policy),
        load_observations(learner_id, course_key),
        load_signoffs(learner_id, course_key),
        certification_record(certification),
        now,
        calibrated,
    )
    return _with_indicator_labels(decision, policy.instrument_version_id), certification


def _with_indicator_labels(decision, version_id):
    """Add the indicators' labels to reasons that name indicator keys (people read labels)."""
    keys = {key for reason in decision.reasons for key in reason.params.get("indicators", ())}
    if not keys:
        return decision
    labels = dict(Indicator.objects.filter(version_id=version_id, key__in=keys).values_list("key", "label"))
    reasons = tuple(
        competency.Reason(r.code, {**r.params, "labels": [labels.get(k, k) for k in r.params["indicators"]]})
        if "indicators" in r.params else r
        for r in decision.reasons
    )
    return dataclasses.replace(decision, reasons=reasons)


def lock_status(learner_id, course_key):
    """The learner's status row, created if missing and locked for this transaction."""
    LearnerStatus.objects.get_or_create(
        learner_id=learner_id, course_key=course_key, defaults={"evaluated_at": timezone.now()}
    )
    return LearnerStatus.objects.select_for_update().get(learner_id=learner_id, course_key=course_key)


def store_status(status, decision, certification, now=None):
    """Write ``decision`` into ``status`` (a locked row)."""
    latest = decision.last_observation
    status.state = decision.state
    status.qualifying_count = len(decision.qualifying)
    status.required_count = decision.required_count
    status.last_practice_date = latest.practice_date if latest else None
    status.last_percent = latest.percent if latest else None
    status.reasons = [reason.as_dict() for reason in decision.reasons]
    status.certification = certification if decision.certified else None
    status.evaluated_at = now or timezone.now()
    status.stale_after = decision.stale_after
    status.save()
    return status


def refresh(policy, learner_id, course_key, now=None):
    """
    Re-evaluate one learner, store the result and bring their drift alerts up to date.

    Returns ``(decision, certification, new_alerts)``.
    """
    status = lock_status(learner_id, course_key)
    decision, certification = evaluate(policy, learner_id, course_key, now)
    store_status(status, decision, certification, now)
    new_alerts = monitoring.refresh_alerts(policy, learner_id, course_key, decision.certified)
    return decision, certification, new_alerts


def course_learner_ids(course_key):
    """Every learner with a status row or an observation in the course."""
    ids = set(LearnerStatus.objects.filter(course_key=course_key).values_list("learner_id", flat=True))
    ids |= set(Observation.objects.filter(course_key=course_key).values_list("learner_id", flat=True))
    return sorted(ids)


def reevaluate_course(policy, course_key, progress=None):
    """Re-evaluate every learner of the course (one short transaction each); returns the count."""
    learner_ids = course_learner_ids(course_key)
    for done, learner_id in enumerate(learner_ids, start=1):
        with transaction.atomic():
            refresh(policy, learner_id, course_key)
        if progress is not None:
            progress(done, len(learner_ids))
    return len(learner_ids)
