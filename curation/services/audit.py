from __future__ import annotations

from typing import Any

from curation.models import AuditEvent


def audit_event_record(*, actor, action: str, target: Any, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Called inside the caller's transaction, so the audit row commits or rolls back with the action."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=type(target).__name__,
        target_id=str(getattr(target, "pk", target)),
        before=before or {},
        after=after or {},
    )
