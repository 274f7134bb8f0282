"""The one base class of the errors services raise for a request they cannot serve.

A view or command never needs to know each service's error: the API's exception handler maps
`DomainError` once (curation/api/exceptions.py) — a `FieldError` to 400 naming the field, a
`ConflictError` to 409, any other to 400 — and commands print the message. Pure Python.
"""
from __future__ import annotations


class DomainError(ValueError):
    """Bad input or a wrong state, said in words fit for the user."""

    http_status = 400
    field: str | None = None

    @property
    def message(self) -> str:
        return str(self)


class FieldError(DomainError):
    """Bad input; `field` names it (e.g. `filters.bucket`, `options.cutoff`, `tests[3]`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self._message = message

    @property
    def message(self) -> str:
        return self._message


class ConflictError(DomainError):
    """The target changed or is in a state that refuses the request (409)."""

    http_status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
