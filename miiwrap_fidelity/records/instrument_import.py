"""
Importing fidelity instruments from JSON or YAML, with errors reported by line and field.

Document shape::

    slug: miiwrap-core
    name: MiiWrap practice fidelity
    description: ...
    indicators:
      - key: engagement-strengths
        domain: Engagement
        label: Strengths-based engagement
        description: The facilitator ...
        critical: true
        levels:
          - {key: met, label: Present, anchor: ..., met: true}
          - {key: partly, label: Partly, anchor: ..., met: false}
          - {key: na, label: Not applicable, anchor: ..., met: null}

Format v2 (ADR 0012) adds, all optional so v1 files import unchanged (same digest, same version):
``kind: scale`` (``scale: {min, max, met: [points], anchors: {point: text}}``), ``kind: count``
(``count: {max}``), a ``summaries`` list (``op``: mean / sum over ``of``, ratio / percent of
``numerator`` over ``denominator``; ``better``: higher / lower; proficiency ``levels`` with
``threshold``), and translations: ``languages: [es]`` and a ``translations: {es: {...}}`` mapping
on the document, on each indicator and on each summary, checked complete for every language.
``settings: [family_team_meeting]`` (optional): the practice settings the instrument is used in
(``rules/practice_settings.py``'s keys); without it, every setting.
"""
import hashlib
import json
from dataclasses import dataclass

import yaml
from django.db import transaction

from ..rules import rating_scales as rating_values
from ..rules.errors import MiiwrapError
from ..rules.instrument_files import (
    KEY_RE,
    MAX_TEXT,
    check_settings,
    check_summaries,
    check_translations,
    indicator_kind_fields,
    keyed_item,
    missing_languages,
)
from .models import Indicator, Instrument, InstrumentVersion

MAX_INDICATORS = 200


@dataclass(frozen=True)
class InstrumentError:
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.message}"


