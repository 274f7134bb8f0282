"""Reads for accounts."""
from __future__ import annotations

from accounts.models import ApiToken


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
