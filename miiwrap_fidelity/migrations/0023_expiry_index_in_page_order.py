"""The expiry index with the username after the expiry: an expiring filter's page reads it in its own order (issue 30)."""
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0022_status_search_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='learnerstatus',
            name='mwf_status_expiry',
        ),
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'state', 'certified_until', 'learner_username'], name='mwf_status_expiry'),
        ),
    ]
