import json

from django.core.management.base import BaseCommand, CommandError

from curation.difficulty.passrate import GradedResultsError
from curation.management.stage_command import stage_options_add
from curation.pipeline import BY_NAME
from curation.services.pass_rates import pass_rates_import


class Command(BaseCommand):
    # Runs inline (a file on this machine); the pipeline page's upload runs the same import as a
    # `pass_rates` StageRun. Help and --model come from that stage's entry in the map.
    help = BY_NAME["pass_rates"].description

    def add_arguments(self, parser):
        parser.add_argument("path")
        stage_options_add(parser, BY_NAME["pass_rates"])
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, path, model, as_json, **options):
        try:
            summary = pass_rates_import(path=path, model=model)
        except (GradedResultsError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary, indent=2) if as_json else
                          f"{summary['matched']} of {summary['results']} results matched a problem; {summary['measurements']} measurements stored")
