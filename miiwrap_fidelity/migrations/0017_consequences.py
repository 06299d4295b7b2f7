from django.db import migrations, models
import opaque_keys.edx.django.models


class Migration(migrations.Migration):

    dependencies = [
        ("miiwrap_fidelity", "0016_status_certified_until"),
    ]

    operations = [
        migrations.CreateModel(
            name="Consequence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=32)),
                ("learner_id", models.IntegerField()),
                ("course_key", opaque_keys.edx.django.models.CourseKeyField(max_length=255)),
                ("payload", models.JSONField(default=dict)),
                ("batch", models.CharField(db_index=True, max_length=32)),
                ("created_at", models.DateTimeField()),
                ("due_at", models.DateTimeField()),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "indexes": [models.Index(fields=["delivered_at", "due_at"], name="mwf_consequence_due")],
            },
        ),
    ]
