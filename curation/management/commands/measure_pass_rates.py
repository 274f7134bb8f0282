from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = "Measure pass rates: k solutions per sampled problem from a reference model, judged in the sandbox."
    stage = "measure"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--k", type=int, default=4)
        parser.add_argument("--sample-size", type=int, default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--base-url", default=None)
        parser.add_argument("--model", default=None)
        parser.add_argument("--concurrency", type=int, default=None)

    def stage_params(self, options) -> dict:
        params = {"k": options["k"], "seed": options["seed"]}
        for key in ("sample_size", "base_url", "model", "concurrency"):
            if options.get(key) is not None:
                params[key] = options[key]
        return params
