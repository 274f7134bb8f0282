from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = "Predict the five difficulty dimensions (LLM endpoint or the offline features model)."
    stage = "predict"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--predictor", choices=["llm", "features"], default=None,
                            help="default: llm when LLM_BASE_URL and LLM_MODEL are set, else features")
        parser.add_argument("--base-url", default=None)
        parser.add_argument("--model", default=None)
        parser.add_argument("--temperature", type=float, default=None)
        parser.add_argument("--max-tokens", type=int, default=None)
        parser.add_argument("--request-timeout", type=float, default=None)
        parser.add_argument("--concurrency", type=int, default=None)

    def stage_params(self, options) -> dict:
        keys = {"predictor": "predictor", "base_url": "base_url", "model": "model", "temperature": "temperature",
                "max_tokens": "max_tokens", "request_timeout": "timeout", "concurrency": "concurrency"}
        # The API key never goes into the run row: it comes from settings (LLM_API_KEY).
        return {param: options[opt] for opt, param in keys.items() if options.get(opt) is not None}
