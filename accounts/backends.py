"""django-axes' lockout check, for logins that come with a request."""
from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """Every login from the web (login page, admin, API token endpoint) passes its request and
    is checked. `authenticate()` without a request comes from code — management commands, the
    test client — where there is nobody to throttle, so it is let through to ModelBackend
    instead of failing as AxesStandaloneBackend does."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
