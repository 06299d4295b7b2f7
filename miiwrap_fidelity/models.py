"""Django loads an app's models from ``<app>.models``; ours are kept with the other records (``records/models.py``)."""
from .records.models import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
