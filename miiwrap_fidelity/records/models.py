"""
Fidelity records: instruments, policies, coach assignments, observations, sign-offs, certifications.

Observations and reflections describe a named staff member's professional practice (never a
client). Submitted observations and sign-offs are evidence: they are not edited in place.
"""
import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from opaque_keys.edx.django.models import CourseKeyField

from ..rules import competency, practice_settings, search_keys
from ..rules import rating_scales as rating_values
from ..rules.competency import State
from ..rules.errors import ValidationError
from ..seams.platform import get_platform

USER_MODEL = settings.AUTH_USER_MODEL


class EvidenceKept(IntegrityError):
    """A user with competency evidence cannot be deleted (retire them instead)."""


EVIDENCE_KEPT_MESSAGE = _(
    "This user has competency evidence (observations, sign-offs or certifications), which is kept for the "
    "certification record. Retire the user (the platform's account retirement) instead of deleting them.")


def keep_evidence(collector, field, sub_objs, using):  # pylint: disable=unused-argument
    """
    ``on_delete`` of evidence's links to users: deleting a user who has observations, sign-offs or
    certifications is refused (retirement scrubs personal data and keeps the evidence).

    Django's deletion collector would replace a ``ProtectedError``'s message with its own, so
    deletion raises ``EvidenceKept`` with ours; the admin's "what would be deleted" collector gets
    the ``ProtectedError`` it lists as protected objects.
    """
    from django.contrib.admin.utils import NestedObjects  # pylint: disable=import-outside-toplevel

    if isinstance(collector, NestedObjects):
        raise ProtectedError(str(EVIDENCE_KEPT_MESSAGE), sub_objs)
    raise EvidenceKept(str(EVIDENCE_KEPT_MESSAGE))


def default_bands():
    return {"high": 85, "adequate": 75, "borderline": 65}


class Instrument(models.Model):
    """
    A named fidelity observation rubric (its content lives in versions).

    .. no_pii:
    """

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class InstrumentVersion(models.Model):
    """
    One immutable revision of an instrument; a change of content makes a new version.

    .. no_pii:
    """

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content_digest = models.CharField(max_length=64, help_text="sha256 of the imported content")
    bands = models.JSONField(
        default=default_bands, blank=True,
        help_text="Lower bounds (percent) of the fidelity bands: high, adequate, borderline; below is low.")
    summaries = models.JSONField(
        default=list, blank=True,
        help_text="Summary scores computed from scale and count ratings (see rating_values).")
    translations = models.JSONField(
        default=dict, blank=True, help_text="Per language: the instrument's name and description.")
    settings = models.JSONField(
        default=list, blank=True,
        help_text="The practice settings observations with this version may record (empty: every setting).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="mwf_instrument_version_number"),
        ]
        ordering = ["instrument_id", "number"]

    def __str__(self):
        return f"{self.instrument.slug} v{self.number}"

    def is_in_use(self):
        return self.observations.exists()


