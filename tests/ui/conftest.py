import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from curation.models import Problem, Source
from curation.services.accounts import roles_ensure

_counter = itertools.count(1)


@pytest.fixture
def make_user(db):
    def make(username: str, role: str | None = "curator"):
        roles_ensure()
        user = get_user_model().objects.create_user(username=username, password="pw-" + username)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def users(make_user):
    return {
        "none": make_user("norole", None),
        "viewer": make_user("viewer", "viewer"),
        "curator": make_user("curator", "curator"),
        "curator2": make_user("curator2", "curator"),
        "adjudicator": make_user("adjudicator", "adjudicator"),
        "admin": make_user("admin", "admin"),
    }


@pytest.fixture
def source(db):
    return Source.objects.get_or_create(name="testsrc")[0]


@pytest.fixture
def make_problem(source):
    def make(**kwargs):
        n = next(_counter)
        defaults = {
            "source": source,
            "external_id": f"p{n}",
            "title": f"Problem {n}",
            "statement": f"Statement {n}: compute $a_i + b_i$.",
            "content_hash": f"h{n}",
            "platform": "codeforces",
        }
        scores = kwargs.pop("scores", None)
        if scores is not None:
            for dim, value in zip(
                ("algorithmic_thinking", "implementation", "mathematics", "data_structures", "edge_cases"), scores
            ):
                defaults[f"score_{dim}"] = value
        defaults.update(kwargs)
        return Problem.objects.create(**defaults)

    return make


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
