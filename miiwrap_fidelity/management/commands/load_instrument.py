"""Import a fidelity instrument from a JSON or YAML file, reporting errors by line and field."""

from django.core.management.base import BaseCommand, CommandError

from miiwrap_fidelity import api

SAMPLE = api.SAMPLE_INSTRUMENT


class Command(BaseCommand):
    help = "Validate and import an observation instrument (JSON or YAML). Without a path, the sample."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=SAMPLE, help="instrument file (default: the sample)")
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        parser.add_argument("--all-samples", action="store_true",
                            help="import every shipped sample (practice rubric, MI coding, team meeting)")

    def handle(self, *args, **options):
        paths = api.SAMPLE_INSTRUMENTS if options["all_samples"] else (options["path"],)
        for path in paths:
            self._load(path, options)

    def _load(self, path, options):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            summary, created = api.import_instrument(text, dry_run=options["dry_run"])
        except api.InstrumentInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{len(exc.errors)} problem(s) in {path}; nothing was imported.") from exc
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"{path} is valid."))
        elif created:
            self.stdout.write(self.style.SUCCESS(
                f"Imported {summary['name']} with {summary['indicators']} indicators (version id {summary['id']})."
            ))
        else:
            self.stdout.write(f"Unchanged: {summary['name']} already holds this content (version id {summary['id']}).")
