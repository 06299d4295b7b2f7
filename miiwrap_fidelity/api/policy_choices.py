"""What the policy editor offers (issue 25): instruments by name with their scores and essentials, and earlier stages by course name."""
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..records.models import CompetencyPolicy, Indicator, InstrumentVersion
from ..rules import data, policy_rules
from ..rules import rating_scales as rating_values
from . import to_data as values
from .inputs import CourseRef, User
from .names import course_display_name
from .roles import is_course_staff, require_course_staff

#: The most requirement sets a policy may have.
MAX_REQUIREMENT_SETS = policy_rules.MAX_SETS
#: The most courses the prerequisite choice lists by name (past it, the editor takes a typed id).
MAX_STAGE_CHOICES = 200


def policy_instruments(actor: User, course_key: CourseRef) -> list[data.PolicyInstrumentData]:
    """
    Every instrument version a requirement set may use, with what its conditions may name: its
    summary scores (labels in the reader's language) and its essential indicators. Two queries.

    Args:
        actor: who asks (course staff).
        course_key: the course being edited.

    Returns:
        The versions, by instrument and newest first.

    Raises:
        PermissionDenied: ``actor`` is not course staff.
    """
    require_course_staff(actor, course_key, _("Only course staff can change the competency policy."))
    versions = list(InstrumentVersion.objects.select_related("instrument").order_by("instrument__slug", "-number"))
    essentials: dict[int, list[str]] = {}
    for indicator in Indicator.objects.filter(critical=True).order_by("version_id", "position", "id"):
        essentials.setdefault(indicator.version_id, []).append(values.indicator_data(indicator).label)
    return [data.PolicyInstrumentData(
        id=version.pk, title="%s v%s" % (rating_values.translated(version.title or version.instrument.name,
                                                                   version.translations or {}, get_language(),
                                                                   "name"), version.number),
        summaries=tuple((summary["key"], summary.get("label") or summary["key"])
                        for summary in values.summary_definitions(version.summaries or [])),
        essentials=tuple(essentials.get(version.pk, ())), settings=tuple(version.settings or ()))
        for version in versions]


def stage_choices(actor: User, course_key: CourseRef) -> list[tuple[str, str]] | None:
    """
    The courses that may be this course's earlier stage (those with a policy where ``actor`` is
    course staff too), by name.

    Args:
        actor: who asks (course staff).
        course_key: the course being edited (left out).

    Returns:
        ``[(course id, display name)]`` by name; None when more than ``MAX_STAGE_CHOICES`` courses
        have a policy (the editor then takes a typed id, checked as ever).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can change the competency policy."))
    keys = list(CompetencyPolicy.objects.exclude(course_key=course_key).order_by("course_key").values_list(
        "course_key", flat=True)[:MAX_STAGE_CHOICES + 1])
    if len(keys) > MAX_STAGE_CHOICES:
        return None
    return sorted(((str(key), course_display_name(key)) for key in keys if is_course_staff(actor, key)),
                  key=lambda pair: (pair[1].lower(), pair[0]))


