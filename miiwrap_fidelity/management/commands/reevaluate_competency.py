"""Recompute learners' stored competency status (after a policy change, or on a schedule)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = "Re-evaluate every learner with records in a course, printing progress."

    def add_arguments(self, parser):
        parser.add_argument("course_key")
        parser.add_argument("--resume", action="store_true",
                            help="Continue the course's last run from where it stopped (its heartbeat went silent).")

    def handle(self, *args, **options):
        def progress(done, total):
            if done % 100 == 0 or done == total:
                self.stdout.write(f"{done}/{total} learners re-evaluated")

        try:
            total = api.reevaluate_course(options["course_key"], progress, resume=options["resume"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Re-evaluated {total} learners in {options['course_key']}."))
