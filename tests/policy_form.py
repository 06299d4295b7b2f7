"""The policy page's form as a browser posts it (issue 25's editor), built from requirement sets."""
from miiwrap_fidelity import api
from miiwrap_fidelity.pages import policy_editor
from miiwrap_fidelity.pages import requirement_set_rows as set_rows


def policy_post(sets, action="save", confirm=False, **fields):
    """
    The POST of the policy page with ``sets`` (stored form) in its set fields and the other
    settings from the model's defaults, overridden by ``fields``.
    """
    values = {**api.POLICY_DEFAULTS, **fields}
    post = {name: value for name in policy_editor.CERTIFICATION_FIELDS + policy_editor.MONITORING_FIELDS
            for value in [values.get(name)] if value not in (None, False)}
    post = {name: ("on" if value is True else value) for name, value in post.items()}
    rows = set_rows.rows_of(sets)
    post["sets"] = len(rows)
    for i, row in enumerate(rows):
        prefix = f"set-{i}-"
        post.update({prefix + "instrument_version": row.instrument_version, prefix + "setting": row.setting,
                     prefix + "min_observations": row.min_observations, prefix + "window": row.window,
                     prefix + "window_unit": row.window_unit,
                     prefix + "min_distinct_observers": row.min_distinct_observers,
                     prefix + "conditions": len(row.conditions)})
        if row.essentials:
            post[prefix + "essentials"] = "on"
        for j, condition in enumerate(row.conditions):
            post.update({f"{prefix}cond-{j}-measure": condition.measure, f"{prefix}cond-{j}-op": condition.op,
                         f"{prefix}cond-{j}-value": condition.value})
    post["action"] = "confirm_save" if confirm else action  # the preview's "Save anyway" button
    return post
