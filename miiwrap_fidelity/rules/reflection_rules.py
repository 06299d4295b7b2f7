"""
Validation rules for reflective application exercises (authoring and answering).

Internal to ``api``: the XBlock and views call ``api``.
"""
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from .errors import ValidationError
from .text_checks import text_problem

MAX_ANSWER_CHARS = 5000
MAX_PROMPTS = 20
MAX_PROMPT_CHARS = 1000
MAX_TITLE_CHARS = 255
PROMPT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def clean_prompts(prompts: object, indicator_keys: Collection[str] | None = None) -> list[dict[str, Any]]:
    """
    Validate an author's prompts: ``[{"id", "text", "indicators": [keys]}]``.

    Args:
        prompts: the prompts as the author sent them.
        indicator_keys: the indicator keys of the course's instrument (when the course has a
            policy): the prompts may name only these; None allows any.

    Returns:
        The prompts, each ``{"id", "text", "indicators"}`` with the text stripped and the
        indicators without repeats.

    Raises:
        ValidationError: not a list of 1 to ``MAX_PROMPTS`` prompts (keyed ``prompts``), or a prompt's
            problems (keyed ``prompts[i].field``).
    """
    if not isinstance(prompts, list) or not prompts:
        raise ValidationError({"prompts": [_("Add at least one prompt.")]})
    if len(prompts) > MAX_PROMPTS:
        raise ValidationError({"prompts": [_("At most %(max)s prompts.") % {"max": MAX_PROMPTS}]})
    errors, clean, seen = {}, [], set()
    for index, prompt in enumerate(prompts):
        path = f"prompts[{index}]"
        if not isinstance(prompt, dict):
            errors[path] = [_("Each prompt needs an id, a text and its indicators.")]
            continue
        prompt_id = prompt.get("id")
        if not isinstance(prompt_id, str) or not PROMPT_ID_RE.match(prompt_id):
            errors[f"{path}.id"] = [_("Use letters, digits, '-' or '_' (at most 40).")]
        elif prompt_id in seen:
            errors[f"{path}.id"] = [_("Prompt ids must be unique.")]
        else:
            seen.add(prompt_id)
        text = prompt.get("text")
        if not isinstance(text, str) or not text.strip():
            errors[f"{path}.text"] = [_("Write the prompt text.")]
        elif len(text) > MAX_PROMPT_CHARS:
            errors[f"{path}.text"] = [_("At most %(max)s characters.") % {"max": MAX_PROMPT_CHARS}]
        indicators = prompt.get("indicators", [])
        if not isinstance(indicators, list) or not all(isinstance(key, str) for key in indicators):
            errors[f"{path}.indicators"] = [_("Choose indicators from the list.")]
            indicators = []
        elif indicator_keys is not None:
            unknown = sorted(set(indicators) - set(indicator_keys))
            if unknown:
                errors[f"{path}.indicators"] = [
                    _("Not indicators of this course's rubric: %(keys)s") % {"keys": ", ".join(unknown)}
                ]
        clean.append({"id": prompt_id, "text": (text or "").strip(), "indicators": list(dict.fromkeys(indicators))})
    if errors:
        raise ValidationError(errors)
    return clean


def clean_answers(prompts: Iterable[Mapping[str, Any]], answers: object, min_length: int,
                  require_all: bool) -> dict[str, str]:
    """
    Validate answers ``{prompt_id: text}`` against the block's prompts.

    Args:
        prompts: the block's prompts (``clean_prompts`` values).
        answers: the learner's answers as sent.
        min_length: the fewest characters of an answer when ``require_all`` (at least 1).
        require_all: every prompt needs an answer (submission); drafts may be partial.

    Returns:
        ``{prompt_id: text}`` for every prompt, the text stripped (empty when unanswered).

    Raises:
        ValidationError: ``answers`` is not an object (keyed ``answers``), or an answer's problem
            (keyed ``answers.<prompt_id>``).
    """
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("Answers must be an object keyed by prompt id.")]})
    ids = [prompt["id"] for prompt in prompts]
    errors, clean = {}, {}
    for prompt_id in answers:
        if prompt_id not in ids:
            errors[f"answers.{prompt_id}"] = [_("Unknown prompt.")]
    for prompt_id in ids:
        value = answers.get(prompt_id, "")
        if not isinstance(value, str):
            errors[f"answers.{prompt_id}"] = [_("Must be text.")]
            continue
        value = value.strip()
        problem = text_problem(value)
        if problem:
            errors[f"answers.{prompt_id}"] = [problem]
        elif len(value) > MAX_ANSWER_CHARS:
            errors[f"answers.{prompt_id}"] = [_("At most %(max)s characters.") % {"max": MAX_ANSWER_CHARS}]
        elif require_all and len(value) < max(min_length, 1):
            errors[f"answers.{prompt_id}"] = [
                _("Write at least %(min)s characters before submitting.") % {"min": max(min_length, 1)}
            ]
        clean[prompt_id] = value
    if errors:
        raise ValidationError(errors)
    return clean


def clean_self_ratings(prompts: Iterable[Mapping[str, Any]], ratings: object,
                       indicators_by_key: Mapping[str, Any]) -> dict[str, str]:
    """
    Validate self-ratings ``{indicator_key: level}`` for the indicators the prompts name.

    Args:
        prompts: the block's prompts (``clean_prompts`` values).
        ratings: the learner's self-ratings as sent (None or "" for none).
        indicators_by_key: the course's indicators (rows or ``IndicatorData``: their ``level``
            method) by key.

    Returns:
        ``{indicator_key: level key}`` of the rated indicators (blank levels left out).

    Raises:
        ValidationError: ``ratings`` is not an object (keyed ``self_ratings``), or a rating's problem
            (keyed ``self_ratings.<key>``).
    """
    if ratings in (None, ""):
        return {}
    if not isinstance(ratings, dict):
        raise ValidationError({"self_ratings": [_("Self-ratings must be an object keyed by indicator.")]})
    allowed = {key for prompt in prompts for key in prompt.get("indicators", [])}
    errors, clean = {}, {}
    for key, level in ratings.items():
        indicator = indicators_by_key.get(key)
        if key not in allowed or indicator is None:
            errors[f"self_ratings.{key}"] = [_("Not an indicator of this exercise.")]
        elif level in ("", None):
            continue
        elif not isinstance(level, str) or indicator.level(level) is None:
            errors[f"self_ratings.{key}"] = [_("Choose one of the levels of this indicator.")]
        else:
            clean[key] = level
    if errors:
        raise ValidationError(errors)
    return clean
