import json

from curation.management.stage_command import StageCommand
from curation.services.selection import selection_preview


class Command(StageCommand):
    # Help text and flags come from the stage map (curation/pipeline.py: Stage.description, .options).
    stage = "select"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--preview", action="store_true", help="print what the policy keeps; store nothing")

    def handle(self, *args, **options):
        if options["preview"]:
            preview = selection_preview(self.stage_params(options))
            self.stdout.write(json.dumps(preview, indent=2))
            return
        super().handle(*args, **options)
