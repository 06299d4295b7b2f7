"""
Instrument files v2 (ADR 0012): indicator kinds, summary scores, translations.

The defaults are the data migration: every existing indicator reads as ``levels`` (its anchored
levels, unchanged), existing versions define no summaries and no translations, and existing
observations have no summary scores. No row is rewritten, so existing ratings keep their meaning.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0010_self_assessment'),
    ]

    operations = [
        migrations.AddField(
            model_name='indicator',
            name='kind',
            field=models.CharField(choices=[('levels', 'Anchored levels'), ('scale', 'Numeric scale'), ('count', 'Behaviour count')], default='levels', max_length=16),
        ),
        migrations.AddField(
            model_name='indicator',
            name='spec',
            field=models.JSONField(blank=True, default=dict, help_text='Scale range or count maximum.'),
        ),
        migrations.AddField(
            model_name='indicator',
            name='translations',
            field=models.JSONField(blank=True, default=dict, help_text='Per language: domain, label, description and level texts.'),
        ),
        migrations.AddField(
            model_name='instrumentversion',
            name='summaries',
            field=models.JSONField(blank=True, default=list, help_text='Summary scores computed from scale and count ratings (see rating_values).'),
        ),
        migrations.AddField(
            model_name='instrumentversion',
            name='translations',
            field=models.JSONField(blank=True, default=dict, help_text="Per language: the instrument's name and description."),
        ),
        migrations.AddField(
            model_name='observation',
            name='summary_scores',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
