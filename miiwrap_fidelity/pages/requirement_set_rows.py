"""
The policy editor's requirement sets as form rows (issue 25: nobody types JSON): a stored set shown
as fields, posted fields read back into the set ``api.save_policy`` checks, and the api's errors
(``requirement_sets[1].conditions[0].value``) put back beside the field they name. Numbers are passed
on as typed when they are not whole numbers, so that the one check (``policy_rules``) words the error.
"""
import re
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

#: A percent-of-indicators condition in a row's ``measure``; a summary score is ``summary:<key>``.
PERCENT = "percent"
SUMMARY_PREFIX = "summary:"
AT_LEAST, AT_MOST = ">=", "<="
DAYS, MONTHS = "days", "months"
#: The most sets and conditions a posted form is read for (the api refuses more than it allows).
MAX_ROWS = 20
_ERROR_PLACE = re.compile(r"^requirement_sets\[(\d+)\](?:\.conditions\[(\d+)\])?(?:\.(\w+))?$")


@dataclass
class ConditionRow:
    measure: str = ""  # PERCENT or "summary:<key>"; "" for an empty row
    op: str = AT_LEAST
    value: str = ""
    errors: list = field(default_factory=list)
    unknown: str = ""  # a summary key the set's instrument does not have (kept and shown, never dropped)


@dataclass
class SetRow:
    instrument_version: str = ""
    setting: str = ""
    min_observations: str = "3"
    window: str = "180"
    window_unit: str = DAYS
    min_distinct_observers: str = "1"
    essentials: bool = True
    conditions: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # by field name ("" for the set itself)


def new_set(instrument_version: object = "") -> SetRow:
    """A new set as the editor offers it: 3 observations in 180 days, 80 % met, essentials met."""
    return SetRow(instrument_version=str(instrument_version or ""), conditions=[ConditionRow(PERCENT, AT_LEAST, "80")])


def rows_of(stored: list) -> list[SetRow]:
    """The editor's rows of stored sets (``competency.RequirementSet.as_dict`` values)."""
    rows = []
    for item in stored:
        months = item.get("window_months")
        conditions = [ConditionRow(PERCENT if c["measure"] == PERCENT else SUMMARY_PREFIX + c.get("key", ""),
                                   c.get("op", AT_LEAST), _number_text(c.get("value")))
                      for c in item.get("conditions", []) if c.get("measure") != "essentials"]
        rows.append(SetRow(
            str(item.get("instrument_version", "")), item.get("setting") or "", str(item.get("min_observations", "")),
            str(months or item.get("window_days", "")), MONTHS if months else DAYS,
            str(item.get("min_distinct_observers", 1)),
            any(c.get("measure") == "essentials" for c in item.get("conditions", [])), conditions))
    return rows


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def rows_from_post(post) -> list[SetRow] | None:
    """
    The sets as posted (``set-<i>-...`` fields, ``set-<i>-cond-<j>-...`` conditions); None when the
    post does not say how many sets or conditions it holds (a truncated or forged form: never read
    as fewer sets or conditions than the page showed).
    """
    count = _count(post.get("sets"))
    if count is None:
        return None
    rows = []
    for i in range(count):
        prefix = f"set-{i}-"
        conditions_count = _count(post.get(f"{prefix}conditions"))
        if conditions_count is None:
            return None
        conditions = [ConditionRow(post.get(f"{prefix}cond-{j}-measure", ""), post.get(f"{prefix}cond-{j}-op", AT_LEAST),
                                   post.get(f"{prefix}cond-{j}-value", "").strip())
                      for j in range(conditions_count)]
        rows.append(SetRow(
            post.get(prefix + "instrument_version", ""), post.get(prefix + "setting", ""),
            post.get(prefix + "min_observations", "").strip(), post.get(prefix + "window", "").strip(),
            MONTHS if post.get(prefix + "window_unit") == MONTHS else DAYS,
            post.get(prefix + "min_distinct_observers", "").strip(), post.get(prefix + "essentials") == "on",
            conditions))
    return rows


def _count(value: object) -> int | None:
    """A posted count of rows (0 to ``MAX_ROWS``), or None when it is missing or not one."""
    text = str(value or "")
    return int(text) if text.isdecimal() and text.isascii() and len(text) <= 2 and int(text) <= MAX_ROWS else None


def _whole(text: str) -> object:
    """A whole number typed, as an int; anything else as typed (the api words the error)."""
    return int(text) if text.isdecimal() and text.isascii() and len(text) <= 9 else text


def _decimal(text: str) -> object:
    if len(text) > 40:  # no threshold is that long: the api words the error
        return text
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return text
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def set_of(row: SetRow) -> tuple[dict, list[int]]:
    """
    The set a row posts, for ``api.save_policy``, and the row index of each of its conditions (empty
    condition rows are left out).
    """
    conditions, places = [], []
    for index, condition in enumerate(row.conditions):
        if not condition.measure and not condition.value:
            continue
        if condition.measure.startswith(SUMMARY_PREFIX):
            conditions.append({"measure": "summary", "key": condition.measure[len(SUMMARY_PREFIX):],
                               "op": condition.op, "value": _decimal(condition.value)})
        else:  # no score chosen: the api asks for one (never taken as a percent)
            conditions.append({"measure": condition.measure, "op": condition.op, "value": _decimal(condition.value)})
        places.append(index)
    if row.essentials:
        conditions.append({"measure": "essentials"})
    window = "window_months" if row.window_unit == MONTHS else "window_days"
    return ({"instrument_version": _whole(row.instrument_version), "setting": row.setting,
             "min_observations": _whole(row.min_observations), window: _whole(row.window),
             "min_distinct_observers": _whole(row.min_distinct_observers), "conditions": conditions}, places)


