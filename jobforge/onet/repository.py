"""Reading O*NET from the store (the active release unless told otherwise)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from jobforge.db.models import (
    OnetAlternateTitle,
    OnetOccupation,
    OnetRelease,
    OnetSyncLog,
    OnetTask,
    utcnow,
)
from jobforge.errors import JobForgeError


class NoActiveRelease(JobForgeError, LookupError):
    """No O*NET release is loaded yet."""

    def __init__(self) -> None:
        super().__init__("No O*NET release is loaded. Run `python -m jobforge onet load` (or `make run`).")


def active_release(session: Session) -> OnetRelease | None:
    return session.scalar(select(OnetRelease).where(OnetRelease.is_active.is_(True)))


def require_active_release(session: Session) -> OnetRelease:
    release = active_release(session)
    if release is None:
        raise NoActiveRelease()
    return release


class OnetRepository:
    """Occupations of one release, with the names the original plan used."""

    def __init__(self, session: Session, release_id: int | None = None) -> None:
        self.session = session
        self._release_id = release_id

    @property
    def release_id(self) -> int:
        if self._release_id is None:
            self._release_id = require_active_release(self.session).id
        return self._release_id

    def count(self) -> int:
        return (
            self.session.scalar(
                select(func.count()).select_from(OnetOccupation).where(OnetOccupation.release_id == self.release_id)
            )
            or 0
        )

    def get_all(self) -> Sequence[OnetOccupation]:
        return self.session.scalars(
            select(OnetOccupation).where(OnetOccupation.release_id == self.release_id).order_by(OnetOccupation.code)
        ).all()

    def get_by_code(self, code: str) -> OnetOccupation | None:
        return self.session.scalar(
            select(OnetOccupation).where(OnetOccupation.release_id == self.release_id, OnetOccupation.code == code)
        )

    def search(self, query: str, limit: int = 20) -> list[OnetOccupation]:
        """Occupations whose code or title contains ``query`` (case-insensitive), titles first.

        This is the analyst's "find any occupation" search; candidate retrieval for mapping
        lives in :mod:`jobforge.retrieval`.
        """
        text = query.strip()
        if not text:
            return []
        pattern = f"%{text.lower()}%"
        by_title = select(OnetOccupation).where(
            OnetOccupation.release_id == self.release_id,
            or_(func.lower(OnetOccupation.title).like(pattern), OnetOccupation.code.like(f"{text}%")),
        )
        found = list(self.session.scalars(by_title.order_by(OnetOccupation.code).limit(limit)))
        if len(found) < limit:
            alt_codes = select(OnetAlternateTitle.code).where(
                OnetAlternateTitle.release_id == self.release_id, func.lower(OnetAlternateTitle.title).like(pattern)
            )
            seen = {occ.code for occ in found}
            more = self.session.scalars(
                select(OnetOccupation)
                .where(OnetOccupation.release_id == self.release_id, OnetOccupation.code.in_(alt_codes))
                .order_by(OnetOccupation.code)
            )
            found += [occ for occ in more if occ.code not in seen][: limit - len(found)]
        return found

    def tasks(self, code: str, limit: int = 5) -> list[str]:
        rows = self.session.scalars(
            select(OnetTask.task)
            .where(OnetTask.release_id == self.release_id, OnetTask.code == code)
            .order_by(OnetTask.task_type, OnetTask.incumbents_responding.desc().nulls_last(), OnetTask.task_id)
            .limit(limit)
        )
        return list(rows)

    # Bulk upserts (replace the rows of the given codes), as in the original plan.
    def upsert_occupations(self, rows: Iterable[dict[str, Any]]) -> int:
        return self._replace(OnetOccupation, rows)

    def upsert_alternate_titles(self, rows: Iterable[dict[str, Any]]) -> int:
        return self._replace(OnetAlternateTitle, rows)

    def upsert_tasks(self, rows: Iterable[dict[str, Any]]) -> int:
        return self._replace(OnetTask, rows)

    def _replace(self, model: type, rows: Iterable[dict[str, Any]]) -> int:
        items = [{**row, "release_id": self.release_id} for row in rows]
        if not items:
            return 0
        codes = {row["code"] for row in items}
        self.session.execute(delete(model).where(model.release_id == self.release_id, model.code.in_(codes)))
        self.session.execute(insert(model), items)
        return len(items)

    def log_sync(
        self, version: str, source: str, status: str, counts: dict[str, int] | None = None, error: str | None = None
    ) -> OnetSyncLog:
        entry = OnetSyncLog(
            version=version, source=source, status=status, counts=counts or {}, error=error, finished_at=utcnow()
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def get_latest_sync(self) -> OnetSyncLog | None:
        return self.session.scalar(select(OnetSyncLog).order_by(OnetSyncLog.id.desc()).limit(1))
