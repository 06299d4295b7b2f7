"""The "Overdue" filter read from its own index, by username (issue 30: it read the whole course)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0024_fill_search_names'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'overdue', 'learner_username'], name='mwf_status_overdue'),
        ),
    ]