class Indicator(models.Model):
    """
    One behaviour the observer rates, with its anchored scale.

    ``levels`` is a list of ``{"key", "label", "anchor", "met"}`` where ``met`` is true (counts as
    met), false (not met) or null (not applicable: excluded from the score). ``kind`` says how a
    rating reads (``rules/rating_scales.py``): anchored levels, a numeric scale (its points are the
    levels) or a count (no levels; ``spec["max"]`` bounds the tally).

    .. no_pii:
    """

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="indicators")
    key = models.SlugField(max_length=64)
    domain = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    description = models.TextField()
    critical = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    levels = models.JSONField()
    KIND_CHOICES = [(rating_values.LEVELS, _("Anchored levels")), (rating_values.SCALE, _("Numeric scale")),
                    (rating_values.COUNT, _("Behaviour count"))]
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default=rating_values.LEVELS)
    spec = models.JSONField(default=dict, blank=True, help_text="Scale range or count maximum.")
    translations = models.JSONField(
        default=dict, blank=True, help_text="Per language: domain, label, description and level texts.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="mwf_indicator_key")]
        ordering = ["version_id", "position", "id"]

    def __str__(self):
        return f"{self.key} ({self.version})"

    def level(self, key):
        """The level dict for ``key`` (a level key, a scale point or a tally), or None."""
        return rating_values.level_info(self.kind, self.levels, self.spec, key)

    def save(self, *args, **kwargs):
        if self.version_id and self.version.is_in_use():
            raise ValidationError(
                _("This instrument version is already used by observations; import a new version instead.")
            )
        super().save(*args, **kwargs)


class CompetencyPolicy(models.Model):
    """
    A course's opt-in competency gate. Courses without one behave as stock Open edX.

    .. no_pii:
    """

    ADD_TO_GRADE = "add_to_grade"
    REPLACE_GRADE = "replace_grade"
    MODE_CHOICES = [
        (ADD_TO_GRADE, _("Competency is required in addition to a passing grade")),
        (REPLACE_GRADE, _("Competency replaces the grade requirement")),
    ]

    course_key = CourseKeyField(max_length=255, unique=True)
    enabled = models.BooleanField(default=True)
    # The first requirement set's instrument version, copied by ``api.save_policy`` (never an input):
    # the course's main instrument, read by drift, the leader figures and the growth chart; PROTECT
    # keeps a version a policy reads from being deleted (ADR 0026).
    instrument_version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="policies")
    require_lead_signoff = models.BooleanField(default=False)
    validity_months = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(120)], help_text=_("0 means the certification never expires."),
    )
    mode = models.CharField(max_length=20, choices=MODE_CHOICES, default=ADD_TO_GRADE)
    drift_window_observations = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Drift: the rolling score uses at most this many latest observations..."))
    drift_window_days = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("...observed within this many days."))
    drift_min_observations = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Below this many observations in the window, drift is not judged (not enough data)."))
    require_calibration = models.BooleanField(
        default=False, help_text=_("Only observations by coaches calibrated against reference ratings count."))
    calibration_threshold = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Percent agreement with reference ratings that makes a coach calibrated."))
    self_assessment = models.BooleanField(
        default=False, help_text=_("Ask learners to rate each observed session themselves before they see the "
                                   "coach's ratings (a coaching conversation, never evidence)."))
    requirement_sets = models.JSONField(
        default=list, blank=True,
        help_text=_("Requirement sets: each needs its number of qualifying observations (of a setting, with an "
                    "instrument, within its window, by its observers); every set must be met."))
    deadline_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(3650)],
        help_text=_("Competent within this many days of starting (the hire date staff upload, else the enrollment "
                    "date); 0 means no deadline."))
    prerequisite_course = models.CharField(
        max_length=255, blank=True, default="",
        help_text=_("Stages: the course id whose certification must be active first; only practice observed "
                    "after it was issued counts here. Empty: none."))
    program = models.SlugField(
        max_length=64, blank=True, default="",
        help_text=_("Programs: courses whose policies name the same program share evidence (observations recorded "
                    "in any of them count). Empty: none."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "competency policies"

    def __str__(self):
        return f"Policy for {self.course_key}"


class CoachAssignment(models.Model):
    """
    Which coach observes and signs off which learner in a course.

    .. pii: links two user ids; no other personal data.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    course_key = CourseKeyField(max_length=255, db_index=True)
    coach = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_key", "coach", "learner"], name="mwf_coach_assignment"),
        ]
        # With the coach: the learner list's Coach column reads it alone (a covering index; without
        # the coach, SQLite and MariaDB read the unique index by course alone, every row of the course).
        indexes = [models.Index(fields=["course_key", "learner", "coach"], name="mwf_assign_learner")]

    def __str__(self):
        return f"coach {self.coach_id} -> learner {self.learner_id} in {self.course_key}"


class Observation(models.Model):
    """
    A coach's observation of a learner's real practice, rated on an instrument version.

    The score fields are written once, when the observation is submitted; from then on neither
    the observation nor its ratings change.

    .. pii: the overall note is free text about a staff member's practice (never about clients).
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    STATUS_CHOICES = [(DRAFT, _("Draft")), (SUBMITTED, _("Submitted"))]
    SETTING_CHOICES = practice_settings.CHOICES

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    observer = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    instrument_version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="observations")
    practice_date = models.DateField()
    setting = models.CharField(max_length=32, choices=SETTING_CHOICES)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=DRAFT)
    overall_note = models.TextField(blank=True)
    met_count = models.PositiveSmallIntegerField(null=True, blank=True)
    applicable_count = models.PositiveSmallIntegerField(null=True, blank=True)
    critical_missed = models.JSONField(default=list, blank=True)
    summary_scores = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped on every draft save (edit conflicts).")
    co_observation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="co_ratings",
        help_text="Set on an independent second rating of the same practice session (inter-rater reliability).")
    is_reference = models.BooleanField(default=False, help_text="A staff reference (gold standard) rating.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["learner", "course_key", "status", "practice_date"], name="mwf_obs_learner"),
            models.Index(fields=["course_key", "observer"], name="mwf_obs_observer"),
            # Export chunks: the course's submitted observations in id order, read from the index.
            models.Index(fields=["course_key", "status", "id"], name="mwf_obs_export"),
        ]
        constraints = [
            # One co-rating per rater per observed session. Ordinary observations have no session
            # link (NULL), and NULLs never collide in a unique index (MySQL, SQLite, PostgreSQL).
            models.UniqueConstraint(fields=["co_observation_of", "observer"], name="mwf_one_co_rating_per_rater"),
        ]
        ordering = ["-practice_date", "-id"]

    def __str__(self):
        return f"observation {self.pk} of learner {self.learner_id} ({self.status})"

    @property
    def percent(self):
        if not self.applicable_count:
            return None
        return round(100 * self.met_count / self.applicable_count, 1)


