"""
The leader view: course-level aggregates only, with every cell of fewer than five learners
suppressed so that no individual is singled out. A fixed number of queries.
"""
from collections import defaultdict

from django.db.models import Avg, Count, ExpressionWrapper, F, FloatField
from django.db.models.functions import TruncMonth

from . import drift, roster
from .competency import State
from .models import Indicator, IndicatorRating, LearnerStatus, Observation

MIN_CELL = 5
DOSAGE_BUCKETS = ((1, 1, "1"), (2, 3, "2–3"), (4, 5, "4–5"), (6, None, "6+"))


def cell(learners, value=None):
    """A figure with the number of learners behind it, or suppressed when they are fewer than five."""
    if learners < MIN_CELL:
        return {"suppressed": True, "learners": None, "value": None}
    return {"suppressed": False, "learners": learners, "value": value}


def _submitted(course_key, version_id):
    return Observation.objects.filter(course_key=course_key, status=Observation.SUBMITTED,
                                      co_observation_of__isnull=True, instrument_version_id=version_id)


def leader_view(course_key, policy):
    version = policy.instrument_version
    return {
        "pipeline": _pipeline(course_key),
        "distribution": _distribution(course_key, version.bands),
        "indicators": _indicator_rates(course_key, version.pk),
        "months": _monthly_trend(course_key, version.pk),
        "dosage": _dosage(course_key, version.pk),
        "bands": version.bands,
    }


def _pipeline(course_key):
    """Learners per state as the lists show them (a certification past its expiry counts as expired)."""
    counts = dict(LearnerStatus.objects.filter(course_key=course_key).values_list("state").annotate(n=Count("pk")))
    for state in (str(State.CERTIFIED), str(State.EXPIRED)):  # these two depend on today's date
        counts[state] = roster.Roster(course_key, state=state).count()
    return [{"state": state, "label": label, **cell(counts.get(state, 0), counts.get(state, 0))}
            for state, label in LearnerStatus.STATE_CHOICES]


def _distribution(course_key, bands):
    """Learners by the band of their latest observation score."""
    counts = defaultdict(int)
    for percent in LearnerStatus.objects.filter(course_key=course_key, last_percent__isnull=False).values_list(
            "last_percent", flat=True):
        counts[drift.band(percent, bands)] += 1
    return [{"band": name, **cell(counts[name], counts[name])} for name in drift.BAND_ORDER]


def _indicator_rates(course_key, version_id):
    """Met rate per indicator and per domain over submitted observations (N/A excluded)."""
    indicators = {i.pk: i for i in Indicator.objects.filter(version_id=version_id).order_by("position")}
    ratings = IndicatorRating.objects.filter(observation__in=_submitted(course_key, version_id))
    per_level = ratings.values_list("indicator_id", "level").annotate(n=Count("pk"))
    learners = dict(ratings.values_list("indicator_id").annotate(n=Count("observation__learner", distinct=True)))
    domain_learners = dict(ratings.values_list("indicator__domain").annotate(
        n=Count("observation__learner", distinct=True)))
    met, applicable = defaultdict(int), defaultdict(int)
    for indicator_id, level_key, n in per_level:
        indicator = indicators.get(indicator_id)
        level = indicator.level(level_key) if indicator else None
        if level is None or level.get("met") is None:
            continue
        applicable[indicator_id] += n
        met[indicator_id] += n if level["met"] else 0
    rows, domains = [], defaultdict(lambda: [0, 0])
    for indicator_id, indicator in indicators.items():
        rate = round(100.0 * met[indicator_id] / applicable[indicator_id], 1) if applicable[indicator_id] else None
        rows.append({"indicator": indicator, **cell(learners.get(indicator_id, 0), rate)})
        domains[indicator.domain][0] += met[indicator_id]
        domains[indicator.domain][1] += applicable[indicator_id]
    domain_rows = [{"domain": domain, **cell(domain_learners.get(domain, 0),
                                             round(100.0 * m / a, 1) if a else None)}
                   for domain, (m, a) in domains.items()]
    return {"indicators": rows, "domains": domain_rows}


def _monthly_trend(course_key, version_id):
    score = ExpressionWrapper(F("met_count") * 100.0 / F("applicable_count"), output_field=FloatField())
    rows = _submitted(course_key, version_id).filter(applicable_count__gt=0).annotate(
        month=TruncMonth("practice_date")).values("month").annotate(
        mean=Avg(score), learners=Count("learner", distinct=True), observations=Count("pk")).order_by("month")
    return [{"month": row["month"], "observations": row["observations"],
             **cell(row["learners"], round(row["mean"], 1))} for row in rows]


def _dosage(course_key, version_id):
    """Coaching dosage (observations per learner) against the learners' mean fidelity."""
    score = ExpressionWrapper(F("met_count") * 100.0 / F("applicable_count"), output_field=FloatField())
    per_learner = _submitted(course_key, version_id).filter(applicable_count__gt=0).values("learner").annotate(
        n=Count("pk"), mean=Avg(score))
    buckets = defaultdict(list)
    for row in per_learner:
        for low, high, label in DOSAGE_BUCKETS:
            if row["n"] >= low and (high is None or row["n"] <= high):
                buckets[label].append(row["mean"])
    return [{"observations": label, **cell(len(buckets[label]),
                                           round(sum(buckets[label]) / len(buckets[label]), 1)
                                           if buckets[label] else None)}
            for _low, _high, label in DOSAGE_BUCKETS]
