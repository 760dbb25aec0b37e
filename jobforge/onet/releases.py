"""The releases kept in the store and the sync log: what is there, which one is active, switching."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.db.engine import session_factory
from jobforge.db.models import OnetRelease, OnetSyncLog
from jobforge.errors import JobForgeError
from jobforge.review import audit

# Who is written in the audit log for a release change made without a user (the set-up of a new store).
SYSTEM_USER = "system"


class UnknownRelease(JobForgeError, LookupError):
    """The asked-for release is not in the store."""


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    version: str
    source: str
    loaded_at: datetime
    is_active: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def occupation_count(self) -> int:
        return int(self.counts.get("occupations", 0))


@dataclass(frozen=True)
class SyncLogEntry:
    id: int
    version: str
    source: str
    status: str  # running | success | failed
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


@dataclass(frozen=True)
class SyncStatus:
    """What ``onet status`` and the app show: the active release, all releases, recent attempts."""

    active: ReleaseInfo | None
    releases: list[ReleaseInfo]
    recent: list[SyncLogEntry]


def _release_info(release: OnetRelease) -> ReleaseInfo:
    return ReleaseInfo(
        id=release.id,
        version=release.version,
        source=release.source,
        loaded_at=release.loaded_at,
        is_active=bool(release.is_active),
        counts=dict(release.counts or {}),
    )


def list_releases(session: Session) -> list[ReleaseInfo]:
    """Every release in the store, newest version first."""
    releases = session.scalars(select(OnetRelease)).all()
    return sorted((_release_info(r) for r in releases), key=lambda r: _version_key(r.version), reverse=True)


def recent_syncs(session: Session, limit: int = 10) -> list[SyncLogEntry]:
    entries = session.scalars(select(OnetSyncLog).order_by(OnetSyncLog.id.desc()).limit(limit))
    return [
        SyncLogEntry(
            id=e.id,
            version=e.version,
            source=e.source,
            status=e.status,
            started_at=e.started_at,
            finished_at=e.finished_at,
            counts=dict(e.counts or {}),
            error=e.error,
        )
        for e in entries
    ]


def sync_status(engine: Engine, limit: int = 10) -> SyncStatus:
    with session_factory(engine)() as session:
        releases = list_releases(session)
        active = next((r for r in releases if r.is_active), None)
        return SyncStatus(active=active, releases=releases, recent=recent_syncs(session, limit))


def authorize_release_change(engine: Engine, user: str | None) -> None:
    """PermissionDenied unless ``user`` may load, sync or activate releases (admins); None is the set-up."""
    if user is None:
        return
    with session_factory(engine)() as session, session.begin():
        require(session, user, Permission.RELEASE_MANAGE)


def activate_release(engine: Engine, version: str, user: str | None = None) -> ReleaseInfo:
    """Make ``version`` the active release (the only one), audited under ``user``.

    Raises UnknownRelease when absent, PermissionDenied when ``user`` is not an admin (None: the
    set-up of a new store, recorded as "system").
    """
    authorize_release_change(engine, user)
    with session_factory(engine)() as session, session.begin():
        release = session.scalar(select(OnetRelease).where(OnetRelease.version == version))
        if release is None:
            known = ", ".join(r.version for r in list_releases(session)) or "none"
            raise UnknownRelease(f"O*NET release {version} is not in the store (loaded: {known})")
        previous = session.scalar(select(OnetRelease.version).where(OnetRelease.is_active.is_(True)))
        session.execute(update(OnetRelease).where(OnetRelease.id != release.id).values(is_active=False))
        release.is_active = True
        audit.record(
            session,
            user or SYSTEM_USER,
            "activate_onet_release",
            "onet",
            release.id,
            before={"active": previous},
            after={"active": release.version},
        )
        session.flush()
        return _release_info(release)


def _version_key(version: str) -> tuple[int, ...]:
    """ "30_1" -> (30, 1); labels that are not numbers sort first."""
    try:
        return tuple(int(part) for part in version.split("_"))
    except ValueError:
        return (-1,)
