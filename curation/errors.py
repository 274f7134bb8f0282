"""The one base class of the errors services raise for a request they cannot serve.

A view or command never needs to know each service's error: the API's exception handler maps
`DomainError` once (curation/api/exceptions.py) — a `FieldError` to 400 naming the field, a
`ConflictError` to 409, any other to 400 — and commands print the message. Pure Python.

`error_explain` turns a message recorded from an exception (a run's errors, a problem's stage
errors) into words for a page, keeping the raw text as technical detail.
"""
from __future__ import annotations

import re


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


# --- messages recorded from exceptions (run errors, Problem.stage_errors) -----------------------

# Exception names a stage may record, in words a curator can act on. The raw text stays visible
# under "technical detail"; it is never the only thing shown. Domain errors (DifficultyError,
# LLMNotConfigured, ...) already speak plainly: their own message is the reason.
_EXPLAINED = {
    "IntegrityError": "the database refused the change (a duplicate row, or a value out of range); the problem was left as it was",
    "DataError": "a value did not fit its database column; the problem was left as it was",
    "OperationalError": "the database was busy or unreachable; retrying the stage usually works",
    "TimeoutError": "the work took too long and was stopped",
    "ConnectionError": "the model endpoint could not be reached",
    "JSONDecodeError": "a stored value was not valid JSON",
    "KeyError": "an expected field was missing from the problem's data",
    "TypeError": "a field of the problem had the wrong type",
    "ZeroDivisionError": "a pass rate was computed from zero samples",
    "MemoryError": "the work ran out of memory",
}
_EXC_RE = re.compile(r"^(?:[\w.]+\.)?([A-Z]\w*(?:Error|Exception|Exceeded|Timeout|NotConfigured))\s*:\s*(.*)$", re.S)


def error_explain(message: str) -> tuple[str, str]:
    """(reason in plain words, technical detail or ""). Messages that already are plain words
    (domain errors, verdicts) are kept as they are."""
    text = " ".join(str(message or "").split())
    match = _EXC_RE.match(text)
    if not match:
        return text or "unknown error", ""
    name, rest = match.groups()
    explained = _EXPLAINED.get(name)
    if explained:
        return explained[0].upper() + explained[1:], text
    # Another exception type: its message, with the class name kept as detail only.
    return (rest or f"an unexpected {name}"), text