class InstrumentInvalid(MiiwrapError):
    """An instrument file that cannot be loaded: ``errors`` says every problem, by line and field."""

    def __init__(self, errors):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def _line_map(node, path="", lines=None):
    """Map dotted field paths to the 1-based line where the YAML/JSON node starts."""
    lines = {} if lines is None else lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _line_map(value_node, f"{path}.{key_node.value}" if path else str(key_node.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, f"{path}[{index}]", lines)
    return lines


def parse(text):
    """Parse a document (YAML, of which JSON is a subset) into ``(data, line_map)``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise InstrumentInvalid([InstrumentError(line, "document", str(getattr(exc, "problem", exc)))]) from exc
    return data, (_line_map(node) if node is not None else {})


class _Checker:
    def __init__(self, lines):
        self.lines, self.errors = lines, []

    def error(self, field, message):
        line = self.lines.get(field)
        parent = field
        while line is None and parent:
            parent = parent.rsplit(".", 1)[0] if "." in parent else ""
            line = self.lines.get(parent)
        self.errors.append(InstrumentError(line, field, message))

    def text(self, data, field, path, required=True, limit=MAX_TEXT):
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(path, "is required")
            return ""
        if not isinstance(value, str):
            self.error(path, "must be text")
            return ""
        if len(value) > limit:
            self.error(path, f"must be at most {limit} characters")
        return value.strip()


def validate(data, lines, languages=()):
    """
    Return the cleaned document or raise ``InstrumentInvalid`` listing every problem; ``languages``
    (``["es"]``): the file must also be complete in each of these (the shipped samples are).
    """
    check = _Checker(lines)
    if not isinstance(data, dict):
        raise InstrumentInvalid([InstrumentError(1, "document", "must be a mapping with slug, name, indicators")])
    for language in missing_languages(data, languages):
        check.error("languages", f"missing translation ({language}): declare it and translate every text")
    slug = check.text(data, "slug", "slug", limit=100)
    if slug and not KEY_RE.match(slug):
        check.error("slug", "use lowercase letters, digits, '-' or '_'")
    clean = {"slug": slug, "name": check.text(data, "name", "name", limit=200),
             "description": check.text(data, "description", "description", required=False)}
    indicators = data.get("indicators")
    if not isinstance(indicators, list) or not indicators:
        check.error("indicators", "must be a non-empty list")
        indicators = []
    if len(indicators) > MAX_INDICATORS:
        check.error("indicators", f"at most {MAX_INDICATORS} indicators")
    seen, clean["indicators"] = set(), []
    for index, item in enumerate(indicators):
        path = f"indicators[{index}]"
        key = keyed_item(check, item, path, seen)
        if key is None:
            continue
        critical = item.get("critical", False)
        if not isinstance(critical, bool):
            check.error(f"{path}.critical", "must be true or false")
        kind = item.get("kind", rating_values.LEVELS)
        indicator = {
            "key": key, "domain": check.text(item, "domain", f"{path}.domain", limit=100),
            "label": check.text(item, "label", f"{path}.label", limit=200),
            "description": check.text(item, "description", f"{path}.description"),
            "critical": critical is True,
        }
        if kind == rating_values.LEVELS:
            indicator["levels"] = _levels(check, item.get("levels"), f"{path}.levels")
        else:
            indicator.update(indicator_kind_fields(check, item, path, kind))
        clean["indicators"].append(indicator)
    summaries = check_summaries(check, data.get("summaries"), clean["indicators"])
    if summaries:
        clean["summaries"] = summaries
    check_translations(check, data, clean)
    check_settings(check, data, clean)
    if check.errors:
        raise InstrumentInvalid(check.errors)
    return clean


def _levels(check, levels, path):
    if not isinstance(levels, list) or len(levels) < 2:
        check.error(path, "must list at least two levels")
        return []
    clean, seen = [], set()
    for index, level in enumerate(levels):
        lpath = f"{path}[{index}]"
        if not isinstance(level, dict):
            check.error(lpath, "must be a mapping")
            continue
        key = check.text(level, "key", f"{lpath}.key", limit=32)
        if key in seen:
            check.error(f"{lpath}.key", f"duplicate level '{key}'")
        seen.add(key)
        if "met" not in level or level["met"] not in (True, False, None):
            check.error(f"{lpath}.met", "must be true (met), false (not met) or null (not applicable)")
        clean.append({"key": key, "label": check.text(level, "label", f"{lpath}.label", limit=100),
                      "anchor": check.text(level, "anchor", f"{lpath}.anchor"), "met": level.get("met")})
    if clean and not any(level["met"] is True for level in clean):
        check.error(path, "needs at least one level that counts as met")
    return clean


def digest(clean):
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()


def load(text, dry_run=False):
    """
    Validate and store an instrument document; returns ``(version, created)``.

    Identical content returns the existing version; changed content makes a new version.
    """
    data, lines = parse(text)
    clean = validate(data, lines)
    content_digest = digest(clean)
    if dry_run:
        return None, False
    with transaction.atomic():
        instrument, _ = Instrument.objects.select_for_update().get_or_create(
            slug=clean["slug"], defaults={"name": clean["name"], "description": clean["description"]}
        )
        existing = instrument.versions.filter(content_digest=content_digest).first()
        if existing:
            return existing, False
        instrument.name, instrument.description = clean["name"], clean["description"]
        instrument.save()
        latest = instrument.versions.order_by("-number").first()
        version = InstrumentVersion.objects.create(
            instrument=instrument, number=(latest.number + 1) if latest else 1, title=clean["name"],
            content_digest=content_digest, summaries=clean.get("summaries", []),
            translations=clean.get("translations", {}), settings=clean.get("settings", []),
        )
        Indicator.objects.bulk_create(
            Indicator(version=version, position=position, **indicator)
            for position, indicator in enumerate(clean["indicators"])
        )
    return version, True
