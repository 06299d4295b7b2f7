"""
xAPI transformers for our tracking events, registered with event-routing-backends.

event-routing-backends forwards only events that have a transformer in its registry, so every
``edx.miiwrap_fidelity.*`` event (events.py, signals.py) has one here. Imported by
``AppConfig.ready`` only where event-routing-backends is installed.

Verbs and activity types come from the ADL and cmi5 vocabularies where one fits; the few that
have none are ours, under ``VOCABULARY`` (docs/events.md lists every statement, ADR 0008 why).
Statements carry ids, codes and numbers only, like the events: no free text ever.
"""
from django.conf import settings
from event_routing_backends.helpers import get_anonymous_user_id
from event_routing_backends.processors.xapi import constants
from event_routing_backends.processors.xapi.registry import XApiTransformersRegistry
from event_routing_backends.processors.xapi.transformer import XApiTransformer
from tincan import (
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    Context,
    ContextActivities,
    Extensions,
    LanguageMap,
    Result,
    Verb,
)

from .tracking_events import PREFIX

#: Our own vocabulary, for the verbs and extensions ADL and cmi5 have no term for.
VOCABULARY = "https://w3id.org/xapi/miiwrap-fidelity"

ADL_SCORED = "http://adlnet.gov/expapi/verbs/scored"
ADL_PASSED = "http://adlnet.gov/expapi/verbs/passed"
ADL_PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
CMI5_SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
OUR_REVOKED = f"{VOCABULARY}/verbs/revoked"
OUR_EXPIRED = f"{VOCABULARY}/verbs/expired"
OUR_DRIFTED = f"{VOCABULARY}/verbs/drifted"
ADL_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
OUR_LAPSED = f"{VOCABULARY}/verbs/lapsed"
OUR_PLANNED = f"{VOCABULARY}/verbs/planned"
OUR_FOLLOWED_UP = f"{VOCABULARY}/verbs/followed-up"

ACTIVITY_PERFORMANCE = "http://adlnet.gov/expapi/activities/performance"  # the observed practice
ACTIVITY_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"  # a sign-off level
ACTIVITY_OBJECTIVE = "http://adlnet.gov/expapi/activities/objective"  # the competency, an indicator


def extension(name):
    return f"{VOCABULARY}/extensions/{name}"


def verb(iri, display):
    return Verb(id=iri, display=LanguageMap({constants.EN: display}))


#: ``name`` (without PREFIX) -> the transformer class; filled by ``register``.
TRANSFORMERS = {}


def register(name):
    def decorate(transformer):
        TRANSFORMERS[name] = transformer
        return XApiTransformersRegistry.register(PREFIX + name)(transformer)
    return decorate


class MiiwrapTransformer(XApiTransformer):
    """The actor is the learner (``data.user_id``, anonymised by the base class); the course is the parent."""

    def course_id(self):
        return self.get_data("data.course_id", True)

    def iri(self, kind, *parts):
        return self.get_object_iri(f"miiwrap-fidelity/{kind}", "/".join(str(part) for part in parts))

    def competency(self):
        """The course's competency (what a certification certifies)."""
        return Activity(id=self.iri("competency", self.course_id()),
                        definition=ActivityDefinition(type=ACTIVITY_OBJECTIVE))

    def get_context_activities(self):
        # Our events are often sent from Celery tasks, outside a course's tracker context: the
        # course comes from the payload, and only its IRI (no course lookup, no title).
        course = Activity(id=self.get_object_iri("course", self.course_id()),
                          definition=ActivityDefinition(type=constants.XAPI_ACTIVITY_COURSE))
        return ContextActivities(parent=ActivityList([course]))

    def instructor(self, key):
        """The coach or lead who acted (observer, approver, revoker), as an anonymised agent."""
        user_id = self.get_data(f"data.{key}")
        if user_id is None:
            return None
        return Agent(account={"homePage": settings.LMS_ROOT_URL, "name": get_anonymous_user_id(user_id, "XAPI")})

    def context_with(self, instructor_key=None, **extra):
        extensions = self.get_context_extensions()
        for name, value in extra.items():
            if value is not None:
                extensions[extension(name.replace("_", "-"))] = value
        return Context(extensions=extensions, contextActivities=self.get_context_activities(),
                       instructor=self.instructor(instructor_key) if instructor_key else None)


@register("observation.submitted")
class ObservationSubmitted(MiiwrapTransformer):
    """A coach observed the learner's practice and rated it: ADL *scored*, the percent of applicable indicators met."""

    _verb = verb(ADL_SCORED, "scored")
    additional_fields = ("result",)

    def get_object(self):
        return Activity(id=self.iri("observation", self.get_data("data.observation_id", True)),
                        definition=ActivityDefinition(type=ACTIVITY_PERFORMANCE))

    def get_result(self):
        met, applicable = self.get_data("data.met_count") or 0, self.get_data("data.applicable_count") or 0
        percent = self.get_data("data.percent") or 0
        return Result(score={"min": 0, "max": applicable, "raw": met, "scaled": round(percent / 100, 4)},
                      extensions=Extensions({extension("critical-missed-count"):
                                             self.get_data("data.critical_missed_count") or 0}))

    def get_context(self):
        return self.context_with("observer_id",
                                 instrument_version_id=self.get_data("data.instrument_version_id"),
                                 co_rating=bool(self.get_data("data.co_rating")),
                                 reference=bool(self.get_data("data.reference")))


