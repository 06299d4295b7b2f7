"""
The time rules of ``competency`` as query conditions (as ``roster`` turns its list filters into SQL):
competency decides, this module only translates; the property tests hold each condition to its
Python rule.
"""
from django.db.models import Q

from ..rules import competency


def active_certification(now, prefix=""):
    """``competency.is_active``: not revoked, and no expiry or an expiry after ``now``."""
    return Q(**{f"{prefix}revoked_at__isnull": True}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now}))


def lapsed_certification(now, prefix=""):
    """Not ``competency.is_active``: revoked, or expired at ``now``."""
    return Q(**{f"{prefix}revoked_at__isnull": False}) | Q(**{f"{prefix}expires_at__lte": now})


def awaited_self_assessment(now, prefix=""):
    """``competency.self_assessment_state`` is AWAITING: requested, and not yet lapsed at ``now``."""
    return Q(**{f"{prefix}status": "requested",
                f"{prefix}requested_at__gt": competency.self_assessment_awaited_since(now)})
