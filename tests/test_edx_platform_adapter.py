"""
``platform.EdxPlatform`` against stand-ins of the edx-platform modules it imports, with the
signatures those modules have in edx-platform (master, 2026): a renamed module, a wrong argument
or a missing keyword fails here instead of in an LMS.
"""
import sys
import types
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.dispatch import Signal

from miiwrap_fidelity.seams import platform

COURSE = "course-v1:MiiWrap+FID101+2026"


class User:
    def __init__(self, pk, authenticated=True):
        self.pk, self.is_authenticated = pk, authenticated


@pytest.fixture
def edx(monkeypatch):
    """Installs the stand-in modules; returns the calls they received."""
    calls = []

    def module(name, **attributes):
        stand_in = types.ModuleType(name)
        stand_in.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, stand_in)

    class AccessRole:
        members = set()

        def __init__(self, course_key):
            self.course_key = course_key

        def has_user(self, user, check_user_activation=True):  # pylint: disable=unused-argument
            return (type(self).__name__, str(self.course_key), user.pk) in AccessRole.members

    class GlobalStaff:
        members = set()

        def has_user(self, user):
            return user.pk in GlobalStaff.members

    class CertificateGenerationNotAllowed(Exception):
        """lms/djangoapps/certificates/generation_handler.py: a filter refused the certificate."""

    # What generate_certificate_task does (generation_handler): queue a task (True), only mark the
    # certificate with a status (True as well), refuse (CertificateGenerationNotAllowed) or nothing (False).
    generation = types.SimpleNamespace(answer="queue")

    # lms/djangoapps/certificates/api.py
    def generate_certificate_task(user, course_key, generation_mode=None):
        calls.append(("generate", user.pk, course_key, generation_mode))
        if generation.answer == "refuse":
            raise CertificateGenerationNotAllowed("prevented by a filter")
        if generation.answer in ("notpassing", "unverified"):
            certificate = certificates.setdefault((user.pk, str(course_key)), GeneratedCertificate(user.pk, course_key))
            certificate.status, certificate.modified_date = generation.answer, datetime.now(dt_timezone.utc)
        return generation.answer != "nothing"

    class CertificateAllowlist:
        def __init__(self, notes, allowlist):
            self.notes, self.allowlist = notes, allowlist

    allowlist_entries = {}

    def create_or_update_certificate_allowlist_entry(user, course_key, notes, enabled=True):
        calls.append(("allowlist", user.pk, course_key, notes, enabled))
        entry = allowlist_entries.setdefault((user.pk, str(course_key)), CertificateAllowlist(notes, enabled))
        entry.notes, entry.allowlist = notes, enabled
        return entry, True

    def get_allowlist_entry(user, course_key):
        return allowlist_entries.get((user.pk, str(course_key)))

    class GeneratedCertificate:
        """lms/djangoapps/certificates/models.py: one per user and course run."""

        def __init__(self, user_id, course_key):
            self.user_id, self.course_id, self.status = user_id, course_key, "downloadable"
            self.modified_date = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)

        def invalidate(self, mode=None, source=None):
            calls.append(("invalidate", self.user_id, self.course_id, mode, source))
            self.status = "unavailable"

    class CertificateInvalidation:
        def __init__(self, generated_certificate, invalidated_by, notes):
            self.generated_certificate, self.invalidated_by, self.notes = generated_certificate, invalidated_by, notes
            self.active = True

        def deactivate(self):
            calls.append(("deactivate", self.generated_certificate.user_id, self.notes))
            self.active = False

    certificates, invalidations = {}, []

    def get_certificate_for_user_id(user, course_id):
        return certificates.get((user.pk, str(course_id)))

    def create_certificate_invalidation_entry(certificate, user_requesting_invalidation, notes):
        calls.append(("invalidation_entry", certificate.user_id, user_requesting_invalidation.pk, notes))
        entry = CertificateInvalidation(certificate, user_requesting_invalidation, notes)
        invalidations.append(entry)
        return entry

    def get_certificate_invalidation_entry(generated_certificate, invalidated_by=None, notes=None, active=None):
        assert invalidated_by is None and notes is None
        return next((entry for entry in invalidations if entry.generated_certificate is generated_certificate
                     and (active is None or entry.active == active)), None)

    class Enrollments:
        """``CourseEnrollment.objects`` (common/djangoapps/student/models): a Django manager."""

        rows = []

        def filter(self, **conditions):
            assert set(conditions) in ({"course_id", "is_active"}, {"course_id", "user_id__in", "is_active"}), conditions
            self.matched = [row for row in Enrollments.rows
                            if str(row["course_id"]) == str(conditions["course_id"])
                            and row["is_active"] == conditions["is_active"]
                            and row["user_id"] in conditions.get("user_id__in", [row["user_id"]])]
            return self

        def exists(self):
            return bool(self.matched)

        def values_list(self, field, flat=False):
            assert field == "user_id" and flat
            return [row["user_id"] for row in self.matched]

    module("common.djangoapps.student.models",
           CourseEnrollment=type("CourseEnrollment", (), {"objects": Enrollments()}))
    module("common.djangoapps.student.roles", GlobalStaff=GlobalStaff,
           CourseStaffRole=type("CourseStaffRole", (AccessRole,), {}),
           CourseInstructorRole=type("CourseInstructorRole", (AccessRole,), {}))
    module("lms.djangoapps.certificates.generation_handler",
           CertificateGenerationNotAllowed=CertificateGenerationNotAllowed)
    module("lms.djangoapps.certificates.api", generate_certificate_task=generate_certificate_task,
           create_or_update_certificate_allowlist_entry=create_or_update_certificate_allowlist_entry,
           get_allowlist_entry=get_allowlist_entry,
           get_certificate_for_user_id=get_certificate_for_user_id,
           create_certificate_invalidation_entry=create_certificate_invalidation_entry,
           get_certificate_invalidation_entry=get_certificate_invalidation_entry)
    module("eventtracking.tracker", emit=lambda name=None, data=None: calls.append(("event", name, data)))
    module("eventtracking")
    sys.modules["eventtracking"].tracker = sys.modules["eventtracking.tracker"]
    module("openedx.core.djangoapps.user_api.accounts.signals", USER_RETIRE_MAILINGS=Signal(),
           USER_RETIRE_LMS_CRITICAL=Signal(), USER_RETIRE_LMS_MISC=Signal())
    # Course progress: lms/djangoapps/courseware/courses.py, lms/djangoapps/grades/api.py,
    # openedx/core/djangoapps/content/learning_sequences/api (CourseOutlineData: sections of
    # sequences, each with usage_key and title), openedx/core/djangoapps/content_tagging/api.py.
    progress = types.SimpleNamespace(summary=None, grades={}, sections=[], tags={}, grade_reads=[])

    def get_course_blocks_completion_summary(course_key, user):
        calls.append(("completion", str(course_key), user.pk))
        return progress.summary

    def get_subsection_grades(user_id, course_key_or_id):
        progress.grade_reads.append((user_id, str(course_key_or_id)))
        return progress.grades

    def get_course_outline(course_key):
        return types.SimpleNamespace(course_key=course_key, sections=progress.sections)

    def get_all_object_tags(content_key, prefetch_orgs=False):  # pylint: disable=unused-argument
        return progress.tags, {}

    # Messages: openedx/core/djangoapps/content/course_overviews/api.py, user_api/preferences/api.py, lang_pref.
    overviews, preferences = {}, {}
    module("openedx.core.djangoapps.content.course_overviews.api",
           get_course_overview_or_none=lambda course_id: overviews.get(str(course_id)))
    module("openedx.core.djangoapps.lang_pref", LANGUAGE_KEY="pref-lang")

    def get_user_preference(requesting_user, preference_key, username=None):
        assert username is None  # the user's own preference
        return preferences.get((requesting_user.pk, preference_key))

    module("openedx.core.djangoapps.user_api.preferences.api", get_user_preference=get_user_preference)
    module("lms.djangoapps.courseware.courses",
           get_course_blocks_completion_summary=get_course_blocks_completion_summary)
    module("lms.djangoapps.grades.api", get_subsection_grades=get_subsection_grades)
    module("openedx.core.djangoapps.content.learning_sequences.api", get_course_outline=get_course_outline)
    module("openedx.core.djangoapps.content_tagging.api", get_all_object_tags=get_all_object_tags)
    for parent in ("common", "common.djangoapps", "common.djangoapps.student", "lms", "lms.djangoapps",
                   "lms.djangoapps.certificates", "lms.djangoapps.courseware", "lms.djangoapps.grades", "openedx",
                   "openedx.core", "openedx.core.djangoapps", "openedx.core.djangoapps.content",
                   "openedx.core.djangoapps.content.learning_sequences", "openedx.core.djangoapps.content_tagging",
                   "openedx.core.djangoapps.content.course_overviews", "openedx.core.djangoapps.user_api",
                   "openedx.core.djangoapps.user_api.accounts", "openedx.core.djangoapps.user_api.preferences"):
        if parent not in sys.modules:
            module(parent)
    return types.SimpleNamespace(calls=calls, roles=AccessRole.members, global_staff=GlobalStaff.members,
                                 generation=generation, allowlist_entries=allowlist_entries,
                                 certificates=certificates,
                                 enrollments=Enrollments.rows, invalidations=invalidations, progress=progress,
                                 overviews=overviews, preferences=preferences,
                                 add_certificate=lambda user_id: certificates.setdefault(
                                     (user_id, COURSE), GeneratedCertificate(user_id, COURSE)),
                                 staff_invalidation=lambda cert, staff_id, notes: invalidations.append(
                                     CertificateInvalidation(cert, User(staff_id), notes)))


