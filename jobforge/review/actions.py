"""What an analyst does to a proposal: confirm, choose another code, ask for info, note, bulk.

Each action is one write transaction (``write_transaction``: BEGIN IMMEDIATE on SQLite, the
mapping row locked on Postgres): it checks the mapping version and code the analyst saw (refused
with ``StaleDecision`` when the role changed since), changes the mapping, raises its version and
writes the audit event with the state before and after, all committed together, so the audit log
is the history of the data in commit order. ``proposed_code`` and ``proposed_tier`` keep what the
machine proposed, for the calibration view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.engine import write_transaction
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


class StaleDecision(ReviewError):
    """The role changed since the analyst's screen showed it ("… now <code title, status>"); nothing written."""


@dataclass(frozen=True)
class Seen:
    """What the analyst's screen showed: the mapping version (0: no mapping) and code; None: not checked."""

    version: int | None
    code: str | None


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


def _locked_mapping(session: Session, role_id: int) -> Mapping | None:
    """The role's mapping as committed now, row-locked until the action commits (Postgres).

    On SQLite the write transaction began IMMEDIATE, which locks the whole store instead.
    """
    return session.scalar(
        select(Mapping).where(Mapping.role_id == role_id).with_for_update().execution_options(populate_existing=True)
    )


def _mapping(session: Session, role_id: int) -> tuple[Role, Mapping]:
    role = _role(session, role_id)
    mapping = _locked_mapping(session, role_id)
    if mapping is None:
        raise ReviewError(f"'{role.title}' has no proposal yet: map the project's roles first.")
    return role, mapping


def _check_seen(mapping: Mapping | None, seen: Seen) -> None:
    """Refuse the action when the role changed since the analyst's screen showed it.

    ``seen.version`` is the mapping version shown (0: no mapping was shown), ``seen.code`` the code
    shown; None skips that check (scripts, the CLI, tests acting on the current state).
    """
    version = mapping.version if mapping is not None else 0
    code = mapping.onet_code if mapping is not None else None
    if (seen.version is not None and version != seen.version) or (seen.code is not None and code != seen.code):
        raise StaleDecision(f"This role changed since you opened it: now {_describe(mapping)}. Look at it again.")


def _describe(mapping: Mapping | None) -> str:
    if mapping is None:
        return "no proposal"
    code = f"{mapping.onet_code} {mapping.onet_title or ''}".strip() if mapping.onet_code else "no code"
    status = str(mapping.status).replace("_", " ")
    by = f" by {mapping.confirmed_by}" if mapping.confirmed_by else ""
    return f"{code}, {status}{by}"


