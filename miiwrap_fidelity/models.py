"""Django loads an app's models from ``<app>.models``; ours are kept with the other records (``records/models.py``)."""
from .records.coaching_plans import CoachingPlan, PlanFocus  # noqa: F401  (the coaching loop, ADR 0027)
from .records.models import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from .records.program_completion import ProgramCompletion  # noqa: F401  (kept apart from records/models.py)
