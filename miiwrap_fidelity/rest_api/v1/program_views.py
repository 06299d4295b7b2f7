"""
REST API v1 of program progress (ADR 0025): a learner's progress through the courses whose policies
name the same program, as the requester may see it. ``api.program_progress`` applies every
permission: the learner sees every course of the program; a coach or course staff member the
courses where they may see the learner, the others counted but not named.
"""
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from miiwrap_fidelity import api

from .schema import ApiSchema
from .views import CourseView


class LearnerProgramView(CourseView):
    """
    GET: the learner's program progress from this course: ``program``, ``courses`` (each with its
    ``state``, ``state_label``, ``done``), ``total``, ``done``, ``hidden`` (courses not shown) and
    ``completed`` (null when it depends on a course not shown). 404 when the learner is not a learner
    of the course or the course is in no program.
    """
    schema = ApiSchema()

    def get(self, request, course_id, user_id):
        learner = api.get_user(user_id, "learner")
        try:
            progress = api.program_progress(request.user, learner, self.course_key)
        except api.NotEnrolled as exc:
            raise NotFound(" ".join(exc.messages)) from exc
        if progress is None:
            raise NotFound(_("This course is not part of a program."))
        return Response(progress.as_dict())