def _finish(
    session: Session,
    role: Role,
    mapping: Mapping | None,
    action: str,
    user: str,
    before: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Bump the version and record the audit event, in the action's own transaction."""
    if mapping is not None:
        mapping.decided_in_bulk = False  # an action on one role is a decision looked at one by one
        mapping.version = (1 if mapping.version is None else mapping.version) + 1
        session.flush()
    after = {**mapping_state(mapping), "version": mapping.version} if mapping is not None else None
    if extra and after is not None:
        after = {**after, **extra}
    audit.record(session, user, action, "mapping", role.id, role.project_id, before=before, after=after)


def _before(mapping: Mapping) -> dict[str, Any]:
    return {**mapping_state(mapping), "version": mapping.version}


def _keep_proposal(mapping: Mapping) -> None:
    """Remember what the machine proposed before the first analyst decision."""
    if mapping.proposed_code is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_code = mapping.onet_code
    if mapping.proposed_tier is None and mapping.source != ANALYST_SOURCE:
        mapping.proposed_tier = mapping.tier


def confirm(
    session: Session, role_id: int, user: str, *, version: int | None = None, code: str | None = None
) -> Mapping:
    """Accept the role's current code: status CONFIRMED, who and when recorded.

    ``version``/``code``: the mapping version and code the analyst saw; StaleDecision (nothing
    written) when the role changed since. ReviewError when there is nothing to confirm.
    """
    with write_transaction(session):
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        _check_seen(mapping, Seen(version, code))
        if not mapping.onet_code:
            raise ReviewError(f"'{role.title}' has no proposed code to confirm: choose an occupation instead.")
        before = _before(mapping)
        _keep_proposal(mapping)
        # Confirming a code the analyst chose earlier keeps it an override.
        changed = mapping.proposed_code is not None and mapping.onet_code != mapping.proposed_code
        mapping.status = MappingStatus.OVERRIDDEN if changed else MappingStatus.CONFIRMED
        mapping.confirmed_by = user
        mapping.confirmed_at = utcnow()
        _finish(session, role, mapping, "confirm", user, before)
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


def choose_code(
    session: Session, role_id: int, code: str, user: str, *, version: int | None = None, seen_code: str | None = None
) -> Mapping:
    """Set the role's code to any occupation of the active release (status OVERRIDDEN).

    Choosing the code that was proposed is a confirmation. A role without a proposal gets a
    mapping with source "analyst". ``version``/``seen_code``: what the analyst saw (version 0: no
    proposal); StaleDecision when the role changed since.
    """
    with write_transaction(session):
        role = _role(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        occupation = resolve_code(session, code)
        mapping = _locked_mapping(session, role_id)
        _check_seen(mapping, Seen(version, seen_code))
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
                version=0,  # _finish raises it to 1, the version of a new row
            )
            session.add(mapping)
            session.flush()
            _finish(session, role, mapping, "choose_code", user, None)
            return mapping
        before = _before(mapping)
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
    return mapping


def mark_needs_info(
    session: Session, role_id: int, user: str, note: str | None = None, *, version: int | None = None
) -> Mapping:
    """Flag the role as needing more information before it can be decided (StaleDecision: see confirm)."""
    with write_transaction(session):
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        _check_seen(mapping, Seen(version, None))
        before = _before(mapping)
        _keep_proposal(mapping)
        mapping.status = MappingStatus.NEEDS_INFO
        mapping.confirmed_by = None
        mapping.confirmed_at = None
        if note and note.strip():
            mapping.note = _append_note(mapping.note, user, note)
        _finish(session, role, mapping, "needs_info", user, before)
    return mapping


def reopen(session: Session, role_id: int, user: str, *, version: int | None = None) -> Mapping:
    """Back to the machine's proposal, undecided (undo of a single decision; StaleDecision: see confirm)."""
    with write_transaction(session):
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        _check_seen(mapping, Seen(version, None))
        before = _before(mapping)
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
    return mapping


def _append_note(current: str | None, user: str, note: str) -> str:
    line = f"{user} ({utcnow():%Y-%m-%d %H:%M} UTC): {note.strip()}"
    return f"{current}\n{line}" if current else line


def add_note(session: Session, role_id: int, user: str, note: str) -> Mapping:
    """Append a note (with who and when) to the role's mapping."""
    if not note or not note.strip():
        raise ReviewError("The note is empty.")
    with write_transaction(session):  # a note adds to the role whatever changed: no version check
        role, mapping = _mapping(session, role_id)
        require(session, user, Permission.PROJECT_WRITE, role.project_id)
        before = _before(mapping)
        mapping.note = _append_note(mapping.note, user, note)
        _finish(session, role, mapping, "add_note", user, before)
    return mapping


def bulk_confirm(session: Session, project_id: int, role_ids: list[int], user: str) -> BulkAction:
    """Confirm the proposed mappings among ``role_ids`` of the project, as one undoable action.

    Roles already decided, flagged, without a code or outside the project are left alone. One
    audit event ("bulk_confirm") lists every role with its previous state; its id is the
    bulk action's id.
    """
    ids = sorted({int(role_id) for role_id in role_ids})
    with write_transaction(session):
        require(session, user, Permission.PROJECT_WRITE, project_id)
        rows = _bulk_candidates(session, project_id, ids)
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
        # One UPDATE per chunk: the proposal is kept in SQL (COALESCE), not row by row; the status is
        # checked again in the UPDATE, so a role decided meanwhile is never confirmed over.
        mapping_ids = [row.id for row in rows]
        for start in range(0, len(mapping_ids), CHUNK):
            session.execute(
                update(Mapping)
                .where(Mapping.id.in_(mapping_ids[start : start + CHUNK]), Mapping.status == MappingStatus.PROPOSED)
                .values(
                    status=MappingStatus.CONFIRMED,
                    confirmed_by=user,
                    confirmed_at=now,
                    decided_in_bulk=True,
                    version=Mapping.version + 1,
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
    session.expire_all()  # bulk UPDATEs bypass objects already loaded in this session
    return BulkAction(id=event.id, count=len(rows))


def _bulk_candidates(session: Session, project_id: int, ids: list[int]) -> list[Any]:
    """The proposed mappings with a code among ``ids`` of the project, row-locked (Postgres)."""
    rows: list[Any] = []
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
            .with_for_update(of=Mapping)
        ).all()
    return rows


def _locked_states(session: Session, mapping_ids: list[int]) -> list[Any]:
    """(id, status, confirmed_by, confirmed_at) of these mappings, row-locked (Postgres)."""
    rows: list[Any] = []
    for start in range(0, len(mapping_ids), CHUNK):
        rows += session.execute(
            select(Mapping.id, Mapping.status, Mapping.confirmed_by, Mapping.confirmed_at)
            .where(Mapping.id.in_(mapping_ids[start : start + CHUNK]))
            .with_for_update()
        ).all()
    return rows


def undo_bulk(session: Session, bulk_action_id: int, user: str) -> UndoResult:
    """Restore exactly the state before a bulk confirm.

    A role changed again after the bulk action (confirmed by someone else, overridden, flagged)
    keeps that later decision and is counted as skipped. Undoing twice is an error.
    """
    with write_transaction(session):
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
        current = _locked_states(session, sorted(previous))
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
                        version=Mapping.version + 1,
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
    session.expire_all()
    return UndoResult(restored=len(restore), skipped=skipped)
