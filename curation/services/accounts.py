from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction


from curation.roles import CAPABILITIES, ROLES


def roles_ensure() -> None:
    for name in (*ROLES, *CAPABILITIES):
        Group.objects.get_or_create(name=name)


@transaction.atomic
def demo_user_ensure(*, username: str, password: str, role: str = "curator") -> bool:
    """Create (or reset) the demo account with the given role; returns True when newly created."""
    user, created = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return created
