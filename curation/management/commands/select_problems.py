import json

from curation.management.stage_command import StageCommand
from curation.services.selection import selection_preview


class Command(StageCommand):
    help = "Select problems by calibrated pass rate: --preview shows what a policy keeps; otherwise apply it."
    stage = "select"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--name", default="")
        parser.add_argument("--policy", choices=["target_easy_share", "cutoff"], default="target_easy_share")
        parser.add_argument("--target-easy-share", type=float, default=0.2)
        parser.add_argument("--max-pass-rate", type=float, default=0.8)
        parser.add_argument("--preview", action="store_true", help="print what the policy keeps; store nothing")

    def stage_params(self, options) -> dict:
        return {"name": options["name"], "policy": options["policy"],
                "target_easy_share": options["target_easy_share"], "max_pass_rate": options["max_pass_rate"]}

    def handle(self, *args, **options):
        if options["preview"]:
            preview = selection_preview(self.stage_params(options))
            self.stdout.write(json.dumps(preview, indent=2))
            return
        super().handle(*args, **options)
