"""Role checks for the API: viewer < curator < adjudicator < admin (Django groups)."""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from curation.roles import user_has_role


class RolePermission(BasePermission):
    """Reads need `view.read_role` (viewer by default), writes `view.write_role` (curator)."""

    message = "You do not have the role this action needs."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            role = getattr(view, "read_role", "viewer")
        else:
            role = getattr(view, "write_role", "curator")
        if not user_has_role(request.user, role):
            self.message = f"This action needs the {role} role."
            return False
        return True
