"""
``platform.EdxPlatform`` against stand-ins of the edx-platform modules it imports, with the
signatures those modules have in edx-platform (master, 2026): a renamed module, a wrong argument
or a missing keyword fails here instead of in an LMS.
"""
import sys
import types

import pytest
from django.dispatch import Signal

from miiwrap_fidelity import platform

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

    # lms/djangoapps/certificates/api.py
    def generate_certificate_task(user, course_key, generation_mode=None):
        calls.append(("generate", user.pk, course_key, generation_mode))
        return True

    def create_or_update_certificate_allowlist_entry(user, course_key, notes, enabled=True):
        calls.append(("allowlist", user.pk, course_key, notes, enabled))
        return object(), True

    class Enrollments:
        """``CourseEnrollment.objects`` (common/djangoapps/student/models): a Django manager."""

        rows = []

        def filter(self, **conditions):
            assert set(conditions) == {"course_id", "is_active"}, conditions
            self.matched = [row for row in Enrollments.rows
                            if str(row["course_id"]) == str(conditions["course_id"])
                            and row["is_active"] == conditions["is_active"]]
            return self

        def values_list(self, field, flat=False):
            assert field == "user_id" and flat
            return [row["user_id"] for row in self.matched]

    module("common.djangoapps.student.models",
           CourseEnrollment=type("CourseEnrollment", (), {"objects": Enrollments()}))
    module("common.djangoapps.student.roles", GlobalStaff=GlobalStaff,
           CourseStaffRole=type("CourseStaffRole", (AccessRole,), {}),
           CourseInstructorRole=type("CourseInstructorRole", (AccessRole,), {}))
    module("lms.djangoapps.certificates.api", generate_certificate_task=generate_certificate_task,
           create_or_update_certificate_allowlist_entry=create_or_update_certificate_allowlist_entry)
    module("eventtracking.tracker", emit=lambda name=None, data=None: calls.append(("event", name, data)))
    module("eventtracking")
    sys.modules["eventtracking"].tracker = sys.modules["eventtracking.tracker"]
    module("openedx.core.djangoapps.user_api.accounts.signals", USER_RETIRE_MAILINGS=Signal(),
           USER_RETIRE_LMS_CRITICAL=Signal(), USER_RETIRE_LMS_MISC=Signal())
    for parent in ("common", "common.djangoapps", "common.djangoapps.student", "lms", "lms.djangoapps",
                   "lms.djangoapps.certificates", "openedx", "openedx.core", "openedx.core.djangoapps",
                   "openedx.core.djangoapps.user_api", "openedx.core.djangoapps.user_api.accounts"):
        if parent not in sys.modules:
            module(parent)
    return types.SimpleNamespace(calls=calls, roles=AccessRole.members, global_staff=GlobalStaff.members,
                                 enrollments=Enrollments.rows)


def test_course_staff_instructors_and_global_staff_administer(edx):
    adapter = platform.EdxPlatform()
    edx.roles.update({("CourseStaffRole", COURSE, 1), ("CourseInstructorRole", COURSE, 2)})
    edx.global_staff.add(3)
    assert [adapter.is_course_staff(User(pk), COURSE) for pk in (1, 2, 3, 4)] == [True, True, True, False]
    assert adapter.is_course_staff(User(1, authenticated=False), COURSE) is False
    assert adapter.is_course_staff(User(1), "course-v1:Other+X+1") is False


@pytest.mark.parametrize("allowlist", [False, True])
def test_certificate_request_goes_through_the_platform_task(edx, allowlist):
    assert platform.EdxPlatform().request_certificate(User(7), COURSE, allowlist=allowlist) is True
    expected = [("generate", 7, COURSE, "batch")]
    if allowlist:
        expected.insert(0, ("allowlist", 7, COURSE, "miiwrap-fidelity: competency signed off", True))
    assert edx.calls == expected


def test_enrolled_learners_are_the_active_enrollments_of_the_course(edx):
    edx.enrollments.extend([{"course_id": COURSE, "user_id": 1, "is_active": True},
                            {"course_id": COURSE, "user_id": 2, "is_active": False},
                            {"course_id": "course-v1:Other+X+1", "user_id": 3, "is_active": True}])
    assert platform.EdxPlatform().enrolled_learner_ids(COURSE) == [1]


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