class IndicatorRating(models.Model):
    """
    One indicator's level in an observation, with behaviour-specific feedback.

    .. pii: strength / next-step feedback is free text about a staff member's practice.
    .. pii_types: other
    .. pii_retirement: local_api
    """

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="ratings")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=32)
    strength = models.TextField(blank=True)
    next_step = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["observation", "indicator"], name="mwf_rating_indicator"),
        ]

    def __str__(self):
        return f"{self.indicator_id}={self.level}"

    @property
    def level_label(self):
        """The level's label in the indicator's scale (the key when it is not one of them)."""
        level = self.indicator.level(self.level) if self.level else None
        return level.get("label", self.level) if level else self.level


class Reflection(models.Model):
    """
    A learner's answers to a reflective application exercise (one per learner and XBlock).

    .. pii: free-text answers and self-ratings a staff member writes about their own practice.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    STATUS_CHOICES = [(DRAFT, _("Draft")), (SUBMITTED, _("Submitted"))]

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    block_id = models.CharField(max_length=255, help_text="Usage id of the reflection XBlock.")
    title = models.CharField(max_length=255, blank=True)
    prompts = models.JSONField(default=list, help_text="The prompts as the learner saw them.")
    answers = models.JSONField(default=dict)
    self_ratings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "block_id"], name="mwf_reflection_block")]
        indexes = [models.Index(fields=["learner", "course_key"], name="mwf_reflection_learner")]

    def __str__(self):
        return f"reflection {self.pk} of learner {self.learner_id} ({self.status})"


class ReflectionComment(models.Model):
    """
    A coach's comment on a submitted reflection.

    .. pii: free text written by a coach about a staff member's reflection.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    reflection = models.ForeignKey(Reflection, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"comment {self.pk} on reflection {self.reflection_id}"


class DriftAlert(models.Model):
    """
    A sign that a learner's practice may be drifting from fidelity, for their coach to act on.

    .. pii: links a user id to an alert; the coaching plan note is free text by the coach.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    BELOW_BAND = "below_band"
    NOT_MET_TWICE = "not_met_twice"
    CRITICAL_NOT_MET = "critical_not_met"
    KIND_CHOICES = [
        (BELOW_BAND, _("Rolling fidelity score below the adequate band")),
        (NOT_MET_TWICE, _("Indicator not met in two consecutive observations")),
        (CRITICAL_NOT_MET, _("Essential indicator not met")),
    ]

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    indicator_key = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Set when the records no longer show it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    plan_note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["course_key", "resolved_at", "learner"], name="mwf_drift_open")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.indicator_key} for learner {self.learner_id}"


class AppendOnlyModel(models.Model):
    """A record that is written once and never updated or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("%(model)s records are append-only.") % {"model": type(self).__name__})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("%(model)s records are append-only.") % {"model": type(self).__name__})


