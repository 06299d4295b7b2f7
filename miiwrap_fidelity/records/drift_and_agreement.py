"""
Loading records for drift and rater agreement, and keeping stored drift alerts in step.

Internal to ``api`` and ``evaluation``.
"""
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import get_language

from ..rules import competency, drift, reliability
from ..rules import rating_scales as rating_values
from .database_values import padded_ids
from .models import DriftAlert, Indicator, IndicatorRating, Observation


def drift_rules(policy):
    return drift.DriftRules(
        window_observations=policy.drift_window_observations, window_days=policy.drift_window_days,
        min_observations=policy.drift_min_observations, bands=policy.instrument_version.bands,
    )


def _outcome(indicator, level_key):
    level = indicator.level(level_key) if level_key else None
    if level is None:
        return None
    return drift.NOT_APPLICABLE if level.get("met") is None else drift.MET if level["met"] else drift.NOT_MET


def rated_observations(learner_ids, course_key, version_id, outcomes_of_latest=None, loaded=None):
    """
    Per learner, their submitted primary observations on the version, oldest first, with each
    indicator's outcome; and the version's indicators. Three queries for any number of learners.
    ``outcomes_of_latest``: read the ratings of only each learner's latest that many observations
    (the others get no outcomes), so that a course's drift does not re-read every rating.
    ``loaded``: the learners' submitted primary observations as ``evaluation`` loaded them
    (learner id -> ``competency.ObservationRecord``s), so that they are not read twice.
    """
    indicators = {i.pk: i for i in Indicator.objects.filter(version_id=version_id)}
    if loaded is None:
        observations = list(Observation.objects.filter(
            learner_id__in=padded_ids(learner_ids), course_key=course_key, status=Observation.SUBMITTED,
            co_observation_of__isnull=True, instrument_version_id=version_id,
        ).order_by("practice_date", "id").values_list("id", "learner_id", "practice_date", "met_count",
                                                      "applicable_count"))
    else:
        observations = sorted(((o.id, learner_id, o.practice_date, o.met_count, o.applicable_count)
                               for learner_id in learner_ids for o in loaded.get(learner_id, ())
                               if o.instrument_version_id == version_id), key=lambda row: (row[2], row[0]))
    rated = _latest_per_learner(observations, outcomes_of_latest)
    outcomes, outcome_of = defaultdict(dict), {}  # (indicator id, level) -> (indicator key, outcome), looked up once
    for observation_id, indicator_id, level in IndicatorRating.objects.filter(
            observation_id__in=padded_ids(rated)).values_list("observation_id", "indicator_id", "level"):
        if (indicator_id, level) not in outcome_of:
            indicator = indicators.get(indicator_id)
            outcome_of[indicator_id, level] = (indicator.key if indicator else None,
                                               _outcome(indicator, level) if indicator else None)
        key, outcome = outcome_of[indicator_id, level]
        if outcome is not None:
            outcomes[observation_id][key] = outcome
    per_learner = defaultdict(list)
    for pk, learner_id, day, met, applicable in observations:
        per_learner[learner_id].append(drift.RatedObservation(pk, day, competency.percent(met, applicable),
                                                              dict(outcomes[pk])))
    return per_learner, indicators


def _latest_per_learner(observations, count):
    """The ids of each learner's latest ``count`` observations (all of them when ``count`` is None)."""
    if count is None:
        return [row[0] for row in observations]
    per_learner = defaultdict(list)
    for row in observations:  # oldest first
        per_learner[row[1]].append(row[0])
    return [pk for ids in per_learner.values() for pk in ids[-count:]]


def refresh_alerts(policy, learner_ids, course_key, certified, loaded=None):
    """
    Open the alerts the records call for and resolve those they no longer do, for each learner
    (``certified``: learner id -> bool; ``loaded``: see ``rated_observations``). Returns the new alerts.
    """
    observations, indicators = rated_observations(learner_ids, course_key, policy.instrument_version_id,
                                                  outcomes_of_latest=drift.OUTCOMES_USED, loaded=loaded)
    critical = {i.key for i in indicators.values() if i.critical}
    rules, today = drift_rules(policy), timezone.now().date()
    open_alerts = defaultdict(dict)
    for pk, learner_id, kind, indicator_key in DriftAlert.objects.filter(
            course_key=course_key, learner_id__in=padded_ids(learner_ids), resolved_at__isnull=True,
    ).values_list("id", "learner_id", "kind", "indicator_key"):
        open_alerts[learner_id][(kind, indicator_key)] = pk
    stale, created = [], []
    for learner_id in learner_ids:
        wanted = {(c.kind, c.indicator_key): c for c in drift.detect(
            observations[learner_id], rules, today, certified.get(learner_id, False), critical)}
        stale += [pk for key, pk in open_alerts[learner_id].items() if key not in wanted]
        created += [DriftAlert(course_key=course_key, learner_id=learner_id, kind=c.kind,
                               indicator_key=c.indicator_key, details=c.details)
                    for key, c in wanted.items() if key not in open_alerts[learner_id]]
    if stale:
        DriftAlert.objects.filter(pk__in=padded_ids(stale)).update(resolved_at=timezone.now())
    return DriftAlert.objects.bulk_create(created)


