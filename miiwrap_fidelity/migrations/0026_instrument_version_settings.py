# Issue 26: an instrument version may declare the practice settings it is used in (``settings:`` in
# its file); the observation form offers only those and the server refuses another. Versions
# imported before declare none: every setting, as before.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0025_status_overdue_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='instrumentversion',
            name='settings',
            field=models.JSONField(blank=True, default=list, help_text='The practice settings observations with this version may record (empty: every setting).'),
        ),
    ]
