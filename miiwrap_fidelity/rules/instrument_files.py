"""
The v2 parts of an instrument file (ADR 0012): scale and count indicators, summary scores and
translations. ``instruments.validate`` calls these with its checker, so every problem is reported
with the file's line and the field's path, and a v1 file cleans to exactly what it did before.
"""
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from . import practice_settings
from . import rating_scales as rv

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MAX_TEXT = 2000
MAX_SCALE_POINTS = 11
MAX_SUMMARIES = 50
MAX_PROFICIENCY_LEVELS = 5


class Checker(Protocol):
    """What the checks report to (``instrument_import``'s checker): each problem at its field's path."""

    def error(self, field: str, message: str) -> None:
        """
        Report a problem.

        Args:
            field: the field's path (``indicators[2].scale.min``).
            message: what is wrong with it.
        """

    def text(self, data: Mapping[str, Any], field: str, path: str, required: bool = True,
             limit: int = MAX_TEXT) -> str:
        """
        A text field, its problems reported.

        Args:
            data: the mapping that holds the field.
            field: the field's name in ``data``.
            path: the field's path, for the report.
            required: empty or missing text is a problem.
            limit: the most characters the text may have.

        Returns:
            The text, stripped ("" when missing or not text).
        """


def _number(value: object) -> float | None:
    """A finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if value == value and abs(value) != float("inf") else None


def indicator_kind_fields(check: Checker, item: Mapping[str, Any], path: str, kind: object) -> dict[str, Any]:
    """
    The cleaned ``kind``/``levels``/``spec`` of a scale or count indicator.

    Args:
        check: where problems are reported.
        item: the indicator as the file has it.
        path: the indicator's path (``indicators[i]``).
        kind: the indicator's ``kind`` as the file has it (not ``levels``).

    Returns:
        ``{"kind", "levels", "spec"}``; a scale's points stored as levels (empty when the file's
        definition has problems, each reported to ``check``).
    """
    if kind == rv.SCALE:
        scale = item.get("scale")
        if item.get("critical") is True and isinstance(scale, dict) and "met" not in scale:
            check.error(f"{path}.critical", "a scale without met points is never met or not met, so it cannot be "
                                            "essential")
        return _scale(check, scale, f"{path}.scale")
    if kind == rv.COUNT:
        if item.get("critical") is True:
            check.error(f"{path}.critical", "a count is never met or not met, so it cannot be essential")
        return _count(check, item.get("count"), f"{path}.count")
    check.error(f"{path}.kind", f"must be one of: {', '.join(rv.KINDS)}")
    return {"kind": kind, "levels": [], "spec": {}}


def _scale(check: Checker, scale: object, path: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": rv.SCALE, "levels": [], "spec": {}}
    if not isinstance(scale, dict):
        check.error(path, "must be a mapping with min, max, anchors and (optional) met")
        return fields
    low, high = rv.whole_number(scale.get("min")), rv.whole_number(scale.get("max"))
    if low is None or isinstance(scale.get("min"), str):
        check.error(f"{path}.min", "must be a whole number")
    if high is None or isinstance(scale.get("max"), str):
        check.error(f"{path}.max", "must be a whole number")
    if low is None or high is None or isinstance(scale.get("min"), str) or isinstance(scale.get("max"), str):
        return fields
    if low < 0 or high <= low or high - low + 1 > MAX_SCALE_POINTS:
        check.error(path, f"needs 0 <= min < max and at most {MAX_SCALE_POINTS} points")
        return fields
    points = range(low, high + 1)
    # Without "met", no point is met or not met: the scale is read through summary scores (the MITI's
    # global ratings), and "% met" leaves it out, as it leaves out counts (issue 25).
    declares_met = "met" in scale
    met = scale.get("met", [])
    if declares_met and (not isinstance(met, list) or not met):
        check.error(f"{path}.met", "must list the points that count as met (or leave met out: no point is met)")
        met = []
    met_points = set()
    for index, point in enumerate(met):
        value = rv.whole_number(point) if not isinstance(point, str) else None
        if value is None or value not in points:
            check.error(f"{path}.met[{index}]", f"must be a point from {low} to {high}")
        else:
            met_points.add(value)
    anchors = _point_texts(check, scale.get("anchors"), f"{path}.anchors", points)
    fields["levels"] = [{"key": str(point), "label": str(point), "anchor": anchors.get(point, ""),
                         "met": (point in met_points) if declares_met else None} for point in points]
    fields["spec"] = {"min": low, "max": high}
    return fields


def _point_texts(check: Checker, texts: object, path: str, points: range) -> dict[int, str]:
    """``{point: text}`` from a mapping keyed by scale points; every point needs its text."""
    if not isinstance(texts, dict):
        check.error(path, "must map every point to its anchor text")
        return {}
    clean, seen = {}, set()
    for raw_key, text in texts.items():
        point = rv.whole_number(raw_key)
        if point is None or point not in points:
            check.error(f"{path}.{raw_key}", f"is not a point of the scale ({points[0]} to {points[-1]})")
            continue
        seen.add(point)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            check.error(f"{path}.{raw_key}", f"must be text of 1 to {MAX_TEXT} characters")
            continue
        clean[point] = text.strip()
    for point in points:
        if point not in seen:
            check.error(f"{path}.{point}", "is required (an anchor for every point)")
    return clean


def _count(check: Checker, count: object, path: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": rv.COUNT, "levels": [], "spec": {}}
    if count is None:
        return fields
    if not isinstance(count, dict):
        check.error(path, "must be a mapping (optional max)")
        return fields
    ceiling = count.get("max")
    if ceiling is not None:
        value = rv.whole_number(ceiling) if not isinstance(ceiling, str) else None
        if value is None or not 1 <= value <= rv.COUNT_CEILING:
            check.error(f"{path}.max", f"must be a whole number from 1 to {rv.COUNT_CEILING}")
        else:
            fields["spec"] = {"max": value}
    return fields


def check_summaries(check: Checker, summaries: object,
                    indicators: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """
    The cleaned summary definitions; inputs must be scale or count indicators of this file.

    Args:
        check: where problems are reported.
        summaries: the file's ``summaries`` (None: none).
        indicators: the file's cleaned indicators (their keys and kinds).

    Returns:
        The summaries, each ``{"key", "label", "description", "op", "of" or "numerator" and
        "denominator", "better", "levels"}`` (problems reported to ``check``).
    """
    if summaries is None:
        return []
    if not isinstance(summaries, list):
        check.error("summaries", "must be a list")
        return []
    if len(summaries) > MAX_SUMMARIES:
        check.error("summaries", f"at most {MAX_SUMMARIES} summaries")
    numeric = {i["key"] for i in indicators if i.get("kind") in rv.NUMERIC_KINDS}
    taken = {i["key"] for i in indicators}
    clean: list[dict[str, Any]] = []
    for index, item in enumerate(summaries):
        path = f"summaries[{index}]"
        key = keyed_item(check, item, path, taken, " (indicators and summaries share keys)")
        if key is None:
            continue
        summary: dict[str, Any] = {
            "key": key, "label": check.text(item, "label", f"{path}.label", limit=200),
            "description": check.text(item, "description", f"{path}.description", required=False)}
        op = item.get("op")
        if op not in rv.OPERATIONS:
            check.error(f"{path}.op", f"must be one of: {', '.join(rv.OPERATIONS)}")
        summary["op"] = op
        lists = ("of",) if op in rv.OVER_ONE_LIST else ("numerator", "denominator")
        for field in lists:
            summary[field] = _inputs(check, item.get(field), f"{path}.{field}", numeric)
        better = item.get("better", rv.HIGHER)
        if better not in (rv.HIGHER, rv.LOWER):
            check.error(f"{path}.better", "must be 'higher' or 'lower'")
        summary["better"] = better
        summary["levels"] = _proficiency_levels(check, item.get("levels"), f"{path}.levels", better)
        clean.append(summary)
    return clean


def keyed_item(check: Checker, item: object, path: str, taken: set[str], duplicate_note: str = "") -> str | None:
    """
    The key of one item of a keyed list (an indicator, a summary) after the checks each gets: a
    mapping, a well-formed key, not taken yet (it is added to ``taken``).

    Args:
        check: where problems are reported.
        item: the item as the file has it.
        path: the item's path (``indicators[i]``, ``summaries[i]``).
        taken: the keys of the items before it (this one is added).
        duplicate_note: added to the message about a key already taken.

    Returns:
        The key ("" when missing; problems reported to ``check``), or None when ``item`` is not a mapping.
    """
    if not isinstance(item, dict):
        check.error(path, "must be a mapping")
        return None
    key = check.text(item, "key", f"{path}.key", limit=64)
    if key and not KEY_RE.match(key):
        check.error(f"{path}.key", "use lowercase letters, digits, '-' or '_'")
    if key in taken:
        check.error(f"{path}.key", f"duplicate key '{key}'{duplicate_note}")
    taken.add(key)
    return key


def _inputs(check: Checker, keys: object, path: str, numeric: set[str]) -> list[str]:
    if not isinstance(keys, list) or not keys:
        check.error(path, "must list one or more scale or count indicator keys")
        return []
    for index, key in enumerate(keys):
        if not isinstance(key, str) or key not in numeric:
            check.error(f"{path}[{index}]", f"'{key}' is not a scale or count indicator of this instrument")
    if len(set(map(str, keys))) != len(keys):
        check.error(path, "lists an indicator twice")
    return [str(key) for key in keys]


def _proficiency_levels(check: Checker, levels: object, path: str, better: object) -> list[dict[str, Any]]:
    if levels is None:
        return []
    if not isinstance(levels, list) or len(levels) > MAX_PROFICIENCY_LEVELS:
        check.error(path, f"must be a list of at most {MAX_PROFICIENCY_LEVELS} levels")
        return []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, level in enumerate(levels):
        lpath = f"{path}[{index}]"
        if not isinstance(level, dict):
            check.error(lpath, "must be a mapping with key, label and threshold")
            continue
        key = check.text(level, "key", f"{lpath}.key", limit=32)
        if key in seen:
            check.error(f"{lpath}.key", f"duplicate level '{key}'")
        seen.add(key)
        threshold = _number(level.get("threshold"))
        if threshold is None:
            check.error(f"{lpath}.threshold", "must be a number")
            continue
        if clean and ((threshold <= clean[-1]["threshold"]) if better == rv.HIGHER
                      else (threshold >= clean[-1]["threshold"])):
            check.error(f"{lpath}.threshold", "levels go from lowest to highest proficiency: "
                        + ("each threshold above the one before" if better == rv.HIGHER
                           else "each threshold below the one before (lower is better)"))
        clean.append({"key": key, "label": check.text(level, "label", f"{lpath}.label", limit=100),
                      "threshold": threshold})
    return clean


def check_translations(check: Checker, data: Mapping[str, Any], clean: dict[str, Any]) -> None:
    """
    Clean the document's, every indicator's and every summary's translations into ``clean``;
    each declared language must translate every text the file has (the error names the field).

    Args:
        check: where problems are reported.
        data: the document as the file has it.
        clean: the cleaned document (``name``, ``description``, ``indicators`` and ``summaries``):
            each translated item gets its ``translations``.
    """
    languages = data.get("languages")
    if languages is None:
        languages = list((data.get("translations") or {}).keys()) if isinstance(data.get("translations"), dict) else []
    if not isinstance(languages, list) or not all(isinstance(x, str) and LANGUAGE_RE.match(x) for x in languages):
        check.error("languages", "must be a list of language codes such as es or pt-br (lowercase)")
        return
    if rv.DEFAULT_LANGUAGE in languages:
        check.error("languages", "English is the file's own text; list only the other languages")
        return
    if not languages:
        for path, item in _translatable(data):
            if isinstance(item, dict) and item.get("translations"):
                check.error(f"{path}translations", "declare the languages first (languages: [es])")
        return
    texts = {"name": clean["name"], "description": clean["description"]}
    document = _translation(check, data.get("translations"), "translations", languages, texts)
    if document:
        clean["translations"] = document
    for (index, item), indicator in zip(_mappings(data.get("indicators")), clean["indicators"]):
        path = f"indicators[{index}].translations"
        texts = {field: indicator[field] for field in ("domain", "label", "description")}
        raw = item.get("translations")
        levels = _indicator_level_texts(indicator)
        result = _translation(check, raw, path, languages, texts, levels, indicator.get("kind") == rv.SCALE)
        if result:
            indicator["translations"] = result
    for (index, item), summary in zip(_mappings(data.get("summaries")), clean.get("summaries", [])):
        texts = {"label": summary["label"], "description": summary["description"]}
        levels = {level["key"]: {"label": level["label"]} for level in summary["levels"]}
        result = _translation(check, item.get("translations"), f"summaries[{index}].translations",
                              languages, texts, levels)
        if result:
            summary["translations"] = result


def _mappings(items: object) -> list[tuple[int, dict[str, Any]]]:
    """``(index, item)`` of the mappings in a list: the cleaned list holds exactly these, in order."""
    return [(index, item) for index, item in enumerate(items if isinstance(items, list) else [])
            if isinstance(item, dict)]


def _translatable(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "", data
    for key in ("indicators", "summaries"):
        for index, item in enumerate(data.get(key) or [] if isinstance(data.get(key), list) else []):
            yield f"{key}[{index}].", item


def _indicator_level_texts(indicator: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    if indicator.get("kind") == rv.SCALE:
        return {level["key"]: {"anchor": level["anchor"]} for level in indicator["levels"]}
    return {level["key"]: {"label": level["label"], "anchor": level["anchor"]} for level in indicator["levels"]}


def _translation(check: Checker, raw: object, path: str, languages: Sequence[str], texts: Mapping[str, str],
                 levels: Mapping[str, Mapping[str, str]] | None = None, scale: bool = False) -> dict[str, Any]:
    """``{language: {field: text, "levels": {key: {field: text}}}}`` checked complete per language."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.error(path, "must map each language to its texts")
        return {}
    for language in raw:
        if language not in languages:
            check.error(f"{path}.{language}", f"language '{language}' is not declared in languages")
    clean: dict = {}
    levels_field = "anchors" if scale else "levels"
    for language in languages:
        lpath = f"{path}.{language}"
        entry = raw.get(language)
        if not isinstance(entry, dict):
            check.error(lpath, f"missing translation ({language})")
            continue
        out: dict[str, Any] = {}
        for field, base in texts.items():
            if not base:
                continue
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                check.error(f"{lpath}.{field}", f"missing translation ({language})")
            elif len(value) > MAX_TEXT:
                check.error(f"{lpath}.{field}", f"must be at most {MAX_TEXT} characters")
            else:
                out[field] = value.strip()
        if levels:
            out["levels"] = _level_translations(check, entry.get(levels_field), f"{lpath}.{levels_field}",
                                                language, levels, scale)
        clean[language] = out
    return clean