def test_course_staff_instructors_and_global_staff_administer(edx):
    adapter = platform.EdxPlatform()
    edx.roles.update({("CourseStaffRole", COURSE, 1), ("CourseInstructorRole", COURSE, 2)})
    edx.global_staff.add(3)
    assert [adapter.is_course_staff(User(pk), COURSE) for pk in (1, 2, 3, 4)] == [True, True, True, False]
    assert adapter.is_course_staff(User(1, authenticated=False), COURSE) is False
    assert adapter.is_course_staff(User(1), "course-v1:Other+X+1") is False


@pytest.mark.parametrize("allowlist", [False, True])
def test_certificate_request_goes_through_the_platform_task(edx, allowlist):
    assert platform.EdxPlatform().request_certificate(User(7), COURSE, allowlist=allowlist) == "requested"
    expected = [("generate", 7, COURSE, "batch")]
    if allowlist:
        expected.insert(0, ("allowlist", 7, COURSE, "miiwrap-fidelity: competency signed off", True))
    assert edx.calls == expected


@pytest.mark.parametrize("answer, outcome", [("queue", "requested"), ("notpassing", "notpassing"),
                                             ("unverified", "unverified"), ("refuse", "not_allowed"),
                                             ("nothing", "not_eligible")])
def test_the_platforms_real_answer_is_what_a_request_returns(edx, answer, outcome):
    """Issue 23: 'requested' was recorded when the platform only marked the certificate notpassing, and a
    CertificateGenerationNotAllowed was an error retried five times, then every 15 minutes."""
    edx.generation.answer = answer
    assert platform.EdxPlatform().request_certificate(User(7), COURSE) == outcome


