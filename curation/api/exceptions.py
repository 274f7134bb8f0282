"""JSON errors everywhere under /api/v1/: `{"detail": ..., "message": ...}` for 401/403/404/405/409,
`{"<field>": [...], "message": "<field>: ..."}` for validation errors."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from curation.errors import DomainError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource changed or is not in the right state for this request."
    default_code = "conflict"


def field_error(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


def _first_message(data, prefix: str = "") -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("message",):
                continue
            name = key if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            if key == "detail" and not prefix:
                return _first_message(value)
            inner = _first_message(value, "" if key == "non_field_errors" else name)
            if key == "non_field_errors" or isinstance(value, dict):
                return inner
            return f"{name}: {inner}"
        return ""
    if isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, (dict, list)):
                return _first_message(value, f"{prefix}[{i}]" if prefix else "")
            return str(value)
        return ""
    return str(data)


def api_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DomainError):
        # Every service error, mapped here once: 409 for conflicts, else 400 naming the field.
        if exc.http_status == status.HTTP_409_CONFLICT:
            exc = Conflict(str(exc))
        elif exc.field:
            exc = field_error(exc.field, exc.message)
        else:
            exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict):
        response.data = {**data, "message": _first_message(data)}
    else:
        response.data = {"detail": data, "message": _first_message(data)}
    return response


class JsonErrorsMixin:
    """Views under /api/v1/ use the JSON exception handler (without a global settings change)."""

    def get_exception_handler(self):
        return api_exception_handler


def api_not_found(request, path: str = ""):
    """Catch-all for unknown /api/v1/ paths: a JSON 404 instead of Django's HTML page."""
    detail = f"No API endpoint at /api/v1/{path}."
    if path and not path.endswith("/"):
        detail += " API paths end with a slash."
    return JsonResponse({"detail": detail, "message": detail}, status=404)


__all__ = ["Conflict", "api_exception_handler", "api_not_found", "field_error", "JsonErrorsMixin"]
