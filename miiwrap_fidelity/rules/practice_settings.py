"""
The practice settings an observation records (``Observation.setting``) and their names: one list for
the model's choices, the requirement sets that name a setting, and the sentences learners read. An
instrument version may declare the settings it is used in (``settings:`` in its file): the
observation form offers only those, and the server refuses another (issue 26).
"""
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CHOICES = [
    ("family_team_meeting", _("Family team meeting")),
    ("home_visit", _("Home visit")),
    ("supervision", _("Supervision")),
    ("phone_session", _("Phone or video session")),
    ("community", _("Community setting")),
    # practice with an actor or a peer playing the family: stage 1 of a staged course (issue 25)
    ("role_play", _("Role-play or simulated session")),
    ("other", _("Other")),
]
LABELS = dict(CHOICES)
KEYS = [key for key, _label in CHOICES]


def choices_for(declared: Sequence[str] | None = None) -> list[tuple[str, Any]]:
    """
    The settings an observation with an instrument may record: those the instrument version
    declares (its ``settings``), in this module's order; every setting when it declares none.

    Args:
        declared: the version's declared setting keys (empty or None: all).

    Returns:
        ``[(key, name)]`` pairs, names in the active language when rendered.
    """
    return [(key, name) for key, name in CHOICES if not declared or key in declared]


def allowed(setting: object, declared: Sequence[str] | None = None) -> bool:
    """
    Whether an observation with an instrument version that declares ``declared`` may record ``setting``.

    Args:
        setting: a setting key.
        declared: the version's declared setting keys (empty or None: every known setting).

    Returns:
        True when the setting is known and (the version declares none, or) declared.
    """
    return setting in LABELS and (not declared or setting in declared)


def refusal(setting: str, declared: Sequence[str] | None) -> str | None:
    """
    Why an instrument version that declares the settings ``declared`` is not used in ``setting``.

    Args:
        setting: a known setting key.
        declared: the version's declared setting keys (empty or None: every setting).

    Returns:
        The sentence (in the active language), or None when the version is used in it.
    """
    if allowed(setting, declared):
        return None
    return gettext("This instrument is not used in the setting \"%(setting)s\"; choose one of: %(settings)s.") % {
        "setting": label(setting), "settings": ", ".join(str(name) for _key, name in choices_for(declared))}


def label(setting: str) -> str:
    """
    The setting's name in the active language.

    Args:
        setting: a setting code (``Observation.setting``).

    Returns:
        Its name in the active language; the code itself when unknown.
    """
    return str(LABELS.get(setting, setting))
