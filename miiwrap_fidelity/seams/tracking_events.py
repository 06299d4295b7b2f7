"""
Tracking events, sent through the platform's eventtracking after the change commits.

Payloads hold ids, codes and numbers only (never free-text feedback), so event-routing-backends
can forward them as xAPI. Names and payloads are documented in docs/events.md.
"""
import logging

from django.db import transaction

from .platform import get_platform

log = logging.getLogger(__name__)
PREFIX = "edx.miiwrap_fidelity."


def send(name, payload):
    """Send ``PREFIX + name`` now; tracking never undoes or breaks the change that caused it."""
    try:
        get_platform().emit_event(PREFIX + name, payload)
    except Exception:  # pylint: disable=broad-except
        log.exception("Could not emit %s", PREFIX + name)


def emit(name, payload):
    """Send ``PREFIX + name`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(name, payload))


def observation_submitted(observation):
    emit("observation.submitted", {
        "user_id": observation.learner_id, "observer_id": observation.observer_id,
        "course_id": str(observation.course_key), "observation_id": observation.pk,
        "instrument_version_id": observation.instrument_version_id, "percent": observation.percent,
        "met_count": observation.met_count, "applicable_count": observation.applicable_count,
        "critical_missed_count": len(observation.critical_missed or []),
        "co_rating": observation.co_observation_of_id is not None, "reference": observation.is_reference,
    })


def competency_approved(signoff):
    emit("competency.approved", {"user_id": signoff.learner_id, "actor_id": signoff.actor_id,
                                 "course_id": str(signoff.course_key), "signoff_id": signoff.pk,
                                 "level": signoff.level})


def competency_revoked(signoff):
    emit("competency.revoked", {"user_id": signoff.learner_id, "actor_id": signoff.actor_id,
                                "course_id": str(signoff.course_key), "signoff_id": signoff.pk})


def certification_issued(certification):
    emit("certification.issued", {
        "user_id": certification.learner_id, "course_id": str(certification.course_key),
        "certification_id": certification.pk,
        "expires_at": certification.expires_at.isoformat() if certification.expires_at else None,
    })


def send_certification_expired(certification):
    """``certification.expired``, sent now (the outbox delivers it once, after the change committed)."""
    send("certification.expired", {"user_id": certification.learner_id, "course_id": str(certification.course_key),
                                   "certification_id": certification.pk,
                                   "expired_at": certification.expires_at.isoformat()})


def drift_alert(alert):
    emit("drift_alert.created", {"user_id": alert.learner_id, "course_id": str(alert.course_key),
                                 "alert_id": alert.pk, "kind": alert.kind, "indicator_key": alert.indicator_key})
