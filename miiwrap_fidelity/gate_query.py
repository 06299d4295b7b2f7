"""
The one SQL statement behind the certificate gate: the course's enabled policy, the learner's status
row and its certification, joined. The gate runs inside the platform's certificate task for every
learner, so it reads plain values with a single round trip instead of building model instances.
"""
import functools
import json
from datetime import timezone as dt_timezone

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Certification, CompetencyPolicy, LearnerStatus

RULE_COLUMNS = ("instrument_version_id", "min_observations", "min_percent", "window_days", "critical_required",
                "min_distinct_observers", "require_lead_signoff", "validity_months")


@functools.lru_cache(maxsize=4)
def _sql(vendor):  # pylint: disable=unused-argument  (the cache key: quoting differs per database)
    policy, status, certification = (model._meta.db_table for model in (CompetencyPolicy, LearnerStatus,
                                                                          Certification))
    quote = connection.ops.quote_name
    rules = ", ".join(f"p.{quote(column)}" for column in RULE_COLUMNS)
    return (
        f"SELECT {rules}, s.{quote('id')}, s.{quote('reasons')}, c.{quote('id')}, c.{quote('expires_at')}, "
        f"c.{quote('revoked_at')} FROM {quote(policy)} p "
        f"LEFT JOIN {quote(status)} s ON s.{quote('course_key')} = p.{quote('course_key')} "
        f"AND s.{quote('learner_id')} = %s "
        f"LEFT JOIN {quote(certification)} c ON c.{quote('id')} = s.{quote('certification_id')} "
        f"WHERE p.{quote('course_key')} = %s AND p.{quote('enabled')} = %s"
    )


def _datetime(value):
    """Raw rows carry datetimes as the backend stores them: naive UTC (or text); make them aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return value


def fetch(learner_id, course_key):
    """
    ``None`` when the course has no enabled policy, else ``(rules, status)`` where ``rules`` is a
    dict of the policy's rule fields and ``status`` is None (no status row) or
    ``(reasons, certification_id, expires_at, revoked_at)``.
    """
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor), [learner_id, str(course_key), True])
        row = cursor.fetchone()
    if row is None:
        return None
    rules = dict(zip(RULE_COLUMNS, row[:len(RULE_COLUMNS)]))
    rules["critical_required"] = bool(rules["critical_required"])
    rules["require_lead_signoff"] = bool(rules["require_lead_signoff"])
    status_id, reasons, certification_id, expires_at, revoked_at = row[len(RULE_COLUMNS):]
    if status_id is None:
        return rules, None
    if isinstance(reasons, (str, bytes)):
        reasons = json.loads(reasons)
    return rules, (reasons or [], certification_id, _datetime(expires_at), _datetime(revoked_at))
