"""What an analyst does to a proposal: confirm, choose another code, ask for info, note, bulk.

Each action changes the mapping, writes an audit event with the state before and after and the
user, and commits (one transaction per action, so a failure changes nothing). ``proposed_code``
and ``proposed_tier`` keep what the machine proposed, for the calibration view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import AuditEvent, Mapping, MappingStatus, OnetOccupation, Role, utcnow
from jobforge.errors import JobForgeError
from jobforge.onet.repository import require_active_release
from jobforge.review import audit

BULK_ACTION = "bulk_confirm"
UNDO_BULK_ACTION = "undo_bulk"
ANALYST_SOURCE = "analyst"
CHUNK = 5000  # ids per IN (...) list
_SHORT_SOC = re.compile(r"^\d{2}-\d{4}$")
# Mapping fields a review action may change, as kept in audit events.
STATE_FIELDS = (
    "onet_code",
    "onet_title",
    "tier",
    "score",
    "status",
    "source",
    "rationale",
    "proposed_code",
    "proposed_tier",
    "note",
    "confirmed_by",
    "confirmed_at",
)


class ReviewError(JobForgeError, ValueError):
    """The action cannot be done (unknown role, no proposal, invalid code); the message says why."""


@dataclass
class BulkAction:
    id: int  # the audit event that records it; pass to undo_bulk
    count: int  # mappings confirmed


@dataclass
class UndoResult:
    restored: int
    skipped: int  # changed again after the bulk action; left as the analyst set them


def _iso(value: datetime | None) -> str | None:
    return _naive_utc(value).isoformat() if value is not None else None


def _naive_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes, Postgres aware ones: compare them as naive UTC.
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def mapping_state(mapping: Mapping) -> dict[str, Any]:
    state = {name: getattr(mapping, name) for name in STATE_FIELDS}
    state["confirmed_at"] = _iso(mapping.confirmed_at)
    return state


def _role(session: Session, role_id: int) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise ReviewError(f"Role {role_id} does not exist.")
    return role


def _mapping(session: Session, role_id: int) -> tuple[Role, Mapping]:
    role = _role(session, role_id)
    mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
    if mapping is None:
        raise ReviewError(f"'{role.title}' has no proposal yet: map the project's roles first.")
    return role, mapping


def _finish(
    session: Session,
    role: Role,
    mapping: Mapping | None,
    action: str,
    user: str,
    before: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> None:
    if mapping is not None:
        mapping.decided_in_bulk = False  # an action on one role is a decision looked at one by one
    after = mapping_state(mapping) if mapping is not None else None
    if extra and after is not None:
        after = {**after, **extra}
    audit.record(session, user, action, "mapping", role.id, role.project_id, before=before, after=after)
    session.commit()


def _keep_proposal(mapping: Mapping) -> None:
    """Remember what the machine proposed before the first analyst decision."""
    if mapping.proposed_code is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_code = mapping.onet_code
    if mapping.proposed_tier is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_tier = mapping.tier


def confirm(session: Session, role_id: int, user: str) -> Mapping:
    """Accept the role's current code: status CONFIRMED, who and when recorded."""
    try:
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        if not mapping.onet_code:
            raise ReviewError(f"'{role.title}' has no proposed code to confirm: choose an occupation instead.")
        before = mapping_state(mapping)
        _keep_proposal(mapping)
        # Confirming a code the analyst chose earlier keeps it an override.
        changed = mapping.proposed_code is not None and mapping.onet_code != mapping.proposed_code
        mapping.status = MappingStatus.OVERRIDDEN if changed else MappingStatus.CONFIRMED
        mapping.confirmed_by = user
        mapping.confirmed_at = utcnow()
        _finish(session, role, mapping, "confirm", user, before)
    except Exception:
        session.rollback()
        raise
    return mapping


def resolve_code(session: Session, code: str) -> OnetOccupation:
    """The occupation of the active release with this code ("15-1252" means "15-1252.00")."""
    release = require_active_release(session)
    text = (code or "").strip()
    if _SHORT_SOC.match(text):
        text += ".00"
    occupation = session.scalar(
        select(OnetOccupation).where(OnetOccupation.release_id == release.id, OnetOccupation.code == text)
    )
    if occupation is None:
        raise ReviewError(f"'{code}' is not an occupation code of the active O*NET release ({release.version}).")
    return occupation


