from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = "Verify problems: run every reference solution on its tests in the sandbox and classify."
    stage = "verify"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--parallel", type=int, default=None, help="problems judged at once (default: cores)")

    def stage_params(self, options) -> dict:
        return {"parallel": options["parallel"]} if options.get("parallel") else {}
