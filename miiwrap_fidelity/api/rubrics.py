"""Observation rubrics (instrument versions) as the policy editor and the REST API list them."""
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..records.models import Indicator, InstrumentVersion
from ..rules import coaching_loop, data
from ..rules import rating_scales as rating_values
from ..rules.errors import NotFound
from . import to_data as values
from .memo import per_request


def _version_data(version: InstrumentVersion, indicators: Iterable = (),
                  summaries: Iterable = ()) -> data.InstrumentVersionData:
    title = rating_values.translated(version.title, version.translations or {}, get_language(), "name")
    return data.InstrumentVersionData(version.pk, version.instrument.slug, version.number, title,
                                      version.created_at, tuple(indicators), tuple(summaries))


def instrument_versions(newest_first: bool = False) -> list[data.InstrumentVersionData]:
    """
    Every instrument version, by instrument and number.

    Args:
        newest_first: each instrument's versions newest first.

    Returns:
        The versions, without their indicators.
    """
    return [_version_data(version) for version in InstrumentVersion.objects.select_related("instrument").order_by(
        "instrument__slug", "-number" if newest_first else "number")]


def instrument_version(version_id: int | str) -> data.InstrumentVersionData:
    """
    One instrument version with its indicators in rubric order and its summary scores.

    Args:
        version_id: its id (an int or its digits).

    Returns:
        The version.

    Raises:
        NotFound: there is no such version.
    """
    version = (InstrumentVersion.objects.select_related("instrument").filter(pk=version_id).first()
               if str(version_id).isdecimal() and str(version_id).isascii() else None)
    if version is None:
        raise NotFound(_("No such instrument version."))
    indicators = Indicator.objects.filter(version=version).order_by("position", "id")
    return _version_data(version, [values.indicator_data(i) for i in indicators],
                         values.summary_definitions(version.summaries or []))


def version_indicators(version_id: int | None) -> list[Indicator]:
    """
    A rubric version's indicators, read once per request (a version in use never changes).

    Args:
        version_id: the instrument version (None, a version that was refused: none).

    Returns:
        Its ``Indicator`` rows in rubric order (internal to the api).
    """
    return per_request(("indicators", version_id),
                       lambda: list(Indicator.objects.filter(version_id=version_id).order_by("position", "id")))


def with_rubric_indicators(observations: Sequence[Any]) -> Sequence[Any]:
    """
    Give each loaded rating of ``observations`` (ratings prefetched without their indicators) its
    indicator from the rubric read once per request (``version_indicators``): a page that lists
    observations twice (history and growth) reads the rubric once, not once per list.

    Args:
        observations: ``Observation`` rows with their ratings prefetched.

    Returns:
        ``observations``, their ratings' indicators set.
    """
    for observation in observations:
        by_id = {indicator.pk: indicator for indicator in version_indicators(observation.instrument_version_id)}
        for rating in observation.ratings.all():
            if rating.indicator_id in by_id:
                rating.indicator = by_id[rating.indicator_id]
    return observations


def loop_ratings(ratings: Iterable[tuple[Indicator, str]]) -> dict[int, coaching_loop.Rated]:
    """
    Ratings as the coaching loop's rules read them (ADR 0027), by indicator id.

    Args:
        ratings: ``(indicator row, the level key or point or tally given)`` pairs.

    Returns:
        ``{indicator id: coaching_loop.Rated}``.
    """
    return {indicator.pk: rating for indicator, level in ratings
            if (rating := coaching_loop.rated(indicator, level)) is not None}
