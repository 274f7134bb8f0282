"""LLMConfig from the Django settings (LLM_*), with per-run overrides (command flags, run params)."""
from __future__ import annotations

from curation.errors import DomainError
from .client import LLMConfig


class LLMNotConfigured(DomainError):
    """No endpoint or model: nothing to call."""


def llm_config(params: dict | None = None) -> LLMConfig:
    from django.conf import settings  # read at call time: tests override settings

    params = params or {}
    base_url = params.get("base_url") or settings.LLM_BASE_URL
    model = params.get("model") or settings.LLM_MODEL
    if not base_url or not model:
        raise LLMNotConfigured("no LLM endpoint configured: set LLM_BASE_URL and LLM_MODEL (or pass base_url/model)")
    return LLMConfig(
        base_url=base_url, model=model, api_key=params.get("api_key") or settings.LLM_API_KEY or "EMPTY",
        temperature=float(params.get("temperature", settings.LLM_TEMPERATURE)),
        max_tokens=int(params.get("max_tokens", settings.LLM_MAX_TOKENS)),
        timeout=float(params.get("timeout", settings.LLM_TIMEOUT)),
        concurrency=int(params.get("concurrency", settings.LLM_CONCURRENCY)),
    )