def _level_translations(check: Checker, raw: object, path: str, language: str,
                        levels: Mapping[str, Mapping[str, str]], scale: bool) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        check.error(path, f"missing translation ({language})")
        return {}
    by_key = {(str(rv.whole_number(key)) if scale else str(key)): value for key, value in raw.items()}
    for key in by_key:
        if key not in levels:
            check.error(f"{path}.{key}", "is not a level of this item")
    clean: dict = {}
    for key, fields in levels.items():
        entry = by_key.get(key)
        if scale:  # a scale's translation maps each point straight to its anchor text
            entry = {"anchor": entry} if isinstance(entry, str) else None
        if not isinstance(entry, dict):
            check.error(f"{path}.{key}", f"missing translation ({language})")
            continue
        clean[key] = {}
        for field in fields:
            value = entry.get(field)
            field_path = f"{path}.{key}" + ("" if scale else f".{field}")
            if not isinstance(value, str) or not value.strip():
                check.error(field_path, f"missing translation ({language})")
            elif len(value) > MAX_TEXT:
                check.error(field_path, f"must be at most {MAX_TEXT} characters")
            else:
                clean[key][field] = value.strip()
    return clean


def check_settings(check: Checker, data: Mapping[str, Any], clean: dict[str, Any]) -> None:
    """
    The practice settings the instrument is used in (optional ``settings: [family_team_meeting]``):
    each a key of ``practice_settings``, none twice. Without the field every setting is allowed and
    ``clean`` gets no ``settings`` (a file without it keeps its digest).

    Args:
        check: where problems are reported.
        data: the document as the file has it.
        clean: the cleaned document: gets ``settings``, the declared keys in the file's order.
    """
    if "settings" not in data:
        return
    declared = data.get("settings")
    known = practice_settings.KEYS
    if not isinstance(declared, list) or not declared:
        check.error("settings", "must be a non-empty list of settings: " + ", ".join(known))
        return
    seen: list[str] = []
    for index, value in enumerate(declared):
        if not isinstance(value, str) or value not in known:
            check.error(f"settings[{index}]", f"'{value}' is not a setting; use one of: " + ", ".join(known))
        elif value in seen:
            check.error(f"settings[{index}]", f"'{value}' is listed twice")
        else:
            seen.append(value)
    if len(seen) == len(declared):
        clean["settings"] = seen


def missing_languages(data: Mapping[str, Any], languages: Sequence[str]) -> list[str]:
    """
    Which of ``languages`` the file does not declare (``languages: [...]``, or the keys of its
    document ``translations``): ``check_translations`` then holds each declared one complete.

    Args:
        data: the document as the file has it.
        languages: the languages the file must be complete in (``["es"]``).

    Returns:
        The languages not declared, in the order asked.
    """
    declared = data.get("languages")
    if declared is None and isinstance(data.get("translations"), dict):
        declared = list(data["translations"])
    declared = declared if isinstance(declared, list) else []
    return [language for language in languages if language not in declared]
