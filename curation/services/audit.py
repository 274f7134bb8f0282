from __future__ import annotations

from typing import Any

from curation.models import AuditEvent


def audit_event_record(*, actor, action: str, target: Any, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Called inside the caller's transaction, so the audit row commits or rolls back with the action.

    `target` is a model instance, or a plain value (a benchmark name, a file path) for actions
    that act on no single row; a long value is kept whole in `after["target"]`.
    """
    target_id = str(getattr(target, "pk", target))
    after = dict(after or {})
    if len(target_id) > 64:
        after.setdefault("target", target_id)
        target_id = target_id[:61] + "..."
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=type(target).__name__,
        target_id=target_id,
        before=before or {},
        after=after,
    )
