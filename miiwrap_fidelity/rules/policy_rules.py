"""
Checking a policy's requirement sets as people and clients send them (the policy editor, REST,
``api.save_policy``): every error names its place, e.g. ``requirement_sets[1].conditions[0].value``,
so a 400 says exactly what to fix. The rules themselves are ``competency.RequirementSet``; this only
turns untrusted JSON into its canonical stored form (``RequirementSet.as_dict``).
"""
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import gettext as _

from . import competency, practice_settings
from .errors import ValidationError

FIELD = "requirement_sets"
#: Enough for real programmes (settings x instruments), bounded against floods.
MAX_SETS = 10
MAX_CONDITIONS = 10
#: Summary scores are means, sums, ratios and percents of ratings and counts: far inside this range.
MAX_SCORE = 1_000_000
SET_KEYS = {"instrument_version", "setting", "min_observations", "window_days", "window_months",
            "min_distinct_observers", "conditions"}
#: ``(min, max)`` of a set's numbers: observations needed, window in days, distinct observers.
SET_LIMITS = {"min_observations": (1, 50), "window_days": (1, 3650), "min_distinct_observers": (1, 10)}
#: A window of months: up to 5 years.
WINDOW_MONTHS = (1, 60)
SUMMARY_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _number(value: object, low: float, high: float, integer: bool) -> float | None:
    """``value`` as a number within ``[low, high]`` (``integer``: a whole number), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and (not math.isfinite(value) or (integer and not value.is_integer())):
        return None
    if not low <= value <= high:
        return None
    return int(value) if integer else value


def _range_error(low: int, high: int) -> str:
    return _("Give a whole number from %(min)s to %(max)s.") % {"min": low, "max": high}


def clean_requirement_sets(raw: object, versions: Mapping[int, Collection[str]],
                           version_settings: Mapping[int, Collection[str]] | None = None) -> list[dict[str, Any]]:
    """
    The canonical requirement sets, or ``ValidationError`` with every problem by place.

    Args:
        raw: the requirement sets as sent.
        versions: ``{instrument_version_id: summary keys}`` of the versions a set may name (the keys
            a ``summary`` condition may use).
        version_settings: ``{instrument_version_id: the settings it declares}`` (none or empty:
            every setting): a set may not ask for a setting its instrument is never used in.

    Returns:
        The sets in their stored form (``competency.RequirementSet.as_dict``).

    Raises:
        ValidationError: not a list of 1 to ``MAX_SETS`` sets (keyed ``requirement_sets``), or every
            problem of the sets, by place (``requirement_sets[1].conditions[0].value``).
    """
    if not isinstance(raw, list):
        raise ValidationError({FIELD: [_("Give a list of requirement sets.")]})
    if not 1 <= len(raw) <= MAX_SETS:
        raise ValidationError({FIELD: [_("Give from 1 to %(max)s requirement sets.") % {"max": MAX_SETS}]})
    errors: dict[str, list[str]] = {}
    cleaned: list[competency.RequirementSet] = []
    for index, item in enumerate(raw):
        requirement = _clean_set(item, f"{FIELD}[{index}]", versions, errors, version_settings or {})
        if requirement is not None:
            cleaned.append(requirement)
    if errors:
        raise ValidationError(errors)
    return [requirement.as_dict() for requirement in cleaned]


def _clean_set(item: object, place: str, versions: Mapping[int, Collection[str]], errors: dict[str, list[str]],
               version_settings: Mapping[int, Collection[str]]) -> competency.RequirementSet | None:
    if not isinstance(item, dict):
        errors[place] = [_("Give a requirement set as an object.")]
        return None
    found = len(errors)
    for unknown in sorted(set(map(str, item)) - SET_KEYS):
        errors[f"{place}.{unknown}"] = [_("Unknown requirement setting.")]
    version: Any = item.get("instrument_version")  # checked below: an id of ``versions``
    known = isinstance(version, int) and not isinstance(version, bool) and version in versions
    if not known:
        errors[f"{place}.instrument_version"] = [_("Choose an existing instrument version.")]
    setting = item.get("setting") or ""
    if not isinstance(setting, str) or (setting and setting not in practice_settings.LABELS):
        errors[f"{place}.setting"] = [_("Choose one of the practice settings, or none for any setting.")]
    elif setting and known:  # no observation could ever fill a set of a setting its instrument refuses
        refused = practice_settings.refusal(setting, list(version_settings.get(version) or ()))
        if refused:
            errors[f"{place}.setting"] = [refused]
    numbers: dict[str, Any] = {}  # checked below: None (not a whole number within the limits) adds an error
    months = item.get("window_months")
    if months is not None:  # a window of months; its days follow (a set read back and sent again keeps both)
        numbers["window_months"] = _number(months, *WINDOW_MONTHS, integer=True)
        if numbers["window_months"] is None:
            errors[f"{place}.window_months"] = [_range_error(*WINDOW_MONTHS)]
        else:
            numbers["window_days"] = competency.window_days_of_months(numbers["window_months"])
            given = item.get("window_days")
            if given is not None and given != numbers["window_days"]:  # read back and sent again: equal
                errors[f"{place}.window_days"] = [_(
                    "%(months)s months are counted as %(days)s days; give the window in days or in months, "
                    "not both.") % {"months": numbers["window_months"], "days": numbers["window_days"]}]
    for name in ("min_observations", "window_days", "min_distinct_observers"):
        if name in numbers or (name == "window_days" and months is not None):
            continue
        low, high = SET_LIMITS[name]
        value = item.get(name, 1 if name == "min_distinct_observers" else None)
        numbers[name] = _number(value, low, high, integer=True)
        if numbers[name] is None:
            errors[f"{place}.{name}"] = [_range_error(low, high)]
    if (numbers["min_observations"] is not None and numbers["min_distinct_observers"] is not None
            and numbers["min_distinct_observers"] > numbers["min_observations"]):
        errors[f"{place}.min_distinct_observers"] = [
            _("Cannot require more distinct observers than qualifying observations.")]
    conditions = _clean_conditions(item.get("conditions", []), f"{place}.conditions",
                                   versions[version] if known else None, errors)
    if len(errors) > found:
        return None
    return competency.RequirementSet(version, numbers["min_observations"], numbers["window_days"],
                                     numbers["min_distinct_observers"], setting, tuple(conditions),
                                     numbers.get("window_months") or 0)


def _clean_conditions(raw: object, place: str, summary_keys: Collection[str] | None,
                      errors: dict[str, list[str]]) -> list[competency.Condition]:
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        errors[place] = [_("Give a list of at most %(max)s conditions.") % {"max": MAX_CONDITIONS}]
        return []
    cleaned: list[competency.Condition] = []
    for index, item in enumerate(raw):
        condition = _clean_condition(item, f"{place}[{index}]", summary_keys, errors)
        if condition is not None:
            if condition in cleaned:
                errors[f"{place}[{index}]"] = [_("This condition is already in the set.")]
            cleaned.append(condition)
    return cleaned


def _clean_condition(item: object, place: str, summary_keys: Collection[str] | None,
                     errors: dict[str, list[str]]) -> competency.Condition | None:
    if not isinstance(item, dict):
        errors[place] = [_("Give a condition as an object.")]
        return None
    measure = item.get("measure")
    if measure not in competency.MEASURES:
        errors[f"{place}.measure"] = [_("Choose percent, essentials or summary.")]
        return None
    allowed = {"measure"} if measure == competency.ESSENTIALS else {"measure", "op", "value"} | (
        {"key"} if measure == competency.SUMMARY else set())
    found = len(errors)
    for unknown in sorted(set(map(str, item)) - allowed):
        errors[f"{place}.{unknown}"] = [_("Not used by this kind of condition.")]
    if measure == competency.ESSENTIALS:
        return None if len(errors) > found else competency.Condition(competency.ESSENTIALS)
    op: Any = item.get("op")  # checked below: one of competency.OPERATORS
    if op not in competency.OPERATORS:
        errors[f"{place}.op"] = [_("Choose >= (at least) or <= (at most).")]
    key: Any = ""  # checked below for summary conditions
    if measure == competency.PERCENT:
        value: Any = _number(item.get("value"), 0, 100, integer=False)  # checked below: None adds an error
        if value is None:
            errors[f"{place}.value"] = [_("Give a percent from 0 to 100.")]
    else:
        value = _number(item.get("value"), -MAX_SCORE, MAX_SCORE, integer=False)
        if value is None:
            errors[f"{place}.value"] = [_("Give a number from %(min)s to %(max)s.") % {
                "min": -MAX_SCORE, "max": MAX_SCORE}]
        key = item.get("key")
        if not isinstance(key, str) or not SUMMARY_KEY.match(key):
            errors[f"{place}.key"] = [_("Give the key of one of the instrument's summary scores.")]
        elif summary_keys is not None and key not in summary_keys:
            errors[f"{place}.key"] = [_("This instrument version has no summary score %(key)s.") % {"key": key}]
    if len(errors) > found:
        return None
    return competency.Condition(measure, op, value, key)