@register("competency.approved")
class CompetencyApproved(MiiwrapTransformer):
    """A coach (or lead, the second level) signed off: ADL *passed* that sign-off level's assessment."""

    _verb = verb(ADL_PASSED, "passed")
    additional_fields = ("result",)

    def get_object(self):
        return Activity(id=self.iri("signoff", self.course_id(), self.get_data("data.level", True)),
                        definition=ActivityDefinition(type=ACTIVITY_ASSESSMENT))

    def get_result(self):
        return Result(success=True)

    def get_context(self):
        return self.context_with("actor_id", signoff_id=self.get_data("data.signoff_id"))


@register("competency.revoked")
class CompetencyRevoked(MiiwrapTransformer):
    """Competency revoked (approvals and any active certification): our *revoked*."""

    _verb = verb(OUR_REVOKED, "revoked")

    def get_object(self):
        return self.competency()

    def get_context(self):
        return self.context_with("actor_id", signoff_id=self.get_data("data.signoff_id"))


@register("certification.issued")
class CertificationIssued(MiiwrapTransformer):
    """Every required sign-off is in: cmi5 *satisfied* the course's competency."""

    _verb = verb(CMI5_SATISFIED, "satisfied")
    additional_fields = ("result",)

    def get_object(self):
        return self.competency()

    def get_result(self):
        expires_at = self.get_data("data.expires_at")
        return Result(success=True, completion=True,
                      extensions=Extensions({extension("expires-at"): expires_at} if expires_at else {}))

    def get_context(self):
        return self.context_with(certification_id=self.get_data("data.certification_id"))


@register("certification.expired")
class CertificationExpired(MiiwrapTransformer):
    """The certification reached its expiry: our *expired*."""

    _verb = verb(OUR_EXPIRED, "expired")

    def get_object(self):
        return self.competency()

    def get_context(self):
        return self.context_with(certification_id=self.get_data("data.certification_id"))


@register("drift_alert.created")
class DriftAlertCreated(MiiwrapTransformer):
    """Observations show drift on an indicator (or below the band): our *drifted*, the indicator as objective."""

    _verb = verb(OUR_DRIFTED, "drifted")

    def get_object(self):
        indicator = self.get_data("data.indicator_key")
        if not indicator:  # "below_band" concerns the whole rubric, not one indicator
            return self.competency()
        return Activity(id=self.iri("indicator", self.course_id(), indicator),
                        definition=ActivityDefinition(type=ACTIVITY_OBJECTIVE))

    def get_context(self):
        return self.context_with(alert_id=self.get_data("data.alert_id"), kind=self.get_data("data.kind"))


@register("competency.changed")
class CompetencyChanged(MiiwrapTransformer):
    """Any change of the learner's competency state: ADL *progressed*, the new state and its cause as codes."""

    _verb = verb(ADL_PROGRESSED, "progressed")
    additional_fields = ("result",)

    def get_object(self):
        return self.competency()

    def get_result(self):
        return Result(completion=self.get_data("data.state") == "certified",
                      extensions=Extensions({extension("state"): self.get_data("data.state", True),
                                             extension("cause"): self.get_data("data.cause", True)}))


class ProgramTransformer(MiiwrapTransformer):
    """
    The learner's program (the courses whose policies name it, ADR 0025) as the objective; the
    parent is the course whose change decided it.
    """

    def get_object(self):
        return Activity(id=self.iri("program", self.get_data("data.program", True)),
                        definition=ActivityDefinition(type=ACTIVITY_OBJECTIVE))

    def get_context(self):
        return self.context_with(program=self.get_data("data.program"),
                                 course_ids=list(self.get_data("data.course_ids") or []))


@register("program.completed")
class ProgramCompleted(ProgramTransformer):
    """Every course of the learner's program is certified: ADL *completed* the program."""

    _verb = verb(ADL_COMPLETED, "completed")
    additional_fields = ("result",)

    def get_result(self):
        return Result(success=True, completion=True)


@register("program.completion_lapsed")
class ProgramCompletionLapsed(ProgramTransformer):
    """A course of a completed program is no longer certified (expiry, revocation): our *lapsed*."""

    _verb = verb(OUR_LAPSED, "lapsed")


@register("coaching_plan.saved")
class CoachingPlanSaved(MiiwrapTransformer):
    """
    The learner and their coach agreed focus indicators after an observed session (issue 31): our
    *planned*, the plan as objective, the coach as instructor; the focus by indicator keys (never
    the practice steps).
    """

    _verb = verb(OUR_PLANNED, "planned")

    def get_object(self):
        return Activity(id=self.iri("plan", self.get_data("data.plan_id", True)),
                        definition=ActivityDefinition(type=ACTIVITY_OBJECTIVE))

    def get_context(self):
        return self.context_with("coach_id", observation_id=self.get_data("data.observation_id"),
                                 indicator_keys=list(self.get_data("data.indicator_keys") or []))


@register("coaching_plan.followed_up")
class CoachingPlanFollowedUp(MiiwrapTransformer):
    """
    The coach confirmed (or corrected) how the next observation followed a focus indicator up: our
    *followed-up*, the indicator as objective, the outcome (and the one computed from the ratings)
    as codes.
    """

    _verb = verb(OUR_FOLLOWED_UP, "followed up")
    additional_fields = ("result",)

    def get_object(self):
        return Activity(id=self.iri("indicator", self.course_id(), self.get_data("data.indicator_key", True)),
                        definition=ActivityDefinition(type=ACTIVITY_OBJECTIVE))

    def get_result(self):
        computed = self.get_data("data.computed_outcome")
        return Result(extensions=Extensions({extension("outcome"): self.get_data("data.outcome", True),
                                             **({extension("computed-outcome"): computed} if computed else {})}))

    def get_context(self):
        return self.context_with("coach_id", plan_id=self.get_data("data.plan_id"),
                                 observation_id=self.get_data("data.observation_id"))
