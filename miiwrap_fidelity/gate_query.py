"""
The one SQL statement behind the certificate gate: the course's enabled policy, the learner's status
row and its certification, joined. The gate runs inside the platform's certificate task for every
learner, so it reads plain values with a single round trip instead of building model instances.
"""
import functools

from django.db import connection

from .models import Certification, CompetencyPolicy, LearnerStatus
from .raw_values import aware_datetime, json_value, quote


@functools.lru_cache(maxsize=4)
def _sql(vendor):  # pylint: disable=unused-argument  (the cache key: quoting differs per database)
    policy, status, certification = (quote(model._meta.db_table) for model in (CompetencyPolicy, LearnerStatus,
                                                                                Certification))
    return (
        f"SELECT s.id, s.reasons, c.id, c.expires_at, c.revoked_at FROM {policy} p "
        f"LEFT JOIN {status} s ON s.course_key = p.course_key AND s.learner_id = %s "
        f"LEFT JOIN {certification} c ON c.id = s.certification_id "
        f"WHERE p.course_key = %s AND p.enabled = %s"
    )


def fetch(learner_id, course_key):
    """
    ``None`` when the course has no enabled policy, else the learner's status: ``None`` (no status
    row yet) or ``(reasons, certification_id, expires_at, revoked_at)``, reasons as stored
    (``competency.Reason`` dicts).
    """
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor), [learner_id, str(course_key), True])
        row = cursor.fetchone()
    if row is None:
        return None
    status_id, reasons, certification_id, expires_at, revoked_at = row
    if status_id is None:
        return (None,)
    return (json_value(reasons, []), certification_id, aware_datetime(expires_at), aware_datetime(revoked_at)),
