"""
The practice settings an observation records (``Observation.setting``) and their names: one list for
the model's choices, the requirement sets that name a setting, and the sentences learners read.
"""
from django.utils.translation import gettext_lazy as _

CHOICES = [
    ("family_team_meeting", _("Family team meeting")),
    ("home_visit", _("Home visit")),
    ("supervision", _("Supervision")),
    ("phone_session", _("Phone or video session")),
    ("community", _("Community setting")),
    ("other", _("Other")),
]
LABELS = dict(CHOICES)


def label(setting: str) -> str:
    """
    The setting's name in the active language.

    Args:
        setting: a setting code (``Observation.setting``).

    Returns:
        Its name in the active language; the code itself when unknown.
    """
    return str(LABELS.get(setting, setting))