# --- rater agreement -------------------------------------------------------------------------------

def co_rated_sessions(course_key):
    """
    Submitted co-ratings with their primary: ``[(primary, co_rating, items)]`` where ``items`` are the
    comparable indicator ratings (see ``reliability.session_items``).
    """
    return _sessions(*_co_ratings(course_key))


def _sessions(co_ratings, levels, indicators):
    return [(o.co_observation_of, o, reliability.session_items(levels[o.co_observation_of_id], levels[o.pk],
                                                               indicators[o.instrument_version_id]))
            for o in co_ratings]


def _indicator_agreements(co_ratings, levels, indicators):
    """Per indicator (in rubric order, by version): agreement by its kind's statistic."""
    pairs = defaultdict(list)
    for o in co_ratings:
        for indicator in indicators[o.instrument_version_id]:
            pairs[indicator.pk].append((levels[o.co_observation_of_id].get(indicator.key),
                                        levels[o.pk].get(indicator.key)))
    shown = [indicator for version_id in sorted(indicators) for indicator in
             sorted(indicators[version_id], key=lambda i: (i.position, i.pk))]
    language = get_language()
    return [reliability.indicator_agreement(indicator, pairs[indicator.pk], rating_values.translated(
        indicator.label, indicator.translations or {}, language, "label")) for indicator in shown]


def _co_ratings(course_key):
    """The course's submitted co-ratings, ``{observation_id: {key: level}}`` and indicators by version."""
    co_ratings = list(Observation.objects.filter(
        course_key=course_key, status=Observation.SUBMITTED, co_observation_of__status=Observation.SUBMITTED,
    ).select_related("co_observation_of", "observer", "co_observation_of__observer"))
    observation_ids = [o.pk for o in co_ratings] + [o.co_observation_of_id for o in co_ratings]
    levels = defaultdict(dict)
    for observation_id, key, level in IndicatorRating.objects.filter(observation_id__in=observation_ids).values_list(
            "observation_id", "indicator__key", "level"):
        levels[observation_id][key] = level
    version_ids = {o.instrument_version_id for o in co_ratings}
    indicators = defaultdict(list)
    for indicator in Indicator.objects.filter(version_id__in=version_ids):
        indicators[indicator.version_id].append(indicator)
    return co_ratings, levels, indicators


def reliability_report(course_key):
    """
    Agreement per observer pair and per coach, leniency, agreement with reference ratings, and per
    indicator the statistic its kind calls for (weighted kappa, ICC(2,1), kappa on met / not met).
    """
    loaded = _co_ratings(course_key)
    sessions = _sessions(*loaded)
    pairs, per_coach, reference = defaultdict(list), defaultdict(list), defaultdict(list)
    own, others = defaultdict(list), defaultdict(list)
    names = {}
    for primary, co_rating, items in sessions:
        first, second = primary.observer, co_rating.observer
        names.update({first.pk: first.username, second.pk: second.username})
        if co_rating.is_reference:
            reference[first.pk].extend(items)
            continue
        pairs[tuple(sorted((first.pk, second.pk)))].extend(items)
        for coach, other_obs, coach_obs in ((first, co_rating, primary), (second, primary, co_rating)):
            per_coach[coach.pk].extend(items)
            if coach_obs.percent is not None and other_obs.percent is not None:
                own[coach.pk].append(coach_obs.percent)
                others[coach.pk].append(other_obs.percent)
    return {
        "pairs": sorted(({"coaches": [names[a], names[b]], "agreement": reliability.agreement(items),
                          "observers": [{"id": pk, "username": names[pk]} for pk in (a, b)]}
                         for (a, b), items in pairs.items()), key=lambda row: row["coaches"]),
        "coaches": sorted(({"coach": names[pk], "coach_id": pk, "agreement": reliability.agreement(items),
                            "leniency": reliability.leniency(own[pk], others[pk]),
                            "reference": reliability.agreement(reference.get(pk, []))}
                           for pk, items in per_coach.items()), key=lambda row: row["coach"]),
        "calibration": sorted(({"coach": names[pk], "coach_id": pk, "agreement": reliability.agreement(items)}
                               for pk, items in reference.items()), key=lambda row: row["coach"]),
        "indicators": _indicator_agreements(*loaded),
    }


def calibrated_observers(course_key, threshold):
    """
    Observers whose agreement with reference ratings reaches ``threshold`` percent, and the staff
    who give reference ratings (they are the standard).
    """
    calibrated = set()
    reference = defaultdict(list)
    for primary, co_rating, items in co_rated_sessions(course_key):
        if co_rating.is_reference:
            reference[primary.observer_id].extend(items)
            calibrated.add(co_rating.observer_id)
    for observer_id, items in reference.items():
        result = reliability.agreement(items)
        if result.percent is not None and result.percent >= threshold:
            calibrated.add(observer_id)
    return frozenset(calibrated)
