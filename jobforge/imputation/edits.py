"""Analysts' edits of the attribute table: cells edited in place and one value set for many roles.

Each save is one transaction. Every edit carries the version of the cell the analyst saw
(``RoleAttribute.version``, None for a cell that had no stored row); when any cell has changed
since (a job filled it, another analyst edited it), nothing is saved and :class:`StaleCells` says
which. A value typed becomes the role's ANALYST value (:func:`~jobforge.imputation.overrides.set_attribute`,
audited with before and after); an emptied cell drops the analyst's value and the role's rows'
SOURCE summary is recomputed. Setting one value for many roles is also recorded as one
``bulk_set_attribute`` audit event listing the roles and what each held before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import Role, RoleAttribute, SourceType
from jobforge.errors import JobForgeError
from jobforge.imputation.attributes import is_empty_value, snapshot
from jobforge.imputation.overrides import AUDIT_ENTITY, OverrideError, clear_override, set_attribute
from jobforge.imputation.row_values import refresh_source_values
from jobforge.review.audit import record


@dataclass(frozen=True)
class CellEdit:
    """One cell as the analyst left it: ``value`` "" or None empties it; ``version`` as displayed."""

    role_id: int
    name: str
    value: str | None
    version: int | None


@dataclass
class SaveResult:
    saved: int = 0  # cells set to an analyst's value
    cleared: int = 0  # analysts' values dropped
    unchanged: int = 0  # edits that left the value as it was


class StaleCells(JobForgeError, ValueError):
    """Cells changed since they were shown; nothing was saved."""


def save_cells(
    session: Session, project_id: int, edits: Sequence[CellEdit], user: str, *, bulk: bool = False
) -> SaveResult:
    """Apply ``edits`` in one transaction (all or nothing); see the module doc.

    Raises :class:`StaleCells` when a cell's version differs from the one shown, and
    :class:`~jobforge.imputation.overrides.OverrideError` for an empty value where there is no
    analyst's value to drop or a role outside the project.
    """
    result = SaveResult()
    if not edits:
        return result
    with session.begin():
        require(session, user, Permission.PROJECT_WRITE, project_id)
        current = _lock(session, project_id, edits)
        stale = [edit for edit in edits if _version(current.get((edit.role_id, edit.name))) != edit.version]
        if stale:
            titles = dict(
                session.execute(select(Role.id, Role.title).where(Role.id.in_({e.role_id for e in stale})))
                .tuples()
                .all()
            )
            listed = ", ".join(f"{edit.name} of '{titles.get(edit.role_id, edit.role_id)}'" for edit in stale[:5])
            more = f" and {len(stale) - 5} more" if len(stale) > 5 else ""
            raise StaleCells(
                f"{listed}{more} changed since the table was shown (a job or another analyst); "
                "nothing was saved. Reload the table and edit again."
            )
        befores = {}
        for edit in edits:
            attribute = current.get((edit.role_id, edit.name))
            befores[edit.role_id] = snapshot(attribute)
            _apply(session, edit, attribute, user, result)
        if bulk:
            names = sorted({edit.name for edit in edits})
            values = sorted({(edit.value or "").strip() for edit in edits})
            record(
                session,
                user,
                "bulk_set_attribute",
                AUDIT_ENTITY,
                project_id=project_id,
                before={"cells": {str(role_id): before for role_id, before in befores.items()}},
                after={"names": names, "values": values, "role_ids": sorted(befores), "count": len(edits)},
            )
    return result


def bulk_set(
    session: Session,
    project_id: int,
    name: str,
    value: str,
    versions: dict[int, int | None],
    user: str,
) -> SaveResult:
    """Set ``name`` to ``value`` for the roles of ``versions`` (role id -> version shown), as one action."""
    if is_empty_value(value):
        raise OverrideError("Type the value to set for the selected roles.")
    edits = [CellEdit(role_id, name, value, version) for role_id, version in versions.items()]
    return save_cells(session, project_id, edits, user, bulk=True)


def _version(attribute: RoleAttribute | None) -> int | None:
    return attribute.version if attribute is not None else None


def _lock(session: Session, project_id: int, edits: Sequence[CellEdit]) -> dict[tuple[int, str], RoleAttribute]:
    """The cells' rows, locked for the transaction (Postgres); roles outside the project are refused."""
    role_ids = sorted({edit.role_id for edit in edits})
    found = set(session.scalars(select(Role.id).where(Role.id.in_(role_ids), Role.project_id == project_id)))
    missing = [role_id for role_id in role_ids if role_id not in found]
    if missing:
        raise OverrideError(f"Role {missing[0]} is not in this project.")
    keys = sorted({(edit.role_id, edit.name) for edit in edits})
    current: dict[tuple[int, str], RoleAttribute] = {}
    for start in range(0, len(keys), 500):
        rows = session.scalars(
            select(RoleAttribute)
            .where(tuple_(RoleAttribute.role_id, RoleAttribute.name).in_(keys[start : start + 500]))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for attribute in rows:
            current[(attribute.role_id, attribute.name)] = attribute
    return current


def _apply(session: Session, edit: CellEdit, attribute: RoleAttribute | None, user: str, result: SaveResult) -> None:
    text = "" if edit.value is None else str(edit.value).strip()
    if not text:
        if attribute is None or attribute.source_type != SourceType.ANALYST:
            raise OverrideError(
                f"{edit.name} cannot be emptied: only an analyst's value can be removed (type a value to override)."
            )
        clear_override(session, edit.role_id, edit.name, user)
        session.flush()
        refresh_source_values(session, [edit.role_id], user)
        _bump(session, edit.role_id, edit.name)
        result.cleared += 1
        return
    if attribute is not None and attribute.value == text and attribute.source_type == SourceType.ANALYST:
        result.unchanged += 1
        return
    set_attribute(session, edit.role_id, edit.name, text, user)
    session.flush()
    if attribute is not None:
        _bump(session, edit.role_id, edit.name)
    result.saved += 1


def _bump(session: Session, role_id: int, name: str) -> None:
    """Raise the cell's version: every write does, so a screen showing the old one is refused."""
    attribute = session.scalar(
        select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name)
    )
    if attribute is not None:
        attribute.version = (attribute.version or 1) + 1
        session.flush()
