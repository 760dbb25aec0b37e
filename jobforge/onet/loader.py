"""Loading a release into the store: one transaction per release, logged whatever happens."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from jobforge.db.engine import StoreError, session_factory, store_error_message
from jobforge.db.models import (
    OnetAlternateTitle,
    OnetEducationCategory,
    OnetElement,
    OnetJobZone,
    OnetJobZoneReference,
    OnetOccupation,
    OnetRating,
    OnetRelatedOccupation,
    OnetRelease,
    OnetReportedTitle,
    OnetSyncLog,
    OnetTask,
    OnetTechnologySkill,
    utcnow,
)
from jobforge.errors import JobForgeError
from jobforge.onet.reader import RATING_FILES, ReleaseError, ReleaseSource, TextTable
from jobforge.onet.releases import SYSTEM_USER, authorize_release_change
from jobforge.review import audit

Progress = Callable[[str], None]
CHUNK = 20_000


@dataclass
class SyncResult:
    version: str
    occupation_count: int
    alternate_title_count: int
    task_count: int
    status: str
    counts: dict[str, int] | None = None
    seconds: float = 0.0
    release_id: int | None = None


class OnetLoadError(JobForgeError, RuntimeError):
    """Loading failed; the previous release is untouched and the failure is logged."""


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _int(value: str | None) -> int | None:
    return int(float(value)) if value not in (None, "") else None


def _yn(value: str | None) -> bool | None:
    return None if value is None else value.strip().upper() == "Y"


CODE = "O*NET-SOC Code"
Row = dict[str, Any]
RowConverter = Callable[[Row], Row | None]  # one file row -> its store row, or None to skip it


def _occupation(x: Row) -> Row:
    return {"code": x[CODE], "title": x["Title"] or "", "description": x["Description"] or ""}


def _alternate_title(x: Row) -> Row | None:
    if not x["Alternate Title"]:
        return None
    return {"code": x[CODE], "title": x["Alternate Title"], "short_title": x["Short Title"], "sources": x["Source(s)"]}


def _reported_title(x: Row) -> Row | None:
    if not x["Reported Job Title"]:
        return None
    shown = bool(_yn(x["Shown in My Next Move"]))
    return {"code": x[CODE], "title": x["Reported Job Title"], "shown_in_my_next_move": shown}


def _task(x: Row) -> Row:
    return {
        "code": x[CODE],
        "task_id": _int(x["Task ID"]) or 0,
        "task": x["Task"] or "",
        "task_type": x["Task Type"],
        "incumbents_responding": _int(x.get("Incumbents Responding")),
    }


def _job_zone(x: Row) -> Row | None:
    return {"code": x[CODE], "job_zone": _int(x["Job Zone"])} if x["Job Zone"] else None


def _job_zone_reference(x: Row) -> Row:
    return {
        "job_zone": _int(x["Job Zone"]),
        "name": x["Name"] or "",
        "experience": x["Experience"] or "",
        "education": x["Education"] or "",
        "job_training": x["Job Training"] or "",
        "examples": x["Examples"] or "",
        "svp_range": x.get("SVP Range") or "",
    }


def _element(x: Row) -> Row:
    return {"element_id": x["Element ID"], "name": x["Element Name"] or "", "description": x["Description"] or ""}


def _education_category(x: Row) -> Row:
    return {
        "element_id": x["Element ID"],
        "element_name": x["Element Name"] or "",
        "scale_id": x["Scale ID"],
        "category": _int(x["Category"]),
        "description": x["Category Description"] or "",
    }


def _technology_skill(x: Row) -> Row:
    return {
        "code": x[CODE],
        "example": x["Example"] or "",
        "commodity_code": x["Commodity Code"],
        "commodity_title": x["Commodity Title"],
        "hot_technology": bool(_yn(x["Hot Technology"])),
        "in_demand": bool(_yn(x.get("In Demand"))),
    }


def _related_occupation(x: Row) -> Row:
    return {
        "code": x[CODE],
        "related_code": x["Related O*NET-SOC Code"],
        "relatedness_tier": x["Relatedness Tier"],
        "rank": _int(x["Index"]),
    }


def _rating(domain: str) -> RowConverter:
    """The converter of a rating file (abilities, skills, education, ...) of ``domain``."""

    def rating(x: Row) -> Row:
        return {
            "code": x[CODE],
            "domain": domain,
            "element_id": x["Element ID"],
            "element_name": x["Element Name"] or "",
            "scale_id": x["Scale ID"],
            "category": _int(x.get("Category")),
            "value": _float(x["Data Value"]) or 0.0,
            "n": _int(x.get("N")),
            "standard_error": _float(x.get("Standard Error")),
            "lower_ci": _float(x.get("Lower CI Bound")),
            "upper_ci": _float(x.get("Upper CI Bound")),
            "recommend_suppress": _yn(x.get("Recommend Suppress")),
            "not_relevant": _yn(x.get("Not Relevant")),
            "date": x.get("Date"),
            "domain_source": x.get("Domain Source"),
        }

    return rating


# File name -> the model its rows go to and the converter of one row.
TABLE_CONVERTERS: dict[str, tuple[type, RowConverter]] = {
    "Occupation Data.txt": (OnetOccupation, _occupation),
    "Alternate Titles.txt": (OnetAlternateTitle, _alternate_title),
    "Sample of Reported Titles.txt": (OnetReportedTitle, _reported_title),
    "Task Statements.txt": (OnetTask, _task),
    "Job Zones.txt": (OnetJobZone, _job_zone),
    "Job Zone Reference.txt": (OnetJobZoneReference, _job_zone_reference),
    "Content Model Reference.txt": (OnetElement, _element),
    "Education, Training, and Experience Categories.txt": (OnetEducationCategory, _education_category),
    "Technology Skills.txt": (OnetTechnologySkill, _technology_skill),
    "Related Occupations.txt": (OnetRelatedOccupation, _related_occupation),
    **{name: (OnetRating, _rating(domain)) for name, domain in RATING_FILES.items()},
}


def _rows_for(name: str, table: TextTable) -> tuple[type, list[Row]]:
    """The store rows of one file (without ``release_id``, added when written).

    Raises ReleaseError for a file no converter knows; ValueError/TypeError for an unreadable value."""
    if name not in TABLE_CONVERTERS:
        raise ReleaseError(f"No loader for {name}")
    model, convert = TABLE_CONVERTERS[name]
    return model, [row for row in map(convert, table.rows) if row is not None]


def _log(engine: Engine, log_id: int | None, **values: Any) -> int:
    with session_factory(engine)() as session:
        if log_id is None:
            entry = OnetSyncLog(**values)
            session.add(entry)
            session.commit()
            return entry.id
        session.execute(update(OnetSyncLog).where(OnetSyncLog.id == log_id).values(**values))
        session.commit()
        return log_id


VERSION_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")


def _check_label(version: str) -> None:
    if not VERSION_LABEL.match(version):
        raise ReleaseError(f"{version!r} cannot be a release version (1-16 letters, digits, '_', '.', '-')")


PreparedTable = tuple[str, type, list[dict[str, Any]]]  # file name, model, rows


def _prepare(source: ReleaseSource) -> list[PreparedTable]:
    """Every file as store rows; each file's text is dropped once converted, to keep memory down."""
    prepared: list[PreparedTable] = []
    for name, table in source.tables():
        try:
            model, rows = _rows_for(name, table)
        except (ValueError, TypeError) as exc:
            raise ReleaseError(f"{name}: a value cannot be read ({exc})") from exc
        prepared.append((name, model, rows))
    return prepared