def choose_code(session: Session, role_id: int, code: str, user: str) -> Mapping:
    """Set the role's code to any occupation of the active release (status OVERRIDDEN).

    Choosing the code that was proposed is a confirmation. A role without a proposal gets a
    mapping with source "analyst".
    """
    try:
        role = _role(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        occupation = resolve_code(session, code)
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
        now = utcnow()
        if mapping is None:
            mapping = Mapping(
                role_id=role_id,
                onet_code=occupation.code,
                onet_title=occupation.title,
                tier="HIGH",
                score=0.95,
                rationale=f"Chosen by {user}.",
                source=ANALYST_SOURCE,
                candidates=[],
                status=MappingStatus.OVERRIDDEN,
                confirmed_by=user,
                confirmed_at=now,
                release_id=occupation.release_id,
            )
            session.add(mapping)
            session.flush()
            _finish(session, role, mapping, "choose_code", user, None)
            return mapping
        before = mapping_state(mapping)
        _keep_proposal(mapping)
        mapping.onet_code = occupation.code
        mapping.onet_title = occupation.title
        mapping.release_id = occupation.release_id
        mapping.status = (
            MappingStatus.CONFIRMED if occupation.code == mapping.proposed_code else MappingStatus.OVERRIDDEN
        )
        mapping.confirmed_by = user
        mapping.confirmed_at = now
        _finish(session, role, mapping, "choose_code", user, before)
    except Exception:
        session.rollback()
        raise
    return mapping


def mark_needs_info(session: Session, role_id: int, user: str, note: str | None = None) -> Mapping:
    """Flag the role as needing more information before it can be decided."""
    try:
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        before = mapping_state(mapping)
        _keep_proposal(mapping)
        mapping.status = MappingStatus.NEEDS_INFO
        mapping.confirmed_by = None
        mapping.confirmed_at = None
        if note and note.strip():
            mapping.note = _append_note(mapping.note, user, note)
        _finish(session, role, mapping, "needs_info", user, before)
    except Exception:
        session.rollback()
        raise
    return mapping


def reopen(session: Session, role_id: int, user: str) -> Mapping:
    """Back to the machine's proposal, undecided (undo of a single decision)."""
    try:
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        before = mapping_state(mapping)
        if mapping.proposed_code is not None and mapping.onet_code != mapping.proposed_code:
            occupation = session.scalar(
                select(OnetOccupation).where(
                    OnetOccupation.code == mapping.proposed_code, OnetOccupation.release_id == mapping.release_id
                )
            )
            mapping.onet_code = mapping.proposed_code
            mapping.onet_title = occupation.title if occupation else mapping.onet_title
        if mapping.proposed_tier is not None:
            mapping.tier = mapping.proposed_tier
        mapping.status = MappingStatus.PROPOSED
        mapping.confirmed_by = None
        mapping.confirmed_at = None
        _finish(session, role, mapping, "reopen", user, before)
    except Exception:
        session.rollback()
        raise
    return mapping


def _append_note(current: str | None, user: str, note: str) -> str:
    line = f"{user} ({utcnow():%Y-%m-%d %H:%M} UTC): {note.strip()}"
    return f"{current}\n{line}" if current else line


def add_note(session: Session, role_id: int, user: str, note: str) -> Mapping:
    """Append a note (with who and when) to the role's mapping."""
    if not note or not note.strip():
        raise ReviewError("The note is empty.")
    try:
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        before = mapping_state(mapping)
        mapping.note = _append_note(mapping.note, user, note)
        _finish(session, role, mapping, "add_note", user, before)
    except Exception:
        session.rollback()
        raise
    return mapping


def bulk_confirm(session: Session, project_id: int, role_ids: list[int], user: str) -> BulkAction:
    """Confirm the proposed mappings among ``role_ids`` of the project, as one undoable action.

    Roles already decided, flagged, without a code or outside the project are left alone. One
    audit event ("bulk_confirm") lists every role with its previous state; its id is the
    bulk action's id.
    """
    require(session, user, Permission.PROJECT_WRITE, project_id)
    ids = sorted({int(role_id) for role_id in role_ids})
    try:
        rows = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows += session.execute(
                select(
                    Mapping.id,
                    Mapping.role_id,
                    Mapping.onet_code,
                    Mapping.tier,
                    Mapping.status,
                    Mapping.proposed_code,
                    Mapping.proposed_tier,
                    Mapping.confirmed_by,
                    Mapping.confirmed_at,
                )
                .join(Role, Role.id == Mapping.role_id)
                .where(
                    Role.project_id == project_id,
                    Mapping.role_id.in_(chunk),
                    Mapping.status == MappingStatus.PROPOSED,
                    Mapping.onet_code.is_not(None),
                )
            ).all()
        now = utcnow()
        previous = [
            {
                "mapping_id": row.id,
                "role_id": row.role_id,
                "status": row.status,
                "proposed_code": row.proposed_code,
                "proposed_tier": row.proposed_tier,
                "confirmed_by": row.confirmed_by,
                "confirmed_at": _iso(row.confirmed_at),
            }
            for row in rows
        ]
        # One UPDATE per chunk: the proposal is kept in SQL (COALESCE), not row by row.
        mapping_ids = [row.id for row in rows]
        for start in range(0, len(mapping_ids), CHUNK):
            session.execute(
                update(Mapping)
                .where(Mapping.id.in_(mapping_ids[start : start + CHUNK]))
                .values(
                    status=MappingStatus.CONFIRMED,
                    confirmed_by=user,
                    confirmed_at=now,
                    decided_in_bulk=True,
                    proposed_code=func.coalesce(Mapping.proposed_code, Mapping.onet_code),
                    proposed_tier=func.coalesce(Mapping.proposed_tier, Mapping.tier),
                )
                .execution_options(synchronize_session=False)
            )
        event = audit.record(
            session,
            user,
            BULK_ACTION,
            "bulk_action",
            None,
            project_id,
            before={"mappings": previous},
            after={
                "role_ids": [row.role_id for row in rows],
                "status": MappingStatus.CONFIRMED,
                "confirmed_at": _iso(now),
                "requested": len(ids),
            },
        )
        session.flush()
        event.entity_id = event.id
        session.commit()
        session.expire_all()  # bulk UPDATEs bypass objects already loaded in this session
    except Exception:
        session.rollback()
        raise
    return BulkAction(id=event.id, count=len(rows))


def undo_bulk(session: Session, bulk_action_id: int, user: str) -> UndoResult:
    """Restore exactly the state before a bulk confirm.

    A role changed again after the bulk action (confirmed by someone else, overridden, flagged)
    keeps that later decision and is counted as skipped. Undoing twice is an error.
    """
    try:
        event = session.get(AuditEvent, bulk_action_id)
        if event is None or event.action != BULK_ACTION:
            raise ReviewError(f"There is no bulk confirmation with id {bulk_action_id}.")
        require(session, user, Permission.PROJECT_WRITE, event.project_id)
        undone = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == UNDO_BULK_ACTION,
                AuditEvent.entity_type == "bulk_action",
                AuditEvent.entity_id == bulk_action_id,
            )
        )
        if undone is not None:
            raise ReviewError("This bulk confirmation has already been undone.")
        previous = {item["mapping_id"]: item for item in (event.before or {}).get("mappings", [])}
        stamp = (event.after or {}).get("confirmed_at")
        current = []
        ids = sorted(previous)
        for start in range(0, len(ids), CHUNK):
            current += session.execute(
                select(Mapping.id, Mapping.status, Mapping.confirmed_by, Mapping.confirmed_at).where(
                    Mapping.id.in_(ids[start : start + CHUNK])
                )
            ).all()
        restore, skipped = [], len(previous) - len(current)
        for row in current:
            untouched = (
                row.status == MappingStatus.CONFIRMED
                and row.confirmed_by == event.user
                and _iso(row.confirmed_at) == stamp
            )
            if not untouched:
                skipped += 1
                continue
            item = previous[row.id]
            restore.append((row.id, item))
        # Rows sharing a previous state (usually all of them) are restored by one UPDATE.
        groups: dict[tuple[Any, ...], list[int]] = {}
        for mapping_id, item in restore:
            state = (
                item["status"],
                item["confirmed_by"],
                item["confirmed_at"],
                item["proposed_code"],
                item["proposed_tier"],
            )
            groups.setdefault(state, []).append(mapping_id)
        for (status, confirmed_by, confirmed_at, proposed_code, proposed_tier), mapping_ids in groups.items():
            for start in range(0, len(mapping_ids), CHUNK):
                session.execute(
                    update(Mapping)
                    .where(Mapping.id.in_(mapping_ids[start : start + CHUNK]))
                    .values(
                        status=status,
                        confirmed_by=confirmed_by,
                        confirmed_at=datetime.fromisoformat(confirmed_at).replace(tzinfo=UTC) if confirmed_at else None,
                        proposed_code=proposed_code,
                        proposed_tier=proposed_tier,
                        decided_in_bulk=False,
                    )
                    .execution_options(synchronize_session=False)
                )
        audit.record(
            session,
            user,
            UNDO_BULK_ACTION,
            "bulk_action",
            bulk_action_id,
            event.project_id,
            before={"role_ids": [item["role_id"] for _, item in restore]},
            after={"restored": len(restore), "skipped": skipped},
        )
        session.commit()
        session.expire_all()
    except Exception:
        session.rollback()
        raise
    return UndoResult(restored=len(restore), skipped=skipped)
