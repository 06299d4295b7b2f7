"""
The status row's kept "has a coach" flag (issue 30: "No coach yet" read one index range), filled
from the assignments in one statement per direction.
"""
from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef


def fill_flags(apps, schema_editor):
    status_model = apps.get_model("miiwrap_fidelity", "LearnerStatus")
    assignment_model = apps.get_model("miiwrap_fidelity", "CoachAssignment")
    coached = Exists(assignment_model.objects.filter(course_key=OuterRef("course_key"),
                                                     learner_id=OuterRef("learner_id")))
    status_model.objects.filter(coached).update(has_coach=True)


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0020_consequence_key_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='learnerstatus',
            name='has_coach',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='learnerstatus',
            index=models.Index(fields=['course_key', 'has_coach', 'learner_username'], name='mwf_status_coached'),
        ),
        migrations.RunPython(fill_flags, migrations.RunPython.noop),
    ]
