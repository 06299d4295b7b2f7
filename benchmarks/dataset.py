"""
The benchmarks' course, shaped like a real one (seeded through bulk inserts, the same on SQLite and
MariaDB, the same for the same size: a fixed random seed):

- observations per learner are skewed: a fifth of the learners have none yet, most have a few, a
  long tail has dozens, and one learner in a thousand has 500 (a long-running recertification);
- every observation rates the sample instrument's 21 indicators (about one not applicable), from a
  learner's own skill, so scores and misses vary, and drift alerts come out of the first run;
- about 100 learners per coach; a learner's own coach observes most sessions, the others some;
- one primary observation in twenty is co-rated by a second coach (one in five of those a staff
  reference rating), with its own ratings;
- 15 % of the learners certified (a coach approval and a certification), 1 % revoked (approval,
  revocation and a revoked certification);
- with ``multi_set`` (``MIIWRAP_BENCH_RULES=multi-set``): policy rules v2 (ADR 0013), two
  requirement sets (home visits with a percent, essentials and summary-score condition; team
  meetings with two summary-score conditions), and every observation carries summary scores; about
  a third of the sessions are team meetings.
"""
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from miiwrap_fidelity.records.models import (
    Certification,
    CoachAssignment,
    CompetencyPolicy,
    Indicator,
    IndicatorRating,
    Observation,
    SignOff,
)

#: Learners seeded per transaction (and per rating insert).
CHUNK = 500
HISTORY_DAYS = 400
LEVEL_KEYS = ("met", "partly", "absent", "na")
#: Shares of the learners observed at least 3 times who are certified / revoked (15 % / 1 % of all).
CERTIFIED, REVOKED = 0.24, 0.016


def observations_for(rng, index):
    """How many observations the ``index``-th learner has (the skewed distribution above)."""
    if index % 1000 == 0:
        return 500
    if index % 5 == 4:
        return 0
    return min(500, int(2.5 * rng.paretovariate(1.4)))


def multi_set_rules(version, min_observations=2):
    """The two requirement sets of the ``multi_set`` course (``min_observations`` home visits)."""
    return [
        {"instrument_version": version.pk, "setting": "home_visit", "min_observations": min_observations,
         "window_days": 270, "min_distinct_observers": 1,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"},
                        {"measure": "summary", "op": ">=", "value": 3.0, "key": "technical_global"}]},
        {"instrument_version": version.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 270, "min_distinct_observers": 1,
         "conditions": [{"measure": "summary", "op": ">=", "value": 3.5, "key": "relational_global"},
                        {"measure": "summary", "op": "<=", "value": 60, "key": "closed_question_share"}]},
    ]


def seed_course(course_key, version, learners, coaches, staff, today, multi_set=False):
    """Seed the course; returns counts of what was written (for the benchmark's header)."""
    rng = random.Random(17)
    indicators = list(Indicator.objects.filter(version=version).order_by("position"))
    policy = CompetencyPolicy.objects.create(course_key=course_key, instrument_version=version, min_observations=3,
                                             requirement_sets=multi_set_rules(version) if multi_set else [])
    CoachAssignment.objects.bulk_create(
        CoachAssignment(course_key=course_key, coach=coaches[i % len(coaches)], learner=learner)
        for i, learner in enumerate(learners))
    counts = {"observations": 0, "co_ratings": 0, "ratings": 0, "certified": 0, "revoked": 0}
    for start in range(0, len(learners), CHUNK):
        with transaction.atomic():
            _seed_chunk(rng, course_key, version, policy, indicators, learners[start:start + CHUNK], start,
                        coaches, staff, today, counts)
    return policy, counts


