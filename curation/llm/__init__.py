"""The one way to talk to a model.

- `client`: `LLMClient` / `LLMConfig` — OpenAI-compatible transport, concurrency limit, retries
  honouring Retry-After, JSON-schema output with fallback, n samples (topped up when the endpoint
  ignores n), token accounting, a per-sample cache interface. Pure Python.
- `prompts`: the format instructions and the solve prompt. Pure Python (exports import it).
- `conf`: `llm_config(params)` — Django settings (LLM_*) + per-run overrides -> LLMConfig.

Nothing is imported here, so `curation.llm.prompts` stays light (no openai import).
"""