def start_sync_log(engine: Engine, version: str, source: str) -> int:
    try:
        return _log(engine, None, version=version, source=source, status="running")
    except OperationalError as exc:
        raise StoreError(f"Cannot load O*NET: {store_error_message(engine, exc)}") from exc


def fail_sync_log(engine: Engine, log_id: int, message: str, **values: Any) -> None:
    # Best effort: when the store itself is the problem (locked, gone) the log cannot be written either.
    with contextlib.suppress(OperationalError):
        _log(engine, log_id, status="failed", error=message, finished_at=utcnow(), **values)


def load_release(
    engine: Engine,
    path: str | Path,
    version: str | None = None,
    activate: bool = True,
    progress: Progress | None = None,
    source_label: str | None = None,
    log_id: int | None = None,
    user: str | None = None,
) -> SyncResult:
    """Load the release at ``path`` (zip or folder) into the store in one transaction.

    Loading a version that is already present replaces it. On any failure nothing changes
    except a ``failed`` entry in the sync log, and an :class:`OnetLoadError` is raised
    (:class:`StoreError` when the store itself refused: locked, unreachable). ``log_id``
    continues a sync-log entry the caller opened (a sync logs its download in the same entry).
    ``user`` must be an admin (PermissionDenied, checked before anything is read); the load is
    audited under that name, or "system" when None (the set-up of a new store).
    """
    authorize_release_change(engine, user)
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    label = source_label or str(Path(path).resolve())
    version_guess = version or "unknown"
    if version is not None:
        try:
            _check_label(version)
        except ReleaseError as exc:
            raise OnetLoadError(f"Loading O*NET from {label} failed: {exc}") from exc
    if log_id is None:
        log_id = start_sync_log(engine, version_guess, label)
    try:
        with ReleaseSource(path) as source:
            version = version or source.version_hint() or "unknown"
            say(f"Reading O*NET {version} from {label}")
            tables = _prepare(source)  # read and check everything before touching the store
            _check_label(version)
            counts, release_id = _commit_release(engine, tables, version, label, activate, say, log_id, user)
    except (ReleaseError, OSError) as exc:
        fail_sync_log(engine, log_id, str(exc), version=version or version_guess)
        raise OnetLoadError(f"Loading O*NET from {label} failed: {exc}") from exc
    except IntegrityError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        message = f"the release has duplicate or inconsistent rows ({reason})"
        fail_sync_log(engine, log_id, message, version=version or version_guess)
        raise OnetLoadError(f"Loading O*NET from {label} failed: {message}") from exc
    except OperationalError as exc:
        message = store_error_message(engine, exc)
        fail_sync_log(engine, log_id, message)
        raise StoreError(f"Loading O*NET from {label} failed: {message}") from exc
    except KeyboardInterrupt:
        fail_sync_log(engine, log_id, "interrupted")  # not left "running" for ever
        raise
    except Exception as exc:
        fail_sync_log(engine, log_id, repr(exc))
        raise
    seconds = time.perf_counter() - started
    say(f"Loaded O*NET {version} in {seconds:.1f} s")
    return SyncResult(
        version=version,
        occupation_count=counts.get("occupations", 0),
        alternate_title_count=counts.get("alternate_titles", 0),
        task_count=counts.get("tasks", 0),
        status="success",
        counts=counts,
        seconds=seconds,
        release_id=release_id,
    )


