from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = ("Synthesise output checkers with the configured LLM for problems that accept many answers "
            "(default: those verification found needing a checker or with inconsistent tests); each "
            "candidate is kept only if the sandbox shows it accepts every valid answer and rejects mutated ones.")
    stage = "checkers"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--approve-valid", action="store_true",
                            help="approve every candidate that validates (default: curators approve on the problem page)")

    def stage_params(self, options) -> dict:
        return {"approve_valid": True} if options.get("approve_valid") else {}
