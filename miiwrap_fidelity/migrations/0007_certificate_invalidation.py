from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0006_evidence_integrity'),
    ]

    operations = [
        migrations.AddField(
            model_name='certification',
            name='certificate_invalidated_at',
            field=models.DateTimeField(blank=True, help_text='When the platform certificate was invalidated after revocation or expiry.', null=True),
        ),
    ]
