from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = "Fit the calibration (weighted score → expected pass rate) and re-bucket every scored problem."
    stage = "calibrate"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--method", choices=["isotonic", "logistic"], default="isotonic")
        parser.add_argument("--refit-weights", action="store_true", help="refit the five weights for rank agreement")

    def stage_params(self, options) -> dict:
        return {"method": options["method"], "refit_weights": options["refit_weights"]}
