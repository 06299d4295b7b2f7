"""
Errors as a coach reads them: each message under the name of what it is about (an indicator's
display name, a form field's label), with the id of the input to focus; never an internal key.
"""
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: Form fields of the coach's learner page: their labels and the id of their input.
FIELDS = {
    "practice_date": (gettext_lazy("Date of the observed practice"), "mwf-date"),
    "setting": (gettext_lazy("Setting"), "mwf-setting"),
    "overall_note": (gettext_lazy("Overall note"), "mwf-note"),
    "reason": (gettext_lazy("Reason"), "mwf-reason"),
    "level": (gettext_lazy("Sign-off level"), "mwf-level"),
    "privacy_confirmed": (gettext_lazy("Privacy"), "mwf-privacy-confirm"),
    "note": (gettext_lazy("Your note"), "mwf-note"),  # the learner's self-assessment
}
_PARTS = {"strength": ("strength-%s", gettext_lazy("strength observed")),
          "next_step": ("next_step-%s", gettext_lazy("next step"))}


@dataclass(frozen=True)
class Named:
    """What ``named_errors`` reads of an indicator: its key and the label the form shows."""
    key: str
    label: str


@dataclass(frozen=True)
class FieldError:
    label: str  # what the message is about; empty when it is about the whole action
    message: str
    target: str  # the id of the element to focus; empty when there is none


def named_errors(message_dict, indicators=(), prefix=""):
    """
    ``FieldError`` values for a ``ValidationError.message_dict``, in the order of the form;
    ``prefix``: that of the form's element ids when a page holds several forms (amendments).
    """
    by_key = {indicator.key: indicator for indicator in indicators}
    order = {indicator.key: position for position, indicator in enumerate(indicators)}
    named = []
    for field, messages in message_dict.items():
        label, target, position = _describe(field, by_key, order)
        target = f"{prefix}{target}" if target else ""
        named += [(position, FieldError(label, _without_name(message, label), target)) for message in messages]
    return [error for _position, error in sorted(named, key=lambda item: item[0])]


def _without_name(message, label):
    """The message without its own leading "Label: " (REST and block messages name the indicator; the page names it once)."""
    lead = f"{label}: "
    return message[len(lead):] if label and message.startswith(lead) else message


def _describe(field, by_key, order):
    """``(label, target id, sort position)`` of an error's field name."""
    if field.startswith("ratings."):
        _ratings, key, *part = field.split(".", 2)
        indicator = by_key.get(key)
        if indicator is None:
            return _("Rubric"), "", len(order)
        part = part[0] if part else "level"
        if part in _PARTS:
            target, words = _PARTS[part]
            return f"{indicator.label} ({words})", target % key, order[key]
        return str(indicator.label), f"mwf-indicator-{key}", order[key]
    if field in FIELDS:
        label, target = FIELDS[field]
        return str(label), target, -1
    return "", "", -2  # about the action as a whole (e.g. what the evidence still lacks)
