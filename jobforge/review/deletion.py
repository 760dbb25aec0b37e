"""Taking data out again: delete an upload (its rows, and the roles only it contributed) or a role.

An upload's share of each role is re-read from the file kept with it (the same reading as at
import), so deleting it subtracts exactly the rows it added: a role shared with other uploads keeps
their rows (and headcount), a role only this upload contributed goes with its mapping and
attributes. The roles' SOURCE attribute values are then re-derived from the row counts of the
uploads that remain (:func:`jobforge.imputation.row_values.refresh_source_values`), so the upload
list, the review grid, the attribute table and the per-row export agree afterwards.

Each deletion is one transaction (``with session.begin():``; pass a session with no transaction in
progress), needs :attr:`Permission.DELETE` in the project and writes one audit event
(``delete_upload``, ``delete_role``) that keeps what was deleted. Projects are archived and deleted
in :mod:`jobforge.projects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.models import AuditEvent, Mapping, Role, Upload
from jobforge.errors import JobForgeError
from jobforge.imputation.row_values import refresh_source_values
from jobforge.review import audit
from jobforge.review.actions import mapping_state

LISTED_TITLES = 50  # titles of removed roles kept in the audit event (all are counted)
CHUNK = 5000


class DeletionError(JobForgeError, LookupError):
    """The upload or role cannot be deleted (unknown, or its file was not kept); the message says why."""


@dataclass
class UploadDeletion:
    upload_id: int
    filename: str
    rows: int  # data rows the upload held (rows without a title included)
    roles_removed: int  # roles only this upload contributed: deleted with their mappings
    roles_kept: int  # roles other uploads share: they keep the other uploads' rows
    removed_titles: list[str] = field(default_factory=list)  # the first LISTED_TITLES removed


@dataclass
class UploadInfo:
    """One upload as the Projects page lists it."""

    id: int
    filename: str
    sheet: str | None
    rows: int  # data rows read, rows without a title included
    blank_titles: int  # rows without a title (placeholders included), not roles
    placeholder_titles: int  # of blank_titles, placeholder titles ("TBD", "Vacant")
    created_by: str | None
    created_at: datetime | None


def project_uploads(session: Session, project_id: int) -> list[UploadInfo]:
    """The project's uploads, oldest first, with their blank and placeholder title counts."""
    uploads = session.execute(
        select(Upload.id, Upload.filename, Upload.sheet, Upload.row_count, Upload.created_by, Upload.created_at)
        .where(Upload.project_id == project_id)
        .order_by(Upload.id)
    ).all()
    # What was left out at import is in the upload's audit event (its summary).
    summaries = {
        entity_id: after or {}
        for entity_id, after in session.execute(
            select(AuditEvent.entity_id, AuditEvent.after).where(
                AuditEvent.action == "upload",
                AuditEvent.entity_type == "upload",
                AuditEvent.entity_id.in_([row.id for row in uploads]),
            )
        ).all()
    }
    return [
        UploadInfo(
            id=row.id,
            filename=row.filename,
            sheet=row.sheet,
            rows=int(row.row_count or 0),
            blank_titles=int(summaries.get(row.id, {}).get("blank_titles") or 0),
            placeholder_titles=int(summaries.get(row.id, {}).get("placeholder_titles") or 0),
            created_by=row.created_by,
            created_at=row.created_at,
        )
        for row in uploads
    ]


def _contributions(session: Session, upload: Upload) -> dict[str, tuple[int, float | None]]:
    """title key -> (rows, headcount) this upload added to the project's roles."""
    from jobforge.export.typed import upload_rows
    from jobforge.ingest.reader import IngestError
    from jobforge.ingest.uploads import build_roles

    if upload.content is None:
        others = session.scalar(
            select(Upload.id).where(Upload.project_id == upload.project_id, Upload.id != upload.id).limit(1)
        )
        if others is not None:
            raise DeletionError(
                f"'{upload.filename}' was stored without its file, so its rows cannot be told apart from the other "
                "uploads' rows. Delete its roles one by one, or the whole project."
            )
        keys = session.execute(select(Role.title_key, Role.row_count).where(Role.project_id == upload.project_id))
        return {key: (int(rows), None) for key, rows in keys.all()}  # the only upload: every role is its own
    try:
        frame, _ = upload_rows(upload.content, upload.filename, upload.sheet, False, upload.header_row)
        built = build_roles(frame, upload.title_column, upload.context_columns, upload.attribute_columns)
    except IngestError as exc:
        raise DeletionError(f"The stored file '{upload.filename}' cannot be re-read: {exc.message}") from exc
    return {role.title_key: (role.row_count, _headcount(role.context.get("headcount"))) for role in built.roles}