def test_an_old_status_is_not_taken_for_the_answer(edx):
    edx.add_certificate(7).status = "notpassing"  # from an earlier attempt; this one queued a task
    assert platform.EdxPlatform().request_certificate(User(7), COURSE) == "requested"


def test_our_allowlist_entry_is_disabled_at_invalidation_and_restored_at_the_next_request(edx):
    adapter = platform.EdxPlatform()
    adapter.request_certificate(User(7), COURSE, allowlist=True)
    edx.add_certificate(7)
    assert adapter.invalidate_certificate(User(7), COURSE, "competency revoked") is True
    entry = edx.allowlist_entries[(7, COURSE)]
    assert entry.allowlist is False, "never on the allowlist and the invalidation list at once"
    adapter.request_certificate(User(7), COURSE, allowlist=True)
    assert entry.allowlist is True and entry.notes == "miiwrap-fidelity: competency signed off"


def test_a_staff_allowlist_entry_is_left_as_staff_set_it(edx):
    adapter = platform.EdxPlatform()
    edx.allowlist_entries[(7, COURSE)] = staff = types.SimpleNamespace(notes="Exception granted by the dean",
                                                                       allowlist=False)
    adapter.request_certificate(User(7), COURSE, allowlist=True)
    assert (staff.notes, staff.allowlist) == ("Exception granted by the dean", False)
    assert ("allowlist", 7, COURSE, "miiwrap-fidelity: competency signed off", True) not in edx.calls
    staff.allowlist = True
    edx.add_certificate(7)
    adapter.invalidate_certificate(User(7), COURSE, "competency revoked")
    assert staff.allowlist is True