def sets_of(rows: list[SetRow]) -> tuple[list[dict], list[list[int]]]:
    """Every row's set and its conditions' row indexes (``set_of``)."""
    pairs = [set_of(row) for row in rows]
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def place_errors(rows: list[SetRow], errors: dict, places: list[list[int]]) -> dict:
    """
    Put the api's errors on the rows they name; returns the errors that name no row (the page shows
    them at the top). ``window_days``/``window_months`` land on the row's window.
    """
    left = {}
    for key, messages in errors.items():
        match = _ERROR_PLACE.match(key)
        if not match or int(match.group(1)) >= len(rows):
            left[key] = messages
            continue
        row = rows[int(match.group(1))]
        name = match.group(3) or ""
        if match.group(2) is not None:
            condition = int(match.group(2))
            row_places = places[int(match.group(1))]
            if condition < len(row_places):
                row.conditions[row_places[condition]].errors.extend(_condition_messages(name, messages))
            else:  # the essentials condition comes after the rows'
                row.errors.setdefault("essentials", []).extend(messages)
            continue
        name = "window" if name in ("window_days", "window_months") else name
        row.errors.setdefault(name, []).extend(messages)
    return left


def _condition_messages(name: str, messages: list) -> list:
    """The api's words for a condition's measure name its JSON values; the page says what to do."""
    return [_("Choose a score for this condition.")] if name == "measure" else messages


def apply_action(rows: list[SetRow], action: str) -> list[SetRow]:
    """
    The rows after an editing button (nothing saved): ``add_set``, ``remove_set:<i>``, ``up:<i>``,
    ``down:<i>``, ``add_condition:<i>``, ``remove_condition:<i>:<j>``. An unknown or out-of-range
    action leaves them as they are.
    """
    name, _sep, rest = action.partition(":")
    numbers = [int(part) for part in rest.split(":") if part.isdecimal() and part.isascii() and len(part) <= 4
               ] if rest else []
    rows = [replace(row, conditions=list(row.conditions)) for row in rows]
    if name == "add_set" and len(rows) < MAX_ROWS:
        rows.append(new_set(rows[0].instrument_version if rows else ""))
    elif not numbers or numbers[0] >= len(rows):
        return rows
    elif name == "remove_set" and len(rows) > 1:
        del rows[numbers[0]]
    elif name in ("up", "down"):
        other = numbers[0] + (-1 if name == "up" else 1)
        if 0 <= other < len(rows):
            rows[numbers[0]], rows[other] = rows[other], rows[numbers[0]]
    elif name == "add_condition" and len(rows[numbers[0]].conditions) < MAX_ROWS:
        rows[numbers[0]].conditions.append(ConditionRow())
    elif name == "remove_condition" and len(numbers) == 2 and numbers[1] < len(rows[numbers[0]].conditions):
        del rows[numbers[0]].conditions[numbers[1]]
    return rows


def described_changes(before: list, after: list, titles: dict, settings: dict) -> list[str]:
    """
    What a change does to the sets, in words (issue 25's walkthrough: a preview said who would move
    back, not which change made them): "Set 1: qualifying observations 3 → 30", a set added or
    removed, its conditions changed.

    Args:
        before: the stored sets (``RequirementSet.as_dict`` values).
        after: the sets as posted (``sets_of``).
        titles: ``{instrument version id (str): its title}``.
        settings: ``{setting key: its name}``.
    """
    lines = []
    for index in range(max(len(before), len(after))):
        number = index + 1
        if index >= len(before):
            lines.append(_("Set %(number)s added.") % {"number": number})
            continue
        if index >= len(after):
            lines.append(_("Set %(number)s removed.") % {"number": number})
            continue
        old, new = before[index], after[index]
        for label, was, now in _set_fields(old, new, titles, settings):
            if was != now:
                lines.append(_("Set %(number)s: %(field)s %(before)s → %(after)s") % {
                    "number": number, "field": label, "before": was, "after": now})
        if _conditions(old) != _conditions(new):
            lines.append(_("Set %(number)s: its conditions changed.") % {"number": number})
    return lines


def _set_fields(old: dict, new: dict, titles: dict, settings: dict) -> list[tuple[str, str, str]]:
    def window(item: dict) -> str:
        months = item.get("window_months")
        return (_("%(n)s months") % {"n": months}) if months else (_("%(n)s days") % {"n": item.get("window_days")})

    def setting(item: dict) -> str:
        return str(settings.get(item.get("setting") or "", _("any setting")))

    def title(item: dict) -> str:
        return str(titles.get(str(item.get("instrument_version")), item.get("instrument_version")))

    return [(_("instrument"), title(old), title(new)), (_("setting"), setting(old), setting(new)),
            (_("qualifying observations"), str(old.get("min_observations")), str(new.get("min_observations"))),
            (_("window"), window(old), window(new)),
            (_("different observers"), str(old.get("min_distinct_observers", 1)),
             str(new.get("min_distinct_observers", 1)))]


def _conditions(item: dict) -> list:
    return sorted(repr(sorted(condition.items())) for condition in item.get("conditions") or [])
