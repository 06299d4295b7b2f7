"""Records of the fake platform: course roles, certificate requests and tracking events."""
from django.conf import settings
from django.db import models
from opaque_keys.edx.django.models import CourseKeyField


class CourseRole(models.Model):
    """Stands in for edx-platform's CourseStaffRole / CourseInstructorRole.

    .. no_pii:
    """

    course_key = CourseKeyField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=[("staff", "Staff"), ("instructor", "Instructor")])

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # As edx-platform's AccessRole.add_users does: the user object's cached roles are now stale.
        if "user" in self._state.fields_cache:
            self.user.__dict__.pop("_sandbox_staff_courses", None)


class Enrollment(models.Model):
    """Stands in for edx-platform's CourseEnrollment (``sandbox.enrollment.enroll`` sends its event).

    .. no_pii:
    """

    course_key = CourseKeyField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    mode = models.CharField(max_length=32, default="audit")
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course_key", "user"], name="sandbox_enrollment_once")]


class CertificateRequest(models.Model):
    """One run of the (fake) platform's certificate generation, with the filter's outcome.

    .. no_pii:
    """

    course_key = CourseKeyField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    outcome = models.CharField(max_length=20)  # "generated" | "prevented" | "invalidated"
    message = models.TextField(blank=True)
    allowlisted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class TrackingEvent(models.Model):
    """What the platform's eventtracking would have emitted.

    .. no_pii:
    """

    name = models.CharField(max_length=200)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
