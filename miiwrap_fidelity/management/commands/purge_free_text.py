"""Retention: blank observation free text (notes and feedback) older than N months. Dry run unless --apply."""
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = ("Blank the free text of observations of practice older than --months months (scores and ratings "
            "stay, so aggregates are unchanged). Shows what it would do unless --apply is given.")

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, required=True, help="retention period in months (>= 1)")
        parser.add_argument("--apply", action="store_true", help="really blank the text (default: dry run)")

    def handle(self, *args, **options):
        months = options["months"]
        if months < 1 or months > 1200:
            raise CommandError("--months must be between 1 and 1200.")
        cutoff = api.retention_cutoff(months)
        observations, ratings = api.purge_free_text(cutoff, apply=options["apply"])
        verb = "Blanked" if options["apply"] else "Would blank"
        self.stdout.write(f"{verb} the free text of {observations} observations and {ratings} indicator ratings "
                          f"of practice before {cutoff.isoformat()}.")
        if not options["apply"]:
            self.stdout.write("Dry run: nothing changed. Run again with --apply to do it.")
