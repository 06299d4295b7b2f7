"""
The status row's kept "has a coach" flag (issue 30: "No coach yet" read one index range), filled
from the assignments in one statement per direction.
"""
from django.conf import settings
from django.db import migrations, models


def fill_flags(apps, schema_editor):
    """
    One statement (a migration keeps its own copy: ``records/coach_flags.py`` may change later). On
    MariaDB the assignments are named by their (course, learner) index, or each row reads every
    assignment of its course.
    """
    connection = schema_editor.connection
    status = connection.ops.quote_name(apps.get_model("miiwrap_fidelity", "LearnerStatus")._meta.db_table)
    assignment = connection.ops.quote_name(apps.get_model("miiwrap_fidelity", "CoachAssignment")._meta.db_table)
    hint = " FORCE INDEX (mwf_assign_learner)" if connection.vendor == "mysql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {status} SET has_coach = %s WHERE EXISTS (SELECT 1 FROM {assignment} a{hint} "
                       f"WHERE a.course_key = {status}.course_key AND a.learner_id = {status}.learner_id)", [True])


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
