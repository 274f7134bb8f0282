"""drf-spectacular: every operation documents its JSON error responses, so the schema is exact."""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """An error: `message` always; `detail` for non-validation errors; one key per bad field
    (a list of messages) for validation errors."""

    message = serializers.CharField()
    detail = serializers.CharField(required=False)


ERROR_CODES = {
    "400": "Invalid input; the message names the field.",
    "401": "Not authenticated.",
    "403": "The user lacks the role this action needs.",
    "404": "Not found (or an invalid cursor).",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = dict(ERROR_CODES)
        if self.method in ("PATCH", "PUT", "POST", "DELETE"):
            codes["409"] = "Conflict: stale version or immutable resource."
        for code, description in codes.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                body["description"] = description
                responses[code] = body
        return responses