def _commit_release(
    engine: Engine,
    tables: list[PreparedTable],
    version: str,
    label: str,
    activate: bool,
    say: Progress,
    log_id: int,
    user: str | None,
) -> tuple[dict[str, int], int | None]:
    """Write the prepared release, audit it and mark its sync-log entry a success, in one
    transaction. Returns the row counts per table and the release's id."""
    with session_factory(engine)() as session, session.begin():
        counts = _write_release(session, tables, version, label, activate, say)
        release_id = session.scalar(select(OnetRelease.id).where(OnetRelease.version == version))
        audit.record(
            session,
            user or SYSTEM_USER,
            "load_onet_release",
            "onet",
            release_id,
            after={"version": version, "source": label, "activated": activate, "counts": counts},
        )
        # Logged in the same transaction: a committed release always has its success entry.
        session.execute(
            update(OnetSyncLog)
            .where(OnetSyncLog.id == log_id)
            .values(version=version, status="success", counts=counts, finished_at=utcnow())
        )
    return counts, release_id


def _bulk_insert(session: Session, model: type, rows: list[dict[str, Any]], release_id: int) -> None:
    """Insert ``rows`` inside the session's transaction, by the fastest path of the backend.

    Postgres: COPY (about 4x faster than multi-row INSERT for the 350k rows of 30.1). SQLite:
    the driver's executemany with plain tuples, skipping SQLAlchemy's per-row processing.
    """
    if not rows:
        return
    columns = list(rows[0])
    header = ["release_id", *columns]
    table_name = model.__table__.name  # type: ignore[attr-defined]
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        import psycopg

        raw = connection.connection.driver_connection
        column_list = ", ".join(f'"{column}"' for column in header)
        statement = f'COPY "{table_name}" ({column_list}) FROM STDIN'
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([release_id, *(row[column] for column in columns)])
        except psycopg.Error as exc:  # raw driver errors: wrap them as SQLAlchemy would
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    elif dialect == "sqlite":
        placeholders = ", ".join("?" for _ in header)
        statement = f'INSERT INTO "{table_name}" ({", ".join(header)}) VALUES ({placeholders})'
        connection.exec_driver_sql(statement, [(release_id, *(row[column] for column in columns)) for row in rows])
    else:
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(model), [{"release_id": release_id, **row} for row in rows[start : start + CHUNK]])


COUNT_NAMES = {
    OnetOccupation: "occupations",
    OnetAlternateTitle: "alternate_titles",
    OnetReportedTitle: "reported_titles",
    OnetTask: "tasks",
    OnetJobZone: "job_zones",
    OnetJobZoneReference: "job_zone_reference",
    OnetElement: "elements",
    OnetEducationCategory: "education_categories",
    OnetTechnologySkill: "technology_skills",
    OnetRelatedOccupation: "related_occupations",
}


def _write_release(
    session: Session,
    tables: list[PreparedTable],
    version: str,
    label: str,
    activate: bool,
    say: Progress,
) -> dict[str, int]:
    release = session.scalar(select(OnetRelease).where(OnetRelease.version == version))
    if release is None:
        release = OnetRelease(version=version, source=label, is_active=False, counts={})
        session.add(release)
    else:
        # Same version again: replace its content but keep the release row (and its id), so
        # mappings that name this release keep their provenance; loaded_at tells caches it changed.
        for model in (*COUNT_NAMES, OnetRating):
            session.execute(delete(model).where(model.release_id == release.id))
        release.source = label
        release.loaded_at = utcnow()
    session.flush()
    counts: dict[str, int] = {}
    for name, model, rows in tables:
        _bulk_insert(session, model, rows, release.id)
        key = COUNT_NAMES.get(model) or f"ratings_{RATING_FILES[name]}"
        counts[key] = counts.get(key, 0) + len(rows)
        say(f"{name}: {len(rows):,} rows")
    release.counts = counts
    if activate:
        session.execute(update(OnetRelease).values(is_active=False))
        release.is_active = True
    return counts
