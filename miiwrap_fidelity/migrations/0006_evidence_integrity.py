"""Evidence integrity (ADR 0006): audit chain head, certificate request lease, re-evaluation heartbeat,
one co-rating per rater and session, evidence kept when a user is deleted."""

import miiwrap_fidelity.records.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('miiwrap_fidelity', '0005_learner_left_course'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_id', models.BigIntegerField(blank=True, null=True)),
                ('last_hash', models.CharField(max_length=64)),
                ('count', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='certification',
            name='certificate_attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='certification',
            name='certificate_confirmed_at',
            field=models.DateTimeField(blank=True, help_text='When the platform answered the certificate request.', null=True),
        ),
        migrations.AddField(
            model_name='certification',
            name='certificate_outcome',
            field=models.CharField(blank=True, help_text="The platform's answer: requested, prevented or revoked.", max_length=32),
        ),
        migrations.AddField(
            model_name='coursereevaluation',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life of the running job.', null=True),
        ),
        migrations.AlterField(
            model_name='certification',
            name='certificate_requested_at',
            field=models.DateTimeField(blank=True, help_text='When a worker claimed the certificate request (a lease until confirmed).', null=True),
        ),
        migrations.AlterField(
            model_name='certification',
            name='learner',
            field=models.ForeignKey(on_delete=miiwrap_fidelity.records.models.keep_evidence, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='observation',
            name='learner',
            field=models.ForeignKey(on_delete=miiwrap_fidelity.records.models.keep_evidence, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='observation',
            name='observer',
            field=models.ForeignKey(on_delete=miiwrap_fidelity.records.models.keep_evidence, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='signoff',
            name='actor',
            field=models.ForeignKey(on_delete=miiwrap_fidelity.records.models.keep_evidence, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='signoff',
            name='learner',
            field=models.ForeignKey(on_delete=miiwrap_fidelity.records.models.keep_evidence, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='observation',
            constraint=models.UniqueConstraint(fields=('co_observation_of', 'observer'), name='mwf_one_co_rating_per_rater'),
        ),
    ]


def seed_chain_head(apps, schema_editor):
    """The head row, describing the chain as it is (verify_audit_chain checks the chain itself)."""
    AuditEvent = apps.get_model("miiwrap_fidelity", "AuditEvent")
    AuditChainHead = apps.get_model("miiwrap_fidelity", "AuditChainHead")
    last = AuditEvent.objects.order_by("-id").values("id", "hash").first()
    AuditChainHead.objects.update_or_create(pk=1, defaults={
        "last_id": last["id"] if last else None, "last_hash": last["hash"] if last else "0" * 64,
        "count": AuditEvent.objects.count()})


def confirm_earlier_requests(apps, schema_editor):
    """Requests claimed before leases existed were made (a failure released the claim): not re-sent."""
    Certification = apps.get_model("miiwrap_fidelity", "Certification")
    Certification.objects.filter(certificate_requested_at__isnull=False).update(
        certificate_confirmed_at=models.F("certificate_requested_at"), certificate_outcome="requested",
        certificate_attempts=1)


Migration.operations += [
    migrations.RunPython(seed_chain_head, migrations.RunPython.noop),
    migrations.RunPython(confirm_earlier_requests, migrations.RunPython.noop),
]
