"""API rate limits (DRF throttles). Rates are read from settings on every request."""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    setting_name = ""

    def get_rate(self):
        return getattr(settings, self.setting_name)

    def __init__(self):  # the base class reads the rate at construction; do it per request
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class ApiTokenRateThrottle(_SettingsRateThrottle):
    """One bucket per API token (API_TOKEN_RATE); session users per user, anonymous per address."""

    scope = "api"
    setting_name = "API_TOKEN_RATE"

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            ident = f"token-{auth.digest}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenCreateThrottle(_SettingsRateThrottle):
    """Token creation (API and workspace): API_TOKEN_CREATE_RATE per user (per address and
    username for password logins)."""

    scope = "token-create"
    setting_name = "API_TOKEN_CREATE_RATE"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            # Per address *and* username: behind a proxy every caller has the proxy's address, and
            # one busy script must not use up everyone's allowance. Guessing is django-axes' job.
            data = getattr(request, "data", None)
            username = str(data.get("username", ""))[:150] if hasattr(data, "get") else ""
            ident = f"addr-{self.get_ident(request)}-{username}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def token_create_allowed(request) -> tuple[bool, float | None]:
    """For the workspace page (a plain Django view): (allowed, seconds to wait)."""
    throttle = TokenCreateThrottle()
    if throttle.allow_request(request, None):
        return True, None
    return False, throttle.wait()
