"""
The leader view's figures: course-level aggregates only, with every cell of one to four learners
suppressed so that no individual is singled out (an empty cell is shown as 0: it singles no one
out). A fixed number of queries, each over the whole course: ``leader_figures`` keeps the result
and the page reads it. Plain values only (ids, states, numbers, dates): the api words them when
they are read, in the reader's language.
"""
import statistics
from collections import defaultdict

from django.db.models import Avg, Count, ExpressionWrapper, F, FloatField
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ..rules import drift
from ..rules.competency import CertificationState, State, certification_state, percent
from ..seams.platform import get_platform
from . import loop_figures, roster
from .models import Certification, CoachAssignment, Indicator, IndicatorRating, LearnerStatus, Observation

MIN_CELL = 5
DOSAGE_BUCKETS = ((1, 1, "1"), (2, 3, "2–3"), (4, 5, "4–5"), (6, None, "6+"))


def is_small_cell(learners):
    """The one small-cell rule: 1 to 4 learners could single someone out; 0 and 5 or more cannot."""
    return 0 < learners < MIN_CELL


def cell(learners, value=None):
    """A figure with the number of learners behind it, or suppressed when they are 1 to 4."""
    if is_small_cell(learners):
        return {"suppressed": True, "learners": None, "value": None}
    return {"suppressed": False, "learners": learners, "value": value}


def share_cell(part, whole):
    """A percentage of learners; suppressed when the part or the whole are 1 to 4 learners."""
    if is_small_cell(part) or is_small_cell(whole):
        return {"suppressed": True, "learners": None, "value": None}
    return {"suppressed": False, "learners": whole, "value": percent(part, whole)}


def _submitted(course_key, version_id):
    return Observation.objects.filter(course_key=course_key, status=Observation.SUBMITTED,
                                      co_observation_of__isnull=True, instrument_version_id=version_id)


def leader_view(course_key, policy):
    version = policy.instrument_version
    loop = loop_figures.coaching_loop_figures(course_key)  # issue 31: is coaching a loop, closed?
    return {
        "pipeline": _pipeline(course_key),
        "distribution": _distribution(course_key, version.bands),
        "indicators": _indicator_rates(course_key, version.pk),
        "months": _monthly_trend(course_key, version.pk),
        "dosage": _dosage(course_key, version.pk),
        "bands": version.bands,
        **_certification_figures(course_key, timezone.now()),
        "cadence": _coaching_cadence(course_key, timezone.localdate(), dict(loop.median_days_by_coach)),
        "loop": {"plans": loop.plans, "followed_up_share": loop.followed_up_share,
                 "improved_share": loop.improved_share},
    }


def _pipeline(course_key):
    """Learners per state as the lists show them (a certification past its expiry counts as expired)."""
    counts = dict(LearnerStatus.objects.filter(course_key=course_key).values_list("state").annotate(n=Count("pk")))
    for state in (str(State.CERTIFIED), str(State.EXPIRED)):  # these two depend on today's date
        counts[state] = roster.Roster(course_key, state=state).count()
    return [{"state": state, **cell(counts.get(state, 0), counts.get(state, 0))}
            for state, _label in LearnerStatus.STATE_CHOICES]


def _distribution(course_key, bands):
    """Learners by the band of their latest observation score."""
    counts = defaultdict(int)
    for last_percent in LearnerStatus.objects.filter(course_key=course_key, last_percent__isnull=False).values_list(
            "last_percent", flat=True):
        counts[drift.band(last_percent, bands)] += 1
    return [{"band": name, **cell(counts[name], counts[name])} for name in drift.BAND_ORDER]


def _indicator_rates(course_key, version_id):
    """Met rate per indicator and per domain over submitted observations (N/A excluded)."""
    indicators = {i.pk: i for i in Indicator.objects.filter(version_id=version_id).order_by("position", "pk")}
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
        rate = percent(met[indicator_id], applicable[indicator_id])
        rows.append({"indicator_id": indicator_id, **cell(learners.get(indicator_id, 0), rate)})
        domains[indicator.domain][0] += met[indicator_id]
        domains[indicator.domain][1] += applicable[indicator_id]
    domain_rows = [{"domain": domain, **cell(domain_learners.get(domain, 0),
                                             percent(m, a))}
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


def _certification_figures(course_key, now):
    """
    Days from enrollment to the first certification (median and interquartile spread), and the
    share of certified learners whose latest certification lapsed (expired) or was revoked.
    """
    first_issued, latest = {}, {}
    for learner_id, issued_at, expires_at, revoked_at in Certification.objects.filter(
            course_key=course_key).order_by("issued_at", "pk").values_list(
            "learner_id", "issued_at", "expires_at", "revoked_at"):
        first_issued.setdefault(learner_id, issued_at)
        latest[learner_id] = certification_state(expires_at, revoked_at, now)
    enrolled_at = get_platform().enrollment_dates(course_key, list(first_issued)) if first_issued else {}
    days = sorted(max(0, (issued - enrolled_at[learner]).days)
                  for learner, issued in first_issued.items() if learner in enrolled_at)
    spread = None
    if len(days) >= 2:
        quartiles = statistics.quantiles(days, n=4, method="inclusive")
        spread = (round(quartiles[0]), round(quartiles[2]))
    time_cell = cell(len(days), {"median": round(statistics.median(days)) if days else None, "spread": spread})
    certified = len(latest)
    lapsed = sum(1 for state in latest.values() if state == CertificationState.EXPIRED)
    revoked = sum(1 for state in latest.values() if state == CertificationState.REVOKED)
    return {"time_to_certification": time_cell,
            "lapsed": {"count": lapsed, **share_cell(lapsed, certified)},
            "revoked": {"count": revoked, **share_cell(revoked, certified)}}


def _coaching_cadence(course_key, today, plan_days=None):
    """
    Per coach: days since each of their learners was last observed (median), and how many have
    never been observed. A coach with 1 to 4 learners is suppressed: the figure would describe them;
    so is each figure that rests on 1 to 4 of a coach's learners (a median of four, one never observed).
    ``plan_days``: the median days from a coach's plans to their follow-ups (issue 31), for coaches
    with 5 or more followed-up plans (None for the others).
    """
    plan_days = plan_days or {}
    last_observed = dict(LearnerStatus.objects.filter(course_key=course_key, enrolled=True).values_list(
        "learner_id", "last_practice_date"))
    learners = {}  # coach id -> last observation dates, coaches by username (the page's order)
    for coach_id, learner_id in CoachAssignment.objects.filter(course_key=course_key).order_by(
            "coach__username", "coach_id").values_list("coach_id", "learner_id"):
        dates = learners.setdefault(coach_id, [])
        if learner_id in last_observed:
            dates.append(last_observed[learner_id])
    rows = []
    for coach_id, dates in learners.items():
        if not dates:
            continue
        days = [(today - day).days for day in dates if day is not None]
        never = len(dates) - len(days)
        rows.append({"coach_id": coach_id, **cell(len(dates), {
            "median_days": cell(len(days), round(statistics.median(days)) if days else None),
            "never_observed": cell(never, never), "plan_follow_up_days": plan_days.get(coach_id)})})
    return rows