class SignOff(AppendOnlyModel):
    """
    An approval or revocation of a learner's competency, with the evidence it saw.

    .. pii: the reason is free text written by a coach or lead about a staff member.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    APPROVE = competency.APPROVE
    REVOKE = competency.REVOKE
    ACTION_CHOICES = [(APPROVE, _("Approve")), (REVOKE, _("Revoke"))]
    COACH = competency.COACH
    LEAD = competency.LEAD
    LEVEL_CHOICES = [(COACH, _("Coach")), (LEAD, _("Certification lead"))]

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    actor = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    action = models.CharField(max_length=10, choices=ACTION_CHOICES)
    level = models.CharField(max_length=10, choices=LEVEL_CHOICES)
    reason = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, help_text="The qualifying observations this decision saw.")
    evidence_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["learner", "course_key", "created_at"], name="mwf_signoff_learner"),
                   models.Index(fields=["course_key", "id"], name="mwf_signoff_export")]  # export chunks
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.action} ({self.level}) of learner {self.learner_id} by {self.actor_id}"

    @staticmethod
    def digest(evidence):
        return hashlib.sha256(json.dumps(evidence, sort_keys=True).encode()).hexdigest()


class ObservationAmendment(AppendOnlyModel):
    """
    A correction of a submitted observation's free text (overall note, strengths, next steps), with
    its reason. The observation itself never changes: pages show the latest amendment's text and
    mark the observation "amended"; coaches and staff can still read the original. Levels and
    scores are evidence and are not amended (a wrong rating is revoked and observed again).

    .. pii: corrected free text about a staff member's practice, and the reason for the correction.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    observation = models.ForeignKey(Observation, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    reason = models.TextField()
    overall_note = models.TextField(blank=True)
    feedback = models.JSONField(default=dict, blank=True,
                                help_text="{indicator key: {strength, next_step}}: the corrected feedback.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"amendment {self.pk} of observation {self.observation_id}"


class Certification(models.Model):
    """
    Competence demonstrated and signed off: the grounds for the platform certificate.

    .. pii: links a user id to certification dates.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=keep_evidence, related_name="+")
    policy = models.ForeignKey(CompetencyPolicy, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(SignOff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence_digest = models.CharField(max_length=64)
    certificate_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker claimed the certificate request (a lease until confirmed).")
    certificate_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the platform answered the certificate request.")
    certificate_outcome = models.CharField(
        max_length=32, blank=True, help_text="The platform's answer: requested, prevented or revoked.")
    certificate_attempts = models.PositiveSmallIntegerField(default=0)
    certificate_invalidated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the platform certificate was invalidated after revocation or expiry.")

    class Meta:
        indexes = [models.Index(fields=["learner", "course_key"], name="mwf_cert_learner"),
                   models.Index(fields=["course_key", "id"], name="mwf_cert_export")]  # export chunks
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return f"certification {self.pk} of learner {self.learner_id} in {self.course_key}"


class LearnerStatus(models.Model):
    """
    The latest competency evaluation of one learner in one course (a projection of the records).

    Rewritten in the same transaction as every observation, sign-off or certification change, so
    the certificate gate and the coach's learner list read one row instead of the whole history.

    .. pii: links a user id to their competency state; ``learner_username`` copies the username,
       ``username_key`` and ``name_key`` the username and full name folded for the list's search.
    .. pii_types: id, username, name
    .. pii_retirement: local_api
    """

    STATE_CHOICES = [
        (State.NOT_STARTED.value, _("Not started")),
        (State.IN_PROGRESS.value, _("In progress")),
        (State.READY.value, _("Ready for sign-off")),
        (State.AWAITING_LEAD.value, _("Awaiting lead confirmation")),
        (State.CERTIFIED.value, _("Certified")),
        (State.EXPIRED.value, _("Expired")),
        (State.REVOKED.value, _("Revoked")),
    ]

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=State.NOT_STARTED.value)
    qualifying_count = models.PositiveSmallIntegerField(default=0)
    required_count = models.PositiveSmallIntegerField(default=0)
    last_practice_date = models.DateField(null=True, blank=True)
    last_percent = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    certification = models.ForeignKey(Certification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evaluated_at = models.DateTimeField()
    stale_after = models.DateTimeField(null=True, blank=True, help_text="When time alone may change the result.")
    enrolled = models.BooleanField(default=True, help_text="False once the learner left the course (records kept).")
    due_date = models.DateField(null=True, blank=True, help_text="With a deadline: competent by this day.")
    overdue = models.BooleanField(default=False, help_text="Past the due date and never certified in the course.")
    # The learner list's sort key, copied from the user so that an index on the course's rows serves
    # every sort order (ADR 0011); usernames change only at retirement, which blanks the copy.
    learner_username = models.CharField(max_length=150, default="", blank=True)
    # The current certification's expiry, copied so that one index counts and filters the staff
    # page's expiring certifications without reading certifications (issue 17); written with
    # ``certification`` by the evaluation, never alone.
    certified_until = models.DateTimeField(null=True, blank=True)
    # Whether anyone coaches the learner in the course, kept with the assignments
    # (``records/coach_flags.py``), so that "No coach yet" reads one range of an index instead of
    # probing every row's assignments (issue 30).
    has_coach = models.BooleanField(default=False)
    # The list's search keys (``rules/search_keys.fold``): the username and the full name without
    # case or accents, so that a prefix is one range of an index (issue 30: a substring search read
    # every row of the course). Names are copied at the row's creation and kept by the daily
    # ``refresh_search_names`` pass; retirement blanks them.
    username_key = models.CharField(max_length=150, default="", blank=True)
    name_key = models.CharField(max_length=255, default="", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course_key", "learner"], name="mwf_status_learner"),
        ]
        indexes = [
            models.Index(fields=["course_key", "state", "learner_username"], name="mwf_status_state"),
            models.Index(fields=["course_key", "learner_username"], name="mwf_status_username"),
            models.Index(fields=["course_key", "qualifying_count", "learner_username"], name="mwf_status_qualifying"),
            models.Index(fields=["course_key", "last_practice_date", "learner_username"], name="mwf_status_practice"),
            models.Index(fields=["course_key", "state", "certified_until", "learner_username"],
                         name="mwf_status_expiry"),
            models.Index(fields=["course_key", "has_coach", "learner_username"], name="mwf_status_coached"),
            models.Index(fields=["course_key", "overdue", "learner_username"], name="mwf_status_overdue"),
            # A state filter sorted by another column reads its rows in that column's order:
            models.Index(fields=["course_key", "state", "qualifying_count", "learner_username"],
                         name="mwf_status_state_qualifying"),
            models.Index(fields=["course_key", "state", "last_practice_date", "learner_username"],
                         name="mwf_status_state_practice"),
            models.Index(fields=["course_key", "username_key"], name="mwf_status_username_key"),
            models.Index(fields=["course_key", "name_key"], name="mwf_status_name_key"),
        ]
        verbose_name_plural = "learner statuses"

    def __str__(self):
        return f"learner {self.learner_id} in {self.course_key}: {self.state}"

    def save(self, *args, **kwargs):
        if not self.learner_username and self.learner_id is not None:
            self.learner_username = learner_username(self.learner_id)
        if self._state.adding and self.learner_id is not None:
            self.username_key = self.username_key or search_keys.fold(self.learner_username)
            self.name_key = self.name_key or search_keys.fold(get_platform().full_names([self.learner_id]).get(
                self.learner_id))
        super().save(*args, **kwargs)


def learner_username(user_id):
    """A user's username (the status row's sort key); "" when the user is gone."""
    return get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


class CourseReevaluation(models.Model):
    """
    The latest re-evaluation of a course's learners (after a policy change) and how far it has come.

    .. no_pii:
    """

    course_key = CourseKeyField(max_length=255, unique=True)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the running job.")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    #: Runs of this request that failed: the periodic pass resumes a failed run at most
    #: ``reevaluation.MAX_FAILED_RUNS`` times, then leaves it to an operator.
    failures = models.PositiveSmallIntegerField(default=0)

    def __str__(self):
        return f"re-evaluation of {self.course_key}: {self.done}/{self.total}"


class AuditEvent(AppendOnlyModel):
    """
    Who did what, as ids only (no free text), in a hash chain that exposes tampering.

    .. pii: actor and subject user ids.
    .. pii_types: id
    .. pii_retirement: retained
    """

    actor_id = models.IntegerField(null=True, blank=True)
    subject_user_id = models.IntegerField(null=True, blank=True)
    course_key = CourseKeyField(max_length=255, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id} by {self.actor_id}"

    def compute_hash(self, key=None):
        """sha256 of the event and its predecessor's hash; an HMAC with ``key`` (bytes) when one is set."""
        payload = json.dumps(
            [
                self.prev_hash, self.actor_id, self.subject_user_id, str(self.course_key or ""),
                self.action, self.object_type, self.object_id, self.created_at.isoformat(),
            ]
        ).encode()
        if key:
            return hmac.new(key, payload, hashlib.sha256).hexdigest()
        return hashlib.sha256(payload).hexdigest()


