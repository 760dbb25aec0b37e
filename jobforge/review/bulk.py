"""Deciding many roles at once: apply one code to every role matching a filter or search (or chosen).

:func:`preview_apply` says what would change (the titles and their row counts) and what is left
alone: roles an analyst already confirmed or overrode, unless the analyst ticks ``include_decided``.
:func:`apply_code` does it as one action, one transaction and ONE audit event (``bulk_apply``,
``entity_type`` "bulk_action", whose id is the action's id) listing every role's state before and
its version after. Each changed mapping is marked ``decided_in_bulk`` (kept out of calibration and
weighing less as precedent).

Undo works from the audit log on the server, so it survives a page reload or another browser:
:func:`last_bulk_action` finds the newest bulk action (this one or "confirm all HIGH") not undone
yet, and :func:`undo_bulk_action` restores every role nobody changed since (its version is still the
one the action left), skipping the others. Every write needs PROJECT_WRITE in the project; pass a
session with no transaction in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import AuditEvent, Mapping, MappingStatus, Role, utcnow
from jobforge.review import actions, audit
from jobforge.review.actions import ANALYST_SOURCE, BULK_ACTION, UNDO_BULK_ACTION, ReviewError, UndoResult

APPLY_ACTION = "bulk_apply"
BULK_KINDS = (APPLY_ACTION, BULK_ACTION)
CHUNK = 5000
# Mapping columns restored by an undo (besides status bookkeeping), as kept in the audit event.
RESTORED = (
    "onet_code",
    "onet_title",
    "status",
    "proposed_code",
    "proposed_tier",
    "confirmed_by",
    "confirmed_at",
    "decided_in_bulk",
    "release_id",
)


@dataclass
class PreviewRole:
    role_id: int
    title: str
    rows: int
    code: str | None  # its current code
    status: str  # proposed | confirmed | overridden | needs_info | unmapped


@dataclass
class BulkPreview:
    """What :func:`apply_code` would change, and what it leaves alone."""

    roles: list[PreviewRole]  # the roles that would get the code, most rows first
    left_decided: int = 0  # confirmed or overridden roles left alone (include_decided not ticked)
    already: int = 0  # roles already decided with this very code (nothing to change)

    @property
    def rows(self) -> int:
        return sum(role.rows for role in self.roles)


@dataclass
class BulkActionInfo:
    """A bulk action that can still be undone."""

    id: int
    kind: str  # bulk_apply | bulk_confirm
    user: str
    at: datetime
    count: int
    code: str | None = None  # the code applied (bulk_apply)
    role_ids: list[int] = field(default_factory=list)

    def describe(self, you: str | None = None) -> str:
        """ "applied 43-4051.00 to 3 role(s) at 17:20" (with the user's name unless it is ``you``)."""
        what = f"applied {self.code} to" if self.kind == APPLY_ACTION else "confirmed"
        who = "" if you == self.user else f"{self.user} "
        return f"{who}{what} {self.count:,} role(s) at {self.at:%H:%M}"


def _rows(session: Session, project_id: int, role_ids: Sequence[int]) -> list[Any]:
    ids = sorted({int(role_id) for role_id in role_ids})
    found: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        found += session.execute(
            select(
                Role.id, Role.title, Role.row_count, Mapping.id.label("mapping_id"), Mapping.onet_code, Mapping.status
            )
            .outerjoin(Mapping, Mapping.role_id == Role.id)
            .where(Role.project_id == project_id, Role.id.in_(ids[start : start + CHUNK]))
        ).all()
    return found


def preview_apply(
    session: Session, project_id: int, role_ids: Sequence[int], code: str | None = None, include_decided: bool = False
) -> BulkPreview:
    """The roles among ``role_ids`` (of the project) that applying ``code`` would change."""
    preview = BulkPreview(roles=[])
    for row in _rows(session, project_id, role_ids):
        decided = row.status in MappingStatus.ANALYST_OWNED
        if decided and code is not None and row.onet_code == code:
            preview.already += 1
            continue
        if decided and not include_decided:
            preview.left_decided += 1
            continue
        preview.roles.append(
            PreviewRole(row.id, row.title, int(row.row_count or 0), row.onet_code, row.status or "unmapped")
        )
    preview.roles.sort(key=lambda role: (-role.rows, role.title.casefold(), role.role_id))
    return preview


def _before(mapping: Mapping) -> dict[str, Any]:
    state = {name: getattr(mapping, name) for name in RESTORED}
    state["confirmed_at"] = _iso(mapping.confirmed_at)
    return {"mapping_id": mapping.id, "role_id": mapping.role_id, **state}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def apply_code(
    session: Session,
    project_id: int,
    role_ids: Sequence[int],
    code: str,
    user: str,
    *,
    include_decided: bool = False,
    described_as: str = "",
) -> BulkActionInfo:
    """Give every role of :func:`preview_apply` the occupation ``code``, as one undoable action.

    A role gets status CONFIRMED when ``code`` is what the machine proposed for it, else OVERRIDDEN;
    a role without a proposal gets an analyst mapping. ``described_as`` (the filter or search) is
    kept in the audit event. Raises ReviewError (unknown code, nothing to change), PermissionDenied.
    """
    with session.begin():
        require(session, user, Permission.PROJECT_WRITE, project_id)
        occupation = actions.resolve_code(session, code)
        preview = preview_apply(session, project_id, role_ids, occupation.code, include_decided)
        if not preview.roles:
            raise ReviewError(f"No role to change: every chosen role is already decided ({occupation.code} or other).")
        chosen = [role.role_id for role in preview.roles]
        mappings = {m.role_id: m for m in session.scalars(select(Mapping).where(Mapping.role_id.in_(chosen)))}
        now = utcnow()
        before: list[dict[str, Any]] = []
        created: list[int] = []
        for role_id in chosen:
            mapping = mappings.get(role_id)
            if mapping is None:
                mapping = Mapping(
                    role_id=role_id,
                    tier="HIGH",
                    score=0.95,
                    source=ANALYST_SOURCE,
                    candidates=[],
                    rationale=f"Chosen by {user} for many roles at once.",
                )
                session.add(mapping)
                created.append(role_id)
            else:
                before.append(_before(mapping))
                if mapping.source != ANALYST_SOURCE:  # remember the machine's proposal (as one-by-one actions do)
                    mapping.proposed_code = mapping.proposed_code or mapping.onet_code
                    mapping.proposed_tier = mapping.proposed_tier or mapping.tier
                mapping.version = (mapping.version or 1) + 1
            same = mapping.proposed_code is not None and occupation.code == mapping.proposed_code
            mapping.onet_code, mapping.onet_title = occupation.code, occupation.title
            mapping.release_id = occupation.release_id
            mapping.status = MappingStatus.CONFIRMED if same else MappingStatus.OVERRIDDEN
            mapping.confirmed_by, mapping.confirmed_at = user, now
            mapping.decided_in_bulk = True
        session.flush()
        event = audit.record(
            session,
            user,
            APPLY_ACTION,
            "bulk_action",
            None,
            project_id,
            before={"mappings": before, "created_for_roles": created},
            after={
                "role_ids": chosen,
                "code": occupation.code,
                "onet_title": occupation.title,
                "versions": {
                    str(m.role_id): m.version
                    for m in session.scalars(select(Mapping).where(Mapping.role_id.in_(chosen)))
                },
                "rows": preview.rows,
                "left_decided": preview.left_decided,
                "include_decided": include_decided,
                "described_as": described_as,
            },
        )
        session.flush()
        event.entity_id = event.id
        info = BulkActionInfo(event.id, APPLY_ACTION, user, now, len(chosen), occupation.code, chosen)
    return info


def _undone_ids(session: Session, ids: Sequence[int]) -> set[int]:
    return set(
        session.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.action == UNDO_BULK_ACTION,
                AuditEvent.entity_type == "bulk_action",
                AuditEvent.entity_id.in_(list(ids)),
            )
        )
    )


