"""
Enrolling and unenrolling in the sandbox, as edx-platform's ``CourseEnrollment`` does: the enrollment
row, then openedx-events' ``COURSE_ENROLLMENT_CREATED`` / ``COURSE_UNENROLLMENT_COMPLETED`` with the
data the platform sends.
"""
from django.utils import timezone
from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED, COURSE_UNENROLLMENT_COMPLETED

from .models import Enrollment


def enroll(user, course_key, mode="audit"):
    enrollment, created = Enrollment.objects.get_or_create(course_key=course_key, user=user,
                                                           defaults={"mode": mode})
    if not created and not enrollment.is_active:
        enrollment.is_active, created = True, True
        enrollment.save(update_fields=["is_active"])
    if created:
        COURSE_ENROLLMENT_CREATED.send_event(enrollment=_event_data(enrollment))
    return enrollment


def unenroll(user, course_key):
    enrollment = Enrollment.objects.filter(course_key=course_key, user=user, is_active=True).first()
    if enrollment is not None:
        enrollment.is_active = False
        enrollment.save(update_fields=["is_active"])
        COURSE_UNENROLLMENT_COMPLETED.send_event(enrollment=_event_data(enrollment))
    return enrollment


def _event_data(enrollment):
    user = enrollment.user
    return CourseEnrollmentData(
        user=UserData(id=user.pk, is_active=user.is_active,
                      pii=UserPersonalData(username=user.username, email=user.email, name=user.get_full_name())),
        course=CourseData(course_key=enrollment.course_key), mode=enrollment.mode, is_active=enrollment.is_active,
        creation_date=enrollment.created or timezone.now(),
    )
