"""Observation rubrics (instrument versions) as the policy editor and the REST API list them."""
from django.utils.translation import gettext as _

from .. import data
from ..errors import NotFound
from ..models import Indicator, InstrumentVersion


def _version_data(version, indicators=()):
    return data.InstrumentVersionData(version.pk, version.instrument.slug, version.number, version.title,
                                      version.created_at, tuple(indicators))


def instrument_versions(newest_first=False):
    """Every instrument version (``data.InstrumentVersionData``), by instrument and number."""
    return [_version_data(version) for version in InstrumentVersion.objects.select_related("instrument").order_by(
        "instrument__slug", "-number" if newest_first else "number")]


def instrument_version(version_id):
    """One instrument version with its indicators in rubric order; ``NotFound`` when there is none."""
    version = (InstrumentVersion.objects.select_related("instrument").filter(pk=version_id).first()
               if str(version_id).isdecimal() and str(version_id).isascii() else None)
    if version is None:
        raise NotFound(_("No such instrument version."))
    indicators = Indicator.objects.filter(version=version).order_by("position", "id")
    return _version_data(version, [data.IndicatorData(i.key, i.domain, i.label, i.description, i.critical, i.levels)
                                   for i in indicators])