@pytest.mark.parametrize("status", ["notpassing", "unavailable", "generating", "unverified"])
def test_only_a_downloadable_certificate_is_invalidated(edx, status):
    """As the instructor dashboard, which refuses to invalidate a certificate that is not valid."""
    edx.add_certificate(7).status = status
    assert platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "competency revoked") is False
    assert edx.calls == [] and edx.invalidations == []


@pytest.mark.parametrize("status", [None, "notpassing", "unverified"])
def test_our_allowlist_entry_never_outlives_the_competency(edx, status):
    """Review finding: with no downloadable certificate, the entry stayed enabled after a revocation."""
    adapter = platform.EdxPlatform()
    adapter.request_certificate(User(7), COURSE, allowlist=True)
    edx.certificates.pop((7, COURSE), None)
    if status:
        edx.add_certificate(7).status = status
    adapter.invalidate_certificate(User(7), COURSE, "competency revoked")
    assert edx.allowlist_entries[(7, COURSE)].allowlist is False


def test_invalidation_is_an_entry_plus_the_certificates_own_invalidate(edx):
    certificate = edx.add_certificate(7)
    assert platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "certification 3 expired") is True
    assert edx.calls == [("invalidation_entry", 7, 7, "miiwrap-fidelity: certification 3 expired"),
                         ("invalidate", 7, COURSE, None, "miiwrap_fidelity")]
    assert certificate.status == "unavailable"
    edx.calls.clear()
    # Again: the certificate is no longer valid, so nothing is done (no entry, no second revocation event).
    assert platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "certification 3 expired") is False
    assert edx.calls == []
    edx.add_certificate(8)
    edx.calls.clear()
    platform.EdxPlatform().invalidate_certificate(User(8), COURSE, "competency revoked", invalidated_by=User(2))
    assert edx.calls[0] == ("invalidation_entry", 8, 2, "miiwrap-fidelity: competency revoked")


def test_nothing_to_invalidate_without_a_platform_certificate(edx):
    assert platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "competency revoked") is False
    assert edx.calls == []


def test_a_new_request_lifts_our_invalidation_before_generating(edx):
    edx.add_certificate(7)
    platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "competency revoked")
    edx.calls.clear()
    platform.EdxPlatform().request_certificate(User(7), COURSE)
    assert edx.calls == [("deactivate", 7, "miiwrap-fidelity: competency revoked"),
                         ("generate", 7, COURSE, "batch")]
    assert [entry.active for entry in edx.invalidations] == [False]


def test_our_invalidation_never_overwrites_an_active_staff_one(edx):
    certificate = edx.add_certificate(7)
    edx.staff_invalidation(certificate, 2, "Academic integrity")
    assert platform.EdxPlatform().invalidate_certificate(User(7), COURSE, "competency revoked") is True
    assert edx.calls == [("invalidate", 7, COURSE, None, "miiwrap_fidelity")]
    assert [(entry.notes, entry.active) for entry in edx.invalidations] == [("Academic integrity", True)]


def test_a_staff_invalidation_is_never_lifted(edx):
    certificate = edx.add_certificate(7)
    edx.staff_invalidation(certificate, 2, "Academic integrity")
    platform.EdxPlatform().request_certificate(User(7), COURSE)
    assert edx.calls == [("generate", 7, COURSE, "batch")]
    assert edx.invalidations[0].active is True


