"""
The one SQL statement behind the certificate gate: the course's enabled policy, the learner's status
row and its certification, joined. The gate runs inside the platform's certificate task for every
learner, so it reads plain values with a single round trip instead of building model instances.
"""
import functools
from dataclasses import dataclass

from django.db import connection

from ..rules import competency
from .database_values import aware_datetime, json_value, quote
from .models import Certification, CompetencyPolicy, LearnerStatus


@dataclass(frozen=True)
class GateRow:
    """What the gate reads of a course with an enabled policy, for one learner."""

    has_status: bool  # False: the learner was never evaluated in this course
    reasons: tuple = ()  # ``competency.Reason`` values as stored
    certification: competency.CertificationRecord | None = None


@functools.lru_cache(maxsize=4)
def _sql(vendor):  # pylint: disable=unused-argument  (the cache key: quoting differs per database)
    policy, status, certification = (quote(model._meta.db_table) for model in (CompetencyPolicy, LearnerStatus,
                                                                                Certification))
    return (
        f"SELECT s.id, s.reasons, c.id, c.issued_at, c.expires_at, c.revoked_at FROM {policy} p "
        f"LEFT JOIN {status} s ON s.course_key = p.course_key AND s.learner_id = %s "
        f"LEFT JOIN {certification} c ON c.id = s.certification_id "
        f"WHERE p.course_key = %s AND p.enabled = %s"
    )


def fetch(learner_id, course_key):
    """``None`` when the course has no enabled policy, else the learner's ``GateRow``."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor), [learner_id, str(course_key), True])
        row = cursor.fetchone()
    if row is None:
        return None
    status_id, reasons, certification_id, issued_at, expires_at, revoked_at = row
    if status_id is None:
        return GateRow(has_status=False)
    certification = None
    if certification_id is not None:
        certification = competency.CertificationRecord(certification_id, aware_datetime(issued_at),
                                                       aware_datetime(expires_at), aware_datetime(revoked_at))
    return GateRow(True, tuple(competency.Reason.from_dict(item) for item in json_value(reasons, [])), certification)
