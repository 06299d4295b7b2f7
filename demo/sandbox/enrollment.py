"""
Enrolling a user in the sandbox, as edx-platform's ``CourseEnrollment.enroll`` does: the enrollment
row, then openedx-events' ``COURSE_ENROLLMENT_CREATED`` with the same data the platform sends.
"""
from django.utils import timezone
from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED

from .models import Enrollment


def enroll(user, course_key, mode="audit"):
    enrollment, created = Enrollment.objects.get_or_create(course_key=course_key, user=user,
                                                           defaults={"mode": mode})
    if created:
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=CourseEnrollmentData(
            user=UserData(id=user.pk, is_active=user.is_active,
                          pii=UserPersonalData(username=user.username, email=user.email, name=user.get_full_name())),
            course=CourseData(course_key=course_key), mode=enrollment.mode, is_active=True,
            creation_date=enrollment.created or timezone.now(),
        ))
    return enrollment
