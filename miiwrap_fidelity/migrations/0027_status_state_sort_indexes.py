"""A state filter sorted by qualifying observations or by the last observation, read from an index in that order (issue 30)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0026_instrument_version_settings'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'state', 'qualifying_count', 'learner_username'],
                               name='mwf_status_state_qualifying'),
        ),
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'state', 'last_practice_date', 'learner_username'],
                               name='mwf_status_state_practice'),
        ),
    ]
