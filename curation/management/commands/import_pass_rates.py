import json

from django.core.management.base import BaseCommand, CommandError

from curation.difficulty.passrate import GradedResultsError
from curation.services.pass_rates import pass_rates_import


class Command(BaseCommand):
    help = "Import graded results (LiveCodeBench style: question_id + graded_list per model) as pass rates."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--model", default=None, help="model name when the file does not carry one")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, path, model, as_json, **options):
        try:
            summary = pass_rates_import(path=path, model=model)
        except (GradedResultsError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary, indent=2) if as_json else
                          f"{summary['matched']} of {summary['results']} results matched a problem; {summary['measurements']} measurements stored")
