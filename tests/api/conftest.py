"""Fixtures for the API tests: one user per role (plus a role-less one), token clients, problems."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.services import api_token_create
from curation.models import Problem, ReferenceSolution, Source, TestCase
from curation.roles import ROLES
from curation.services.accounts import roles_ensure


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing at full strength costs seconds per user on a small machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db):
    roles_ensure()
    out = {}
    User = get_user_model()
    for role in ROLES:
        user = User.objects.create_user(f"{role}_user", password="pw-" + role)
        user.groups.add(Group.objects.get(name=role))
        out[role] = user
    out["nobody"] = User.objects.create_user("nobody_user", password="pw-nobody")
    return out


@pytest.fixture
def api(users):
    """api("curator") → an APIClient authenticated by that user's token; api("anon") → none."""

    raw_tokens: dict[str, str] = {}

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anon":
            if role not in raw_tokens:
                _token, raw_tokens[role] = api_token_create(user=users[role], name="tests", expires_in_days=1)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_tokens[role]}")
        return client

    return make


def make_problem(
    external_id: str = "p1",
    *,
    source: str = "testsrc",
    n_tests: int = 3,
    contest_date: dt.date | None = dt.date(2024, 3, 1),
    bucket: str = "medium",
    **fields,
) -> Problem:
    src, _ = Source.objects.get_or_create(name=source, defaults={"license": "MIT"})
    defaults = dict(
        title=f"Problem {external_id}",
        statement=f"Given numbers, print the sum. ({external_id})",
        platform="codeforces",
        contest_id="100",
        problem_index="A",
        contest_date=contest_date,
        format_instruction="Read from stdin, write to stdout.",
        content_hash=hashlib.sha256(external_id.encode()).hexdigest(),
        score_algorithmic_thinking=5, score_implementation=4, score_mathematics=3,
        score_data_structures=2, score_edge_cases=6, weighted_score=4.2, calibrated_pass_rate=0.5,
        bucket=bucket, review_status="accepted", verification_status="verified",
        comparison={"mode": "tokens"},
    )
    defaults.update(fields)
    problem = Problem.objects.create(source=src, external_id=external_id, **defaults)
    for i in range(n_tests):
        TestCase.objects.create(
            problem=problem, ordinal=i, input=f"{i} {i + 1}\n", output=f"{2 * i + 1}\n",
            kind="sample" if i == 0 else "hidden", is_training=True,
        )
    # One test the hygiene step left out of training: snapshots must not carry it.
    TestCase.objects.create(problem=problem, ordinal=n_tests, input="big\n", output="x\n", kind="generated", is_training=False)
    ReferenceSolution.objects.create(problem=problem, ordinal=0, code="a, b = map(int, input().split())\nprint(a + b)\n")
    ReferenceSolution.objects.create(problem=problem, ordinal=1, code="print(0)\n", is_correct=False)
    return problem


@pytest.fixture
def problems(db):
    return [
        make_problem("p1", bucket="easy", contest_date=dt.date(2023, 5, 1)),
        make_problem("p2", bucket="medium", contest_date=dt.date(2024, 6, 1)),
        make_problem("p3", bucket="hard", contest_date=None, platform="atcoder"),
        make_problem("f1", source="leet", io_format="functional", function_name="twoSum",
                     starter_code="class Solution:\n    def twoSum(self, nums, target):\n", bucket="hard",
                     contest_date=dt.date(2024, 8, 4), platform="leetcode"),
    ]
