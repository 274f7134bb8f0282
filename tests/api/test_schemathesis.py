"""Schemathesis over the OpenAPI schema: every GET operation, as an admin with a token, against
the WSGI app. No 5xx, and every response (status code, content type, body) matches the schema."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from accounts.services import api_token_create
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from .objects import seed_everything

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_test_connection():
    """Django's test client keeps the test transaction's connection open across requests; a bare
    WSGI app would close it when each request finishes. Do what the test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(users, problems, keep_test_connection):
    ids = seed_everything(users, problems)
    _token, raw = api_token_create(user=users["admin"], name="schemathesis", expires_in_days=1)
    return ids, {"Authorization": f"Bearer {raw}"}


# Loaded at collection (the schema view needs no database). schemathesis' lazy
# `from_fixture` loader does not work with pytest 9 (it reads the removed `Item._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application()).include(method="GET")


@pytest.fixture
def api_schema():
    return schema


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_get_operations_conform(case, seeded):
    _, headers = seeded
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.django_db
def test_every_get_operation_on_real_objects_conforms(api_schema, seeded):
    """Random ids mostly hit 404s: also call each operation on the seeded objects."""
    ids, headers = seeded
    checked = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        path = operation.path
        resource = path.split("/")[3] if path.count("/") > 3 else ""
        path_parameters = {"id": ids[resource]} if "{id}" in path else {}
        query = {"other": ids["snapshots"]} if path.endswith("/diff/") else {}
        if path.endswith("/checkpoint-curve/"):
            query = {"training_run": ids["training-runs"]}
        if path.endswith("/evaluations/compare/"):
            query = {"runs": [ids["evaluations"], ids["evaluations-other"]]}
        case = operation.Case(path_parameters=path_parameters, query=query)
        response = case.call(headers=headers)
        assert response.status_code in (200,), (path, response.status_code, response.text[:300])
        case.validate_response(response, checks=CHECKS)
        checked += 1
    assert checked >= 25
