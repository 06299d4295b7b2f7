"""Check the audit log's hash chain and its head, and report every break with its event id."""
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = ("Verify that no audit event was changed, removed (also the newest), inserted or rewritten; lists every "
            "break and exits with status 1 when there is one. Reads the chain in pages (flat memory).")

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true",
                            help="Once, after setting MIIWRAP_FIDELITY_AUDIT_HMAC_KEY on a site with events: re-hash the "
                                 "intact chain with the key (refused, changing nothing, if it does not verify).")

    def handle(self, *args, **options):
        if options["seal"]:
            try:
                sealed = api.seal_audit_chain()
            except api.AuditSealRefused as exc:
                raise CommandError(f"Not sealed: {exc}") from exc
            self.stdout.write(f"Sealed {sealed} events with the HMAC key.")
        report = api.verify_audit_chain()
        if report.intact:
            sealed = " (HMAC-sealed)" if api.audit_chain_sealed() else ""
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact{sealed}: {report.events} events."))
            return
        lines = [f"Audit chain broken at {_where(item)} ({item.kind}): {item.detail}." for item in report.breaks]
        for line in lines[1:]:
            self.stderr.write(line)
        unlisted = report.break_count - len(report.breaks)
        more = f", {unlisted} of them not listed" if unlisted else ""
        raise CommandError(f"{lines[0]} {report.break_count} breaks in {report.events} events{more}.")


def _where(item):
    return f"event {item.event_id}" if item.event_id is not None else "the chain head"