def last_bulk_action(session: Session, project_id: int, user: str | None = None) -> BulkActionInfo | None:
    """The newest bulk action in the project (by ``user`` when given) that was not undone, if any.

    Reads only the newest events' ids first: a bulk event's JSON can list thousands of roles.
    """
    query = select(AuditEvent.id, AuditEvent.action, AuditEvent.user, AuditEvent.at).where(
        AuditEvent.project_id == project_id,
        AuditEvent.entity_type == "bulk_action",
        AuditEvent.action.in_(BULK_KINDS),
    )
    if user is not None:
        query = query.where(AuditEvent.user == user)
    events = session.execute(query.order_by(AuditEvent.id.desc()).limit(20)).all()
    undone = _undone_ids(session, [event.id for event in events])
    for event in events:
        if event.id in undone:
            continue
        after = session.scalar(select(AuditEvent.after).where(AuditEvent.id == event.id)) or {}
        role_ids = [int(role_id) for role_id in after.get("role_ids", [])]
        if role_ids:
            return BulkActionInfo(
                event.id, event.action, event.user, event.at, len(role_ids), after.get("code"), role_ids
            )
    return None


def undo_bulk_action(session: Session, action_id: int, user: str) -> UndoResult:
    """Undo a bulk action (apply a code, or confirm all HIGH) from its audit event.

    Roles changed again since (their version moved on) keep that later decision and are counted as
    skipped. Undoing twice is an error (ReviewError).
    """
    kind = session.scalar(select(AuditEvent.action).where(AuditEvent.id == action_id))
    session.rollback()  # the look-up above must not hold a transaction open
    if kind == BULK_ACTION:
        return actions.undo_bulk(session, action_id, user)
    with session.begin():
        event = session.get(AuditEvent, action_id)
        if event is None or event.action != APPLY_ACTION:
            raise ReviewError(f"There is no bulk action with id {action_id}.")
        require(session, user, Permission.PROJECT_WRITE, event.project_id)
        if _undone_ids(session, [action_id]):
            raise ReviewError("This bulk action has already been undone.")
        after = event.after or {}
        versions = {int(role_id): int(version) for role_id, version in after.get("versions", {}).items()}
        current = {m.role_id: m for m in session.scalars(select(Mapping).where(Mapping.role_id.in_(list(versions))))}
        untouched = {
            role_id
            for role_id, mapping in current.items()
            if mapping.version == versions[role_id]  # versioned writes move it on
            and mapping.decided_in_bulk  # a one-by-one action clears it
            and mapping.onet_code == after.get("code")
            and mapping.confirmed_by == event.user
        }
        restored: list[int] = []
        for item in (event.before or {}).get("mappings", []):
            mapping = current.get(item["role_id"])
            if mapping is None or item["role_id"] not in untouched:
                continue
            for name in RESTORED:
                value = item.get(name)
                setattr(mapping, name, datetime.fromisoformat(value) if name == "confirmed_at" and value else value)
            mapping.version = (mapping.version or 1) + 1
            restored.append(item["role_id"])
        created = [role_id for role_id in (event.before or {}).get("created_for_roles", []) if role_id in untouched]
        if created:
            session.execute(
                delete(Mapping).where(Mapping.role_id.in_(created)).execution_options(synchronize_session=False)
            )
        restored += created
        skipped = len(versions) - len(restored)
        audit.record(
            session,
            user,
            UNDO_BULK_ACTION,
            "bulk_action",
            action_id,
            event.project_id,
            before={"role_ids": restored},
            after={"restored": len(restored), "skipped": skipped},
        )
    session.expire_all()
    return UndoResult(restored=len(restored), skipped=skipped)


def recent_codes(session: Session, project_id: int, user: str, limit: int = 5) -> list[tuple[str, str]]:
    """(code, O*NET title) the user decided most recently in the project, newest first, distinct."""
    rows = session.execute(
        select(Mapping.onet_code, Mapping.onet_title)
        .join(Role, Role.id == Mapping.role_id)
        .where(
            Role.project_id == project_id,
            Mapping.confirmed_by == user,
            Mapping.onet_code.is_not(None),
            Mapping.status.in_(MappingStatus.ANALYST_OWNED),
        )
        .order_by(Mapping.confirmed_at.desc(), Mapping.id.desc())
        .limit(200)
    ).all()
    seen: dict[str, str] = {}
    for code, title in rows:
        if code not in seen:
            seen[code] = title or ""
        if len(seen) == limit:
            break
    return list(seen.items())
