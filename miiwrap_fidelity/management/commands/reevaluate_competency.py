"""Recompute learners' stored competency status (after a policy change, an upgrade, or on a schedule)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = "Re-evaluate every learner with records in a course (or in every course with a policy), printing progress."

    def add_arguments(self, parser):
        parser.add_argument("course_key", nargs="?")
        parser.add_argument("--all", action="store_true",
                            help="Every course with an enabled policy (after an upgrade that changes stored status).")
        parser.add_argument("--resume", action="store_true",
                            help="Continue the course's last run from where it stopped (its heartbeat went silent).")

    def handle(self, *args, **options):
        if bool(options["course_key"]) == bool(options["all"]):
            raise CommandError("Name one course, or give --all (not both).")
        for course_key in api.courses_with_policy() if options["all"] else [options["course_key"]]:
            self._reevaluate(course_key, options["resume"])

    def _reevaluate(self, course_key, resume):
        def progress(done, total):
            if done % 100 == 0 or done == total:
                self.stdout.write(f"{course_key}: {done}/{total} learners re-evaluated")

        try:
            total = api.reevaluate_course(course_key, progress, resume=resume)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Re-evaluated {total} learners in {course_key}."))
