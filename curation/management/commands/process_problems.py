from curation.management.stage_command import StageCommand
from curation.pipeline import BY_NAME


class Command(StageCommand):
    help = "Process problems: normalise, extract samples, clean tests, dedup, decontaminate."
    stage = "process"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--step", choices=BY_NAME["process"].steps, default="", help="run one step (default: all, in order)")

    def stage_step(self, options) -> str:
        return options["step"]
