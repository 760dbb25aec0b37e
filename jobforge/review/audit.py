"""The audit log: who changed what, when, with before and after.

An event keeps only what changed: of a ``before``/``after`` pair, a key whose value is the same on
both sides is dropped, unless it says what the event is about (an id, a name, the O*NET code, a
version: :data:`CONTEXT_KEYS`). Keys on one side only (a bulk action's list of earlier states, an
undo's counts) are kept as they are, so undo still finds what it restores.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jobforge.db.models import AuditEvent

# Kept even when unchanged: without them an event cannot be read ("confirmed 13-2011.00").
CONTEXT_KEYS = frozenset({"id", "name", "onet_code", "version", "kind"})


def is_context_key(key: str) -> bool:
    return key in CONTEXT_KEYS or key.endswith("_id")


def changed_only(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``before`` and ``after`` without the keys whose value did not change (context keys stay).

    Either side None (a creation, a deletion) or not a dict: both returned as they are.
    """
    if not isinstance(before, dict) or not isinstance(after, dict):
        return before, after
    same = {key for key in before.keys() & after.keys() if before[key] == after[key] and not is_context_key(key)}
    return (
        {key: value for key, value in before.items() if key not in same},
        {key: value for key, value in after.items() if key not in same},
    )


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
    """Add an audit event to ``session`` (committed with the change it describes).

    ``before``/``after``: the states around the change; only changed keys (and context keys) are stored.
    """
    before, after = changed_only(before, after)
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