class AuditChainHead(models.Model):
    """
    The audit chain's one head row: every append locks it, so no two events can chain to the same
    predecessor; its last id, hash and count expose deletion of the newest events.

    .. no_pii:
    """

    ONE = 1

    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    def __str__(self):
        return f"audit chain head: {self.count} events, last {self.last_id}"


class MessagePreference(models.Model):
    """
    A person's choice about our non-essential messages (feedback, observations, the coach digest).

    Essential ones (certification issued, revoked, expiring) are always sent.

    .. pii: links a user id to their messaging choice.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    user = models.OneToOneField(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    non_essential = models.BooleanField(default=True, help_text="Receive non-essential messages.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"message preference of user {self.user_id}"


class ExpiryReminder(models.Model):
    """
    One reminder per certification and threshold (days before expiry), whoever runs the task and how often.

    .. pii: a certification id (of one person) and when its reminder went out.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="+")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["certification", "days_before"], name="mwf_expiry_reminder")]

    def __str__(self):
        return f"{self.days_before}-day reminder of certification {self.certification_id}"


class SelfAssessment(models.Model):
    """
    The learner's own rating of an observed session, on the observation's rubric version.

    Asked for when the coach submits the observation (if the course's policy says so); answered
    once (submitted with ratings and a note, or declined), then final. A coaching conversation,
    never evidence: no decision, gate, reliability or drift figure reads it.

    .. pii: the learner's self-ratings and note about their own practice.
    .. pii_types: id, other
    .. pii_retirement: local_api
    """

    REQUESTED = "requested"
    SUBMITTED = competency.SelfAssessmentState.SUBMITTED.value
    DECLINED = competency.SelfAssessmentState.DECLINED.value
    STATUS_CHOICES = [(REQUESTED, _("Requested")), (SUBMITTED, _("Submitted")), (DECLINED, _("Declined"))]

    observation = models.OneToOneField(Observation, on_delete=models.CASCADE, related_name="self_assessment")
    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=REQUESTED)
    ratings = models.JSONField(default=dict, blank=True, help_text="{indicator key: level key}")
    note = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["learner", "course_key", "status"], name="mwf_self_assessment_learner")]

    def __str__(self):
        return f"self-assessment of observation {self.observation_id} ({self.status})"


