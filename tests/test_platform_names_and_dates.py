"""
``platform.EdxPlatform.enrollment_dates`` and ``full_names`` against stand-ins of edx-platform's
``CourseEnrollment`` and ``UserProfile`` (common/djangoapps/student/models): one query each, the
fields those models have (``course_id``, ``user_id``, ``created``; ``user_id``, ``name``).
"""
import sys
import types
from datetime import datetime, timezone

import pytest

from miiwrap_fidelity.seams import platform

COURSE = "course-v1:MiiWrap+FID101+2026"


class Manager:
    """A Django manager's ``filter(...).values_list(...)`` over plain rows, asserting the lookups used."""

    def __init__(self, rows, lookups):
        self.rows, self.lookups, self.queries = rows, lookups, 0

    def filter(self, **conditions):
        assert set(conditions) == self.lookups, conditions
        self.queries += 1
        matched = [row for row in self.rows if all(
            row[name[:-4]] in value if name.endswith("__in") else str(row[name]) == str(value)
            for name, value in conditions.items())]
        return types.SimpleNamespace(values_list=lambda *fields: [tuple(row[f] for f in fields) for row in matched])


@pytest.fixture
def student_models(monkeypatch):
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    enrollments = Manager([{"course_id": COURSE, "user_id": 1, "created": day},
                           {"course_id": "course-v1:Other+X+1", "user_id": 1, "created": day.replace(month=5)},
                           {"course_id": COURSE, "user_id": 2, "created": day.replace(month=4)}],
                          {"course_id", "user_id__in"})
    profiles = Manager([{"user_id": 1, "name": "Ana Alvarez"}, {"user_id": 2, "name": "  "},
                        {"user_id": 3, "name": "Cam Castillo"}], {"user_id__in"})
    stand_in = types.ModuleType("common.djangoapps.student.models")
    stand_in.CourseEnrollment = type("CourseEnrollment", (), {"objects": enrollments})
    stand_in.UserProfile = type("UserProfile", (), {"objects": profiles})
    monkeypatch.setitem(sys.modules, "common.djangoapps.student.models", stand_in)
    return enrollments, profiles


def test_enrollment_dates_of_the_course_in_one_query(student_models):
    enrollments, _profiles = student_models
    dates = platform.EdxPlatform().enrollment_dates(COURSE, [1, 2, 9])
    assert dates == {1: datetime(2026, 3, 1, tzinfo=timezone.utc), 2: datetime(2026, 4, 1, tzinfo=timezone.utc)}
    assert enrollments.queries == 1


def test_full_names_from_profiles_blank_names_left_out(student_models):
    _enrollments, profiles = student_models
    assert platform.EdxPlatform().full_names([1, 2]) == {1: "Ana Alvarez"}
    assert profiles.queries == 1
