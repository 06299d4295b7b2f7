# One model of a policy (ADR 0026): requirement sets only. A policy whose sets were never written
# gets the one set its single-set fields describe (the same decisions), then those fields go. Going
# back restores them from the first set.
import math

from django.db import migrations, models


def _single_set(policy):
    conditions = [{"measure": "percent", "op": ">=", "value": policy.min_percent}]
    if policy.critical_required:
        conditions.append({"measure": "essentials"})
    return {"instrument_version": policy.instrument_version_id, "setting": "",
            "min_observations": policy.min_observations, "window_days": policy.window_days,
            "min_distinct_observers": policy.min_distinct_observers, "conditions": conditions}


def sets_from_fields(apps, schema_editor):
    CompetencyPolicy = apps.get_model("miiwrap_fidelity", "CompetencyPolicy")
    for policy in CompetencyPolicy.objects.filter(requirement_sets=[]).iterator():
        policy.requirement_sets = [_single_set(policy)]
        policy.save(update_fields=["requirement_sets"])
    for policy in CompetencyPolicy.objects.iterator():  # the copied version follows the first set
        first = policy.requirement_sets[0]["instrument_version"]
        if policy.instrument_version_id != first:
            policy.instrument_version_id = first
            policy.save(update_fields=["instrument_version"])


def fields_from_sets(apps, schema_editor):
    CompetencyPolicy = apps.get_model("miiwrap_fidelity", "CompetencyPolicy")
    for policy in CompetencyPolicy.objects.iterator():
        first = (policy.requirement_sets or [{}])[0]
        conditions = first.get("conditions") or []
        percent = next((c["value"] for c in conditions if c.get("measure") == "percent" and c.get("op") == ">="), 80)
        policy.min_observations = first.get("min_observations", 3)
        policy.window_days = first.get("window_days", 180)
        policy.min_distinct_observers = first.get("min_distinct_observers", 1)
        policy.critical_required = any(c.get("measure") == "essentials" for c in conditions)
        policy.min_percent = max(1, min(100, math.ceil(percent)))
        policy.save()


class Migration(migrations.Migration):

    dependencies = [
        ("miiwrap_fidelity", "0029_program_completion"),
    ]

    operations = [
        migrations.RunPython(sets_from_fields, fields_from_sets),
        migrations.RemoveField(model_name="competencypolicy", name="min_observations"),
        migrations.RemoveField(model_name="competencypolicy", name="min_percent"),
        migrations.RemoveField(model_name="competencypolicy", name="window_days"),
        migrations.RemoveField(model_name="competencypolicy", name="critical_required"),
        migrations.RemoveField(model_name="competencypolicy", name="min_distinct_observers"),
        migrations.AlterField(
            model_name="competencypolicy",
            name="requirement_sets",
            field=models.JSONField(blank=True, default=list, help_text="Requirement sets: each needs its number of qualifying observations (of a setting, with an instrument, within its window, by its observers); every set must be met."),
        ),
    ]