class LearnerStartDate(models.Model):
    """
    When a learner started, for the policy's deadline: a hire date course staff uploaded. Without
    one, the learner's enrollment date counts.

    .. pii: the date a staff member was hired.
    .. pii_types: other
    .. pii_retirement: local_api
    """

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start_date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_key", "learner"], name="mwf_learner_start_date")]

    def __str__(self):
        return f"start of learner {self.learner_id} in {self.course_key}"


class OverdueNotice(models.Model):
    """
    That the coaches of a learner were told the learner passed a due date (once per due date: the
    unique constraint makes a repeated run send nothing twice).

    .. pii: links a user id to a due date.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    course_key = CourseKeyField(max_length=255)
    learner = models.ForeignKey(USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_key", "learner", "due_date"],
                                               name="mwf_overdue_notice")]

    def __str__(self):
        return f"overdue notice for learner {self.learner_id} in {self.course_key}"


class Consequence(models.Model):
    """
    One consequence of a learner's status change, written in the change's transaction and delivered
    after it at least once (the transactional outbox, ADR 0019): the after-commit hook delivers it
    when the broker is up; ``tasks.deliver_consequences`` delivers what is still pending. A
    delivered row is kept a while for operators (``delivered_at``) and then purged.

    .. pii: a learner id with a course, a state and a cause code; no free text.
    .. pii_types: id
    .. pii_retirement: local_api
    """

    kind = models.CharField(max_length=32)
    learner_id = models.IntegerField()
    course_key = CourseKeyField(max_length=255)
    payload = models.JSONField(default=dict)
    #: The change that wrote it (MySQL returns no ids from a bulk insert: the hook finds its rows by this).
    batch = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "due_at"], name="mwf_consequence_due"),
                   # "an older undelivered one of the same key" (the outbox's order per key).
                   models.Index(fields=["learner_id", "kind", "delivered_at"], name="mwf_consequence_key")]

    def __str__(self):
        return f"{self.kind} for learner {self.learner_id} in {self.course_key}"


class SubmissionKey(models.Model):
    """
    A client's key for one evidence-creating submission (the REST ``Idempotency-Key`` header, a
    form's or block's ``submission_token``) and the record that submission made: a repeat with the
    same key is answered with that record, never a second one (``api.submission_keys``). Kept for
    ``competency.SUBMISSION_KEY_KEPT``, then purged.

    .. no_pii: a user id with an opaque client-generated key, an action code, a hash of the request and a record id.
    """

    user_id = models.IntegerField()
    #: The sha256 of the client's key (hex).
    key = models.CharField(max_length=100)
    action = models.CharField(max_length=32)
    #: sha256 of what was submitted: the same key with other content is refused, not replayed.
    fingerprint = models.CharField(max_length=64)
    record_id = models.BigIntegerField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="mwf_submission_key_once")]

    def __str__(self):
        return f"{self.action} {self.record_id} by user {self.user_id}"
