# Policy rules v2 (ADR 0013): a policy's evidence rules become requirement sets. Every existing policy
# becomes one set made of its single-set fields, so that its decisions are unchanged.
from django.db import migrations, models


def single_set(policy):
    """The set the single-set fields describe (the shape of ``competency.RequirementSet.as_dict``)."""
    conditions = [{"measure": "percent", "op": ">=", "value": policy.min_percent}]
    if policy.critical_required:
        conditions.append({"measure": "essentials"})
    return {"instrument_version": policy.instrument_version_id, "setting": "",
            "min_observations": policy.min_observations, "window_days": policy.window_days,
            "min_distinct_observers": policy.min_distinct_observers, "conditions": conditions}


def forwards(apps, schema_editor):
    CompetencyPolicy = apps.get_model('miiwrap_fidelity', 'CompetencyPolicy')
    for policy in CompetencyPolicy.objects.iterator():
        if policy.requirement_sets:
            continue
        policy.requirement_sets = [single_set(policy)]
        policy.save(update_fields=['requirement_sets'])


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0011_instrument_kinds'),
    ]

    operations = [
        migrations.AddField(
            model_name='competencypolicy',
            name='requirement_sets',
            field=models.JSONField(blank=True, default=list, help_text='Requirement sets: each needs its number of qualifying observations (of a setting, with an instrument version, within its window, by its observers), every set must be met. The first set is also shown in the fields above.'),
        ),
        # The single-set fields stay as they were (they mirror the first set), so going back only
        # drops the column.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
