"""Analyst overrides: a value an analyst sets is ANALYST and no re-run ever replaces it.

The value it replaced (with its source) goes to the audit log and is kept in the row's details,
so ``clear_override`` can put the computed value back without a new run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import Role, RoleAttribute, SourceType
from jobforge.errors import JobForgeError
from jobforge.imputation.attributes import is_empty_value, project_attribute_names, snapshot, write_value
from jobforge.review.audit import record

AUDIT_ENTITY = "attribute"


class OverrideError(JobForgeError, ValueError):
    """The override cannot be applied; the message says why."""


def _cell(session: Session, role_id: int, name: str) -> tuple[Role, RoleAttribute | None]:
    role = session.get(Role, role_id)
    if role is None:
        raise OverrideError(f"No role with id {role_id}.")
    attribute = session.scalar(
        select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name)
    )
    return role, attribute


def set_attribute(session: Session, role_id: int, name: str, value: str, user: str) -> RoleAttribute:
    """Make ``value`` the role's ANALYST value for attribute ``name`` (audit event with before/after).

    The caller commits (the audit event is part of the same change).
    """
    text = "" if value is None else str(value).strip()
    if is_empty_value(text):
        raise OverrideError("An override needs a value; use clear_override to go back to the computed value.")
    role, current = _cell(session, role_id, name)
    require(session, user, Permission.PROJECT_WRITE, role.project_id)
    if current is None and name not in project_attribute_names(session, role.project_id):
        raise OverrideError(f"The project has no attribute {name!r}.")
    before = snapshot(current)
    if current is not None and current.source_type == SourceType.ANALYST:
        replaced = (current.details or {}).get("replaced")  # keep the computed value from the first override
    else:
        replaced = before
    attribute, _changed = write_value(
        session,
        role_id,
        name,
        current,
        value=text,
        source_type=SourceType.ANALYST,
        confidence=None,
        rationale=f"Set by {user}.",
        details={"replaced": replaced} if replaced else {},
        updated_by=user,
    )
    session.flush()
    record(
        session,
        user,
        "set_attribute",
        AUDIT_ENTITY,
        entity_id=attribute.id,
        project_id=role.project_id,
        before=before,
        after=snapshot(attribute),
    )
    return attribute


def clear_override(session: Session, role_id: int, name: str, user: str) -> RoleAttribute | None:
    """Drop the analyst's value and restore the value it replaced (empty when there was none).

    Returns the row, or None when there was no override to clear. The next imputation run
    recomputes the restored value if its evidence has changed meanwhile.
    """
    role, current = _cell(session, role_id, name)
    require(session, user, Permission.PROJECT_WRITE, role.project_id)
    if current is None or current.source_type != SourceType.ANALYST:
        return None
    before = snapshot(current)
    replaced = (current.details or {}).get("replaced") or {}
    keep = replaced if replaced.get("source_type") != SourceType.ANALYST else {}
    write_value(
        session,
        role_id,
        name,
        current,
        value=keep.get("value"),
        source_type=keep.get("source_type") if not is_empty_value(keep.get("value")) else None,
        confidence=keep.get("confidence"),
        rationale=keep.get("rationale"),
        model_used=keep.get("model_used"),
        donor=keep.get("donor"),
        details=keep.get("details") or {},
        updated_by=user,
    )
    session.flush()
    record(
        session,
        user,
        "clear_attribute_override",
        AUDIT_ENTITY,
        entity_id=current.id,
        project_id=role.project_id,
        before=before,
        after=snapshot(current),
    )
    return current
