"""
The status rows' name keys (issue 30's search by name), filled from the platform's full names at
upgrade, so that a search by name works from the first request after ``migrate`` (the daily
``refresh_search_names`` task keeps them current after that). The names are the platform's
(``UserProfile.name`` in the LMS), read through the plugin's adapter, a page of rows at a time.
"""
import logging

from django.db import migrations

from miiwrap_fidelity.rules.search_keys import fold

PAGE = 1000
log = logging.getLogger(__name__)


def fill_name_keys(apps, schema_editor):
    from miiwrap_fidelity.seams.platform import get_platform  # pylint: disable=import-outside-toplevel

    status_model = apps.get_model("miiwrap_fidelity", "LearnerStatus")
    last_id = 0
    while True:
        rows = list(status_model.objects.filter(pk__gt=last_id).order_by("pk").only("pk", "learner_id", "name_key")[:PAGE])
        if not rows:
            return
        last_id = rows[-1].pk
        try:
            names = get_platform().full_names(sorted({row.learner_id for row in rows}))
        except Exception:  # pylint: disable=broad-except  # the daily task fills them: never block an upgrade
            log.warning("Name keys left for the daily refresh_search_names task", exc_info=True)
            return
        changed = []
        for row in rows:
            key = fold(names.get(row.learner_id))
            if key != row.name_key:
                row.name_key = key
                changed.append(row)
        status_model.objects.bulk_update(changed, ["name_key"], batch_size=PAGE)


class Migration(migrations.Migration):

    dependencies = [
        ("miiwrap_fidelity", "0023_expiry_index_in_page_order"),
    ]

    operations = [
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
