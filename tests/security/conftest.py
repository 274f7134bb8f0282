import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache

from curation.services.accounts import roles_ensure


@pytest.fixture(autouse=True)
def _fast_hasher_and_fresh_throttles(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # throttle counters live in the cache; every test starts from zero
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    def make(username: str, role: str | None = "curator", **fields):
        roles_ensure()
        user = get_user_model().objects.create_user(username=username, password="pw-" + username, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make
