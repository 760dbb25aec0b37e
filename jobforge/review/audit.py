"""The audit log: who changed what, when, with before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jobforge.db.models import AuditEvent


def record(
    session: Session,
    user: str,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    project_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it describes)."""
    event = AuditEvent(
        user=user or "unknown",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        project_id=project_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event
