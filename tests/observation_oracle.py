"""
A learner's whole observation list, unpaged, as a test oracle: the same visibility rules as the api's
paged history (``api.observation_history``), but applied in Python, one observation at a time
(``observations._hidden_from``), so that the SQL condition (``history.hidden_from``) has something
independent to agree with.
"""
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.api.observations import _hidden_from, as_seen_by, visible_observations


def observations_for(viewer, learner, course_key, include_drafts=False):
    """A learner's observations with ratings (``data.ObservationData``), as ``viewer`` may see them."""
    course_key = api.parse_course_key(course_key)
    learner = api.get_user(learner, "learner")
    if not api.can_view_learner(viewer, learner, course_key):
        raise api.PermissionDenied("You cannot see this learner's records.")
    queryset = visible_observations(viewer, learner, course_key, include_drafts)
    observations = list(queryset.select_related("observer", "co_observation_of", "self_assessment").prefetch_related(
        "ratings__indicator", "co_ratings", "amendments__author"))
    now = timezone.now()
    return [as_seen_by(viewer, o, now) for o in observations if not _hidden_from(viewer, o)]
