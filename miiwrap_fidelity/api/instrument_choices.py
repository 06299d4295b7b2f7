"""Which instrument a coach records with when the course's policy names several (ADR 0013)."""
from typing import Any

from ..records.models import InstrumentVersion
from ..rules import data, practice_settings
from .rubrics import _version_data
from .to_data import remember_version_rules


def instrument_choices(policy: Any) -> list[data.InstrumentChoiceData]:
    """
    The instrument versions a coach chooses from on the learner page.

    Args:
        policy: the course's policy (``data.PolicyData``, as ``get_policy`` returns it), or None.

    Returns:
        The choices, the policy's first instrument first, each with the settings its requirement
        sets expect as a hint; empty (and no query) when the policy observes with one instrument.
    """
    if policy is None:
        return []
    settings: dict[int, list] = {policy.instrument_version_id: []}
    for raw in policy.requirement_sets or ():
        settings.setdefault(raw["instrument_version"], []).append(raw.get("setting") or "")
    if len(settings) < 2:
        return []
    labels = practice_settings.LABELS
    versions = {version.pk: version for version in
                InstrumentVersion.objects.select_related("instrument").filter(pk__in=settings)}
    for version in versions.values():  # the form's settings (and summaries) come with the choices
        remember_version_rules(version)
    return [data.InstrumentChoiceData(
        version_id, _version_data(versions[version_id]).title,
        () if "" in wanted else tuple(dict.fromkeys(labels.get(s, s) for s in wanted)))
        for version_id, wanted in settings.items() if version_id in versions]
