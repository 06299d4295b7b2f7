"""Recompute learners' stored competency status (after a policy change, or on a schedule)."""
from django.core.management.base import BaseCommand, CommandError
from django.core.exceptions import ValidationError

from miiwrap_fidelity import api
from miiwrap_fidelity.models import LearnerStatus, Observation


class Command(BaseCommand):
    help = "Re-evaluate every learner with records in a course."

    def add_arguments(self, parser):
        parser.add_argument("course_key")

    def handle(self, *args, **options):
        try:
            course_key = api.parse_course_key(options["course_key"])
            if api.get_policy(course_key) is None:
                raise CommandError(f"{course_key} has no competency policy.")
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        learner_ids = set(Observation.objects.filter(course_key=course_key).values_list("learner_id", flat=True))
        learner_ids |= set(LearnerStatus.objects.filter(course_key=course_key).values_list("learner_id", flat=True))
        total = len(learner_ids)
        for done, learner_id in enumerate(sorted(learner_ids), start=1):
            api.reevaluate(learner_id, course_key)
            if done % 100 == 0 or done == total:
                self.stdout.write(f"{done}/{total} learners re-evaluated")
        self.stdout.write(self.style.SUCCESS(f"Re-evaluated {total} learners in {course_key}."))
