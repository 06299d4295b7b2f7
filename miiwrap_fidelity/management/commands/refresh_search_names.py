"""Fold every status row's username and current full name into the learner list's search keys."""
from django.core.management.base import BaseCommand

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = ("Keep the learner list's search by name current now (the daily task does the same), e.g. after "
            "importing names into profiles. Reads the rows in pages (flat memory).")

    def handle(self, *args, **options):
        changed = api.refresh_search_names()
        self.stdout.write(self.style.SUCCESS(f"Search keys of {changed} status rows brought up to date."))
