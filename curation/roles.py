"""Roles are Django groups — viewer < curator < adjudicator < admin — and each includes the ones
before it. Views (`role_required`) and the API (`HasRole`) check them the same way.

Capabilities are groups outside the ladder that grant one thing: `trainer` may spend compute
(launch, cancel and retry training runs). Admins hold every capability; a capability holder
can at least view."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

ROLES = ("viewer", "curator", "adjudicator", "admin")
CAPABILITIES = ("trainer",)


def user_role_level(user) -> int:
    """-1 for anonymous or role-less users; otherwise the index of the highest role held."""
    if not getattr(user, "is_authenticated", False):
        return -1
    if user.is_superuser:
        return len(ROLES) - 1
    cached = getattr(user, "_microcoder_role_level", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = max((i for i, role in enumerate(ROLES) if role in names), default=-1)
        if cached < 0 and names & set(CAPABILITIES):
            cached = 0  # a capability holder can at least view
        user._microcoder_role_level = cached
        user._microcoder_capabilities = names & set(CAPABILITIES)
    return cached


def user_has_role(user, role: str) -> bool:
    if role in CAPABILITIES:
        level = user_role_level(user)
        if level == len(ROLES) - 1:
            return True
        if level < 0:
            return False
        if getattr(user, "_microcoder_capabilities", None) is None:
            user._microcoder_capabilities = set(user.groups.values_list("name", flat=True)) & set(CAPABILITIES)
        return role in user._microcoder_capabilities
    return user_role_level(user) >= ROLES.index(role)


def role_required(role: str):
    """View decorator: anonymous users go to the login page, users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, role):
                raise PermissionDenied(f"this needs the {role} role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