def _headcount(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def delete_upload(session: Session, upload_id: int, user: str) -> UploadDeletion:
    """Delete an upload, its rows, and the roles only it contributed, in one transaction.

    Roles shared with other uploads keep the others' row counts and headcount; their SOURCE
    attribute values are re-derived from the remaining uploads' rows. Raises DeletionError
    (unknown upload, file not kept while other uploads exist) and PermissionDenied.
    """
    with session.begin():
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise DeletionError(f"There is no upload with id {upload_id}.")
        require(session, user, Permission.DELETE, upload.project_id)
        added = _contributions(session, upload)
        roles = session.execute(
            select(Role.id, Role.title, Role.title_key, Role.row_count, Role.headcount).where(
                Role.project_id == upload.project_id
            )
        ).all()
        removed: list[tuple[int, str]] = []
        kept: list[dict[str, Any]] = []
        for role in roles:
            if role.title_key not in added:
                continue
            rows, headcount = added[role.title_key]
            left = int(role.row_count or 0) - rows
            if left <= 0:
                removed.append((role.id, role.title))
                continue
            change: dict[str, Any] = {"id": role.id, "row_count": left}
            if headcount is not None and role.headcount is not None:
                remaining = role.headcount - headcount
                change["headcount"] = remaining if remaining > 0 else None
            kept.append(change)
        if kept:
            session.execute(update(Role), kept)
        removed_ids = [role_id for role_id, _ in removed]
        for start in range(0, len(removed_ids), CHUNK):  # mappings, attributes, row counts cascade
            session.execute(delete(Role).where(Role.id.in_(removed_ids[start : start + CHUNK])))
        result = UploadDeletion(
            upload_id=upload.id,
            filename=upload.filename,
            rows=int(upload.row_count or 0),
            roles_removed=len(removed),
            roles_kept=len(kept),
            removed_titles=[title for _, title in removed[:LISTED_TITLES]],
        )
        audit.record(
            session,
            user,
            "delete_upload",
            "upload",
            upload.id,
            upload.project_id,
            before={"filename": upload.filename, "sheet": upload.sheet, "rows": result.rows},
            after={
                "roles_removed": result.roles_removed,
                "roles_kept": result.roles_kept,
                "removed_titles": result.removed_titles,
            },
        )
        session.expunge(upload)
        session.execute(delete(Upload).where(Upload.id == upload_id))  # its row counts cascade
        if kept:
            refresh_source_values(session, [change["id"] for change in kept], user)
    session.expire_all()
    return result


@dataclass
class RoleDeletion:
    role_id: int
    title: str
    rows: int


def delete_role(session: Session, role_id: int, user: str) -> RoleDeletion:
    """Delete one role with its mapping and attributes, in one transaction.

    Its rows stay in the uploaded files but belong to no role any more: they leave the project's
    row count and the per-row export. The audit event keeps the role and its last mapping.
    Raises DeletionError (unknown role) and PermissionDenied.
    """
    with session.begin():
        role = session.get(Role, role_id)
        if role is None:
            raise DeletionError(f"There is no role with id {role_id}.")
        require(session, user, Permission.DELETE, role.project_id)
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
        result = RoleDeletion(role_id=role.id, title=role.title, rows=int(role.row_count or 0))
        audit.record(
            session,
            user,
            "delete_role",
            "role",
            role.id,
            role.project_id,
            before={
                "title": role.title,
                "title_key": role.title_key,
                "row_count": role.row_count,
                "mapping": mapping_state(mapping) if mapping is not None else None,
            },
        )
        session.delete(role)  # its mapping and attributes go with it; row counts and samples cascade in the database
    return result
