"""
Status rows only for enrolled learners: rows of users the platform does not list as enrolled are
removed (nothing recorded about them) or marked as having left. Dry run unless --apply.

Before reads stopped writing (ADR 0007), opening one's own status page created a row for anyone
signed in; this clears those rows once.
"""
from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api


class Command(BaseCommand):
    help = ("Remove the status rows of users who are not enrolled in the course and have nothing recorded there "
            "(mark the others as having left). Shows what it would do unless --apply is given.")

    def add_arguments(self, parser):
        parser.add_argument("course_id")
        parser.add_argument("--apply", action="store_true", help="really change the rows (default: dry run)")

    def handle(self, *args, **options):
        try:
            course_key = api.parse_course_key(options["course_id"])
        except api.ValidationError as exc:
            raise CommandError("Not a valid course id.") from exc
        if not options["apply"]:
            strays = api.stray_status_learners(course_key)
            self.stdout.write(f"Would reconcile {len(strays)} status rows of users not enrolled in {course_key}.")
            self.stdout.write("Dry run: nothing changed. Run again with --apply to do it.")
            return
        removed, marked = api.reconcile_enrollments(course_key)
        self.stdout.write(f"Removed {removed} status rows; marked {marked} as having left "
                          f"{course_key} (their records stay).")