def test_course_progress_reads_completion_persisted_grades_outline_and_tags(edx):
    def key(kind, name):
        return f"block-v1:MiiWrap+FID101+2026+type@{kind}+block@{name}"

    def node(kind, name, title, children=()):
        return types.SimpleNamespace(usage_key=key(kind, name), title=title, sequences=list(children))

    edx.progress.summary = {"complete_count": 7, "incomplete_count": 5, "locked_count": 1}
    edx.progress.sections = [node("chapter", "a", "Foundations", [node("sequential", "a1", "Voice"),
                                                                  node("sequential", "a2", "Choice")]),
                             node("chapter", "b", "OARS")]
    edx.progress.grades = {key("sequential", "a1"): types.SimpleNamespace(earned_all=3.0, possible_all=4.0)}
    tag = types.SimpleNamespace(value="Engagement")  # older platforms: ObjectTag rows; newer: the values
    edx.progress.tags = {key("chapter", "a"): {1: [tag, "Week 1"]}}
    progress = platform.EdxPlatform().course_progress(User(7), COURSE)
    assert progress == {
        "units": {"complete": 7, "incomplete": 5, "locked": 1},
        "sections": [
            {"id": key("chapter", "a"), "title": "Foundations", "tags": ["Engagement", "Week 1"], "subsections": [
                {"id": key("sequential", "a1"), "title": "Voice", "earned": 3.0, "possible": 4.0},
                {"id": key("sequential", "a2"), "title": "Choice", "earned": 0.0, "possible": 0.0}]},
            {"id": key("chapter", "b"), "title": "OARS", "tags": [], "subsections": []},
        ],
    }
    assert edx.progress.grade_reads == [(7, COURSE)] and ("completion", COURSE, 7) in edx.calls


def test_messages_name_the_course_and_speak_the_users_language(edx, settings):
    adapter = platform.EdxPlatform()
    edx.overviews[COURSE] = types.SimpleNamespace(display_name="MiiWrap fidelity")
    assert adapter.course_name(COURSE) == "MiiWrap fidelity"
    assert adapter.course_name("course-v1:Gone+X+1") == "course-v1:Gone+X+1"
    edx.preferences[(7, "pref-lang")] = "es-419"
    assert adapter.preferred_language(User(7)) == "es-419"
    assert adapter.preferred_language(User(8)) == settings.LANGUAGE_CODE


def test_enrolled_learners_are_the_active_enrollments_of_the_course(edx):
    edx.enrollments.extend([{"course_id": COURSE, "user_id": 1, "is_active": True},
                            {"course_id": COURSE, "user_id": 2, "is_active": False},
                            {"course_id": "course-v1:Other+X+1", "user_id": 3, "is_active": True}])
    assert platform.EdxPlatform().enrolled_learner_ids(COURSE) == [1]
    adapter = platform.EdxPlatform()
    assert adapter.enrolled_ids(COURSE, [1, 2, 3]) == {1}


def test_events_go_to_the_tracker(edx):
    platform.EdxPlatform().emit_event("edx.miiwrap_fidelity.test", {"user_id": 7})
    assert edx.calls == [("event", "edx.miiwrap_fidelity.test", {"user_id": 7})]


def test_retirement_signals_are_the_platforms_and_absent_outside_it(edx, monkeypatch):
    signals = sys.modules["openedx.core.djangoapps.user_api.accounts.signals"]
    assert platform.EdxPlatform().retirement_signals() == [signals.USER_RETIRE_LMS_CRITICAL,
                                                           signals.USER_RETIRE_LMS_MISC]
    monkeypatch.setitem(sys.modules, "openedx.core.djangoapps.user_api.accounts.signals", None)
    assert platform.EdxPlatform().retirement_signals() == []


def test_the_real_adapter_is_the_default(settings):
    del settings.MIIWRAP_FIDELITY_PLATFORM_BACKEND
    assert isinstance(platform.get_platform(), platform.EdxPlatform)
