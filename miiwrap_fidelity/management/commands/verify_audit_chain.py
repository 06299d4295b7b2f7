"""Check the audit log's hash chain and report the first broken link."""
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import audit
from miiwrap_fidelity.models import AuditEvent


class Command(BaseCommand):
    help = "Verify that no audit event was changed, removed or inserted (exit status 1 when broken)."

    def handle(self, *args, **options):
        broken = audit.first_broken_link()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at event {broken.pk} ({broken.action} {broken.object_type}:{broken.object_id}, "
                f"{broken.created_at.isoformat()}): its hash or its link to the previous event does not match."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {AuditEvent.objects.count()} events."))
