# Observation.summary_scores (the shared contract of issue 14: {summary_key: float}, filled when an
# observation is recorded; the policy's conditions read them).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0008_messages'),
    ]

    operations = [
        migrations.AddField(
            model_name='observation',
            name='summary_scores',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