def _seed_chunk(rng, course_key, version, policy, indicators, chunk, offset, coaches, staff, today, counts):
    now = timezone.now()
    primaries, skills, observed = [], {}, {}
    for position, learner in enumerate(chunk):
        index = offset + position
        own_coach, skills[learner.pk] = coaches[index % len(coaches)], rng.uniform(0.7, 0.99)
        count = observed[learner.pk] = observations_for(rng, index)
        days = sorted((rng.randrange(HISTORY_DAYS) for _ in range(count)), reverse=True)
        for day in days:
            observer = own_coach if rng.random() < 0.8 else coaches[rng.randrange(len(coaches))]
            primaries.append(Observation(
                course_key=course_key, learner=learner, observer=observer, instrument_version=version,
                practice_date=today - timedelta(days=day), setting="home_visit", status="submitted",
                submitted_at=now))
            if policy.requirement_sets:  # multi-set rules: settings vary, every session has summary scores
                primaries[-1].setting = "family_team_meeting" if rng.random() < 0.3 else "home_visit"
                primaries[-1].summary_scores = {
                    "technical_global": round(rng.uniform(2, 5), 2), "relational_global": round(rng.uniform(2, 5), 2),
                    "closed_question_share": round(rng.uniform(20, 80), 1)}
    levels = [_levels(rng, indicators, skills[obs.learner_id]) for obs in primaries]  # in step with the lists
    for obs, row in zip(primaries, levels):
        _score(obs, row, indicators)
    Observation.objects.bulk_create(primaries, batch_size=CHUNK)
    co_ratings, co_levels = [], []
    for obs, row in zip(primaries, levels):
        if rng.random() < 0.05:
            reference = rng.random() < 0.2
            rater = staff if reference else next(c for c in rng.sample(coaches, min(2, len(coaches)))
                                                 if c.pk != obs.observer_id or len(coaches) == 1)
            co_rating = Observation(course_key=course_key, learner_id=obs.learner_id, observer=rater,
                                    instrument_version=version, practice_date=obs.practice_date, setting=obs.setting,
                                    status="submitted", submitted_at=now, co_observation_of=obs,
                                    is_reference=reference)
            # Raters mostly agree: each level kept, one in ten re-drawn.
            co_levels.append([level if rng.random() < 0.9 else rng.choice(LEVEL_KEYS[:3]) for level in row])
            _score(co_rating, co_levels[-1], indicators)
            co_ratings.append(co_rating)
    Observation.objects.bulk_create(co_ratings, batch_size=CHUNK)
    _insert_ratings([(obs.pk, indicator.pk, level) for obs, row in zip(primaries + co_ratings, levels + co_levels)
                     for indicator, level in zip(indicators, row)])
    _certify(rng, course_key, policy, [learner for learner in chunk if observed[learner.pk] >= 3], offset, coaches,
             staff, now, counts)
    counts["observations"] += len(primaries)
    counts["co_ratings"] += len(co_ratings)
    counts["ratings"] += sum(len(row) for row in levels + co_levels)


def _levels(rng, indicators, skill):
    """One level key per indicator: met with the learner's skill, otherwise partly or absent; ~1 n/a."""
    na = rng.randrange(len(indicators) * 2)  # about half the observations have one n/a indicator
    return ["na" if position == na else "met" if rng.random() < skill else rng.choice(("partly", "absent"))
            for position in range(len(indicators))]


def _score(observation, levels, indicators):
    """The stored figures of an observation, as the api computes them on submit."""
    applicable = [(indicator, level) for indicator, level in zip(indicators, levels) if level != "na"]
    observation.applicable_count = len(applicable)
    observation.met_count = sum(1 for _indicator, level in applicable if level == "met")
    observation.critical_missed = [i.key for i, level in applicable if i.critical and level != "met"]


def _insert_ratings(rows):
    """Ratings through one prepared INSERT (the ORM's per-object cost would dominate the seeding)."""
    table = connection.ops.quote_name(IndicatorRating._meta.db_table)
    sql = f"INSERT INTO {table} (observation_id, indicator_id, level, strength, next_step) VALUES (%s, %s, %s, '', '')"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10000):
            cursor.executemany(sql, rows[start:start + 10000])


def _certify(rng, course_key, policy, observed, offset, coaches, staff, now, counts):
    """
    Of the learners observed at least 3 times (about 62 % of all), about a quarter certified by a
    coach (15 % of all) and a few revoked by staff afterwards (1 % of all).
    """
    signoffs, certifications = [], []
    for position, learner in enumerate(observed):
        draw = rng.random()
        if draw >= CERTIFIED + REVOKED:
            continue
        coach, issued = coaches[(offset + position) % len(coaches)], now - timedelta(days=rng.randrange(30, 300))
        digest = SignOff.digest({"learner": learner.pk})
        signoffs.append(SignOff(course_key=course_key, learner=learner, actor=coach, action="approve", level="coach",
                                evidence={}, evidence_digest=digest))
        revoked = draw >= CERTIFIED
        certifications.append(Certification(
            course_key=course_key, learner=learner, policy=policy, issued_at=issued,
            expires_at=issued + timedelta(days=730), evidence_digest=digest,
            revoked_at=issued + timedelta(days=20) if revoked else None))
        if revoked:
            signoffs.append(SignOff(course_key=course_key, learner=learner, actor=staff, action="revoke", level="coach",
                                    reason="Benchmark revocation.", evidence={}, evidence_digest=digest))
        counts["revoked" if revoked else "certified"] += 1
    SignOff.objects.bulk_create(signoffs)
    Certification.objects.bulk_create(certifications)


def users(prefix, count):
    model = get_user_model()
    return model.objects.bulk_create([model(username=f"{prefix}{i:06d}") for i in range(count)], batch_size=5000)
