"""The learner list's search keys (issue 30): folded usernames and full names, each with its index."""

from django.conf import settings
from django.db import migrations, models

from miiwrap_fidelity.rules.search_keys import fold

PAGE = 1000


def fill_username_keys(apps, schema_editor):
    """The username keys from the rows' username copies, by pages of ids (the names: refresh_search_names)."""
    status_model = apps.get_model("miiwrap_fidelity", "LearnerStatus")
    last_id = 0
    while True:
        rows = list(status_model.objects.filter(pk__gt=last_id).order_by("pk").only("pk", "learner_username")[:PAGE])
        if not rows:
            return
        last_id = rows[-1].pk
        for row in rows:
            row.username_key = fold(row.learner_username)
        status_model.objects.bulk_update(rows, ["username_key"], batch_size=PAGE)


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0021_status_has_coach'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='learnerstatus',
            name='name_key',
            field=models.CharField(blank=True, default='', max_length=255),
        ),
        migrations.AddField(
            model_name='learnerstatus',
            name='username_key',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'username_key'], name='mwf_status_username_key'),
        ),
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'name_key'], name='mwf_status_name_key'),
        ),
        migrations.RunPython(fill_username_keys, migrations.RunPython.noop),
    ]
