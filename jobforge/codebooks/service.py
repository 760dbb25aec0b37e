"""Codebooks: import a file of already-decided titles, list, disable, delete.

A codebook is read like an upload (:func:`jobforge.ingest.sheets.open_table`: the sheet, its
header row), then every row's code is read as O*NET-SOC 2019 codes of the active release (see
:mod:`jobforge.codebooks.codes`). Rows with an empty title or code are skipped and counted; a code
valid in no supported system is an error naming its row, and one error stops the whole import
(nothing is stored). The import itself is one transaction.

Each write here is one transaction (``with session.begin():``): pass a session with no
transaction in progress.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.codebooks.codes import SYSTEMS, CodeReader, Reading, load_crosswalk, needs_crosswalk
from jobforge.db.models import Codebook, CodebookEntry, OnetOccupation
from jobforge.errors import JobForgeError
from jobforge.ingest.sheets import open_table
from jobforge.onet.repository import require_active_release
from jobforge.retrieval.normalize import title_key
from jobforge.review import audit

MAX_ERRORS_SHOWN = 20
INSERT_CHUNK = 5000
PREVIEW_ROWS = 20
# Several codes in one cell ("15-1252.00; 15-1253.00") are all the title's answers.
_CODE_SEPARATORS = re.compile(r"[;|/]+")

Progress = Callable[[int, int, str], None]


class CodebookError(JobForgeError, ValueError):
    """A codebook cannot be imported or found; the message names the rows or the column."""


@dataclass
class EntryDraft:
    row_number: int  # as the spreadsheet shows it
    title: str
    title_key: str
    codes: list[str]
    written_code: str
    translation: str = ""


@dataclass
class CodebookDraft:
    """A codebook file read and checked, not stored yet (what the app previews)."""

    filename: str
    sheet: str | None
    header_note: str
    columns: list[str]
    title_column: str
    code_column: str
    system: str
    entries: list[EntryDraft] = field(default_factory=list)
    skipped: int = 0  # rows with an empty title or code
    translated: int = 0  # entries whose code was translated (SOC 2018, 2010 systems)
    split: int = 0  # entries whose 2010 code went to several 2019 codes
    errors: list[str] = field(default_factory=list)  # "row 7: '99-9999' is not …", all of them

    @property
    def imported(self) -> int:
        return len(self.entries)

    def preview(self, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "Row": e.row_number,
                    "Title": e.title,
                    "Code as written": e.written_code,
                    "O*NET-SOC 2019": ", ".join(e.codes),
                    "Translation": e.translation,
                }
                for e in self.entries[:rows]
            ]
        )

    def error_message(self) -> str:
        shown = "; ".join(self.errors[:MAX_ERRORS_SHOWN])
        more = len(self.errors) - MAX_ERRORS_SHOWN
        tail = f"; and {more:,} more row(s)" if more > 0 else ""
        return (
            f"{len(self.errors):,} row(s) of '{self.filename}' have a code that is not valid in any supported system "
            f"(O*NET-SOC 2019, SOC 2018, O*NET-SOC 2010, SOC 2010): {shown}{tail}. Nothing was imported."
        )


def read_codebook(
    session: Session,
    data: bytes,
    filename: str,
    title_column: str,
    code_column: str,
    system: str = "auto",
    sheet: str | None = None,
    header_row: int | None = None,
) -> CodebookDraft:
    """Read and check a codebook file against the active release; nothing is stored.

    Errors of single rows are collected in ``draft.errors`` (see :meth:`CodebookDraft.error_message`).
    Raises :class:`CodebookError` for an unknown system or column, IngestError for a file that
    cannot be read, NoActiveRelease without a release.
    """
    if system not in SYSTEMS:
        raise CodebookError(f"Unknown code system '{system}': choose one of {', '.join(SYSTEMS)}.")
    table = open_table(data, filename, sheet, header_row)
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    for label, column in (("title", title_column), ("code", code_column)):
        if column not in columns:
            raise CodebookError(
                f"'{filename}' has no {label} column '{column}'. Its columns are: {', '.join(columns)}."
            )
    release = require_active_release(session)
    valid = session.scalars(select(OnetOccupation.code).where(OnetOccupation.release_id == release.id))
    reader = CodeReader(valid, load_crosswalk() if needs_crosswalk(system) else None)
    titles = [_cell(value) for value in frame[title_column].tolist()]
    codes = [_cell(value) for value in frame[code_column].tolist()]
    draft = CodebookDraft(filename, table.sheet, table.header_note, columns, title_column, code_column, system)
    prefer_2010 = system == "auto" and reader.prefers_2010(c for cell in codes for c in _split_codes(cell))
    first_row = table.header_row + 1
    cache: dict[str, Reading | None] = {}
    keys: dict[str, str] = {}  # title -> title_key: a codebook repeats titles (one row per code given)
    for offset, (title, cell) in enumerate(zip(titles, codes, strict=True)):
        if not title or not cell:
            draft.skipped += 1
            continue
        row_number = first_row + offset
        found, translations, bad = [], [], []
        for written in _split_codes(cell):
            if written not in cache:
                auto = system == "auto"
                cache[written] = reader.read_auto(written, prefer_2010) if auto else reader.read(written, system)
            reading = cache[written]
            if reading is None:
                bad.append(written)
                continue
            found.extend(c for c in reading.codes if c not in found)
            if reading.translated:
                translations.append(reading.note(written))
        if bad or not found:
            draft.errors.append(f"row {row_number}: '{', '.join(bad) or cell}'")
            continue
        key = keys.get(title)
        if key is None:
            key = keys[title] = title_key(title)
        entry = EntryDraft(row_number, title, key, found, cell, "; ".join(translations))
        draft.translated += bool(translations)
        draft.split += len(found) > 1 and bool(translations)
        draft.entries.append(entry)
    return draft


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return " ".join(str(value).split())


def _split_codes(cell: str) -> list[str]:
    return [part.strip() for part in _CODE_SEPARATORS.split(cell) if part.strip()]


@dataclass
class ImportResult:
    codebook_id: int
    name: str
    imported: int
    translated: int
    skipped: int
    split: int
    system: str


def import_codebook(
    session: Session,
    user: str,
    data: bytes,
    filename: str,
    title_column: str,
    code_column: str,
    system: str = "auto",
    name: str | None = None,
    note: str = "",
    sheet: str | None = None,
    header_row: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a codebook in one transaction (audited); nothing is stored on any error.

    Raises PermissionDenied (needs CODEBOOK_IMPORT), :class:`CodebookError` (unknown column or
    system, invalid codes naming the first 20 rows and a count, no usable row), IngestError.
    """
    require(session, user, Permission.CODEBOOK_IMPORT)
    draft = read_codebook(session, data, filename, title_column, code_column, system, sheet, header_row)
    session.rollback()  # end the read transaction: the import is one transaction of its own
    if draft.errors:
        raise CodebookError(draft.error_message())
    if not draft.entries:
        raise CodebookError(
            f"'{filename}' has no row with both a title and a code ({draft.skipped:,} row(s) skipped). "
            "Nothing was imported."
        )
    total = len(draft.entries)
    with session.begin():
        require(session, user, Permission.CODEBOOK_IMPORT)
        codebook = Codebook(
            name=" ".join((name or filename).split())[:200],
            note=note or "",
            filename=filename,
            content=data,
            content_sha256=hashlib.sha256(data).hexdigest(),
            sheet=draft.sheet,
            title_column=title_column,
            code_column=code_column,
            system=system,
            imported_count=total,
            translated_count=draft.translated,
            skipped_count=draft.skipped,
            enabled=True,
            imported_by=user,
        )
        session.add(codebook)
        session.flush()
        for start in range(0, total, INSERT_CHUNK):
            rows = [
                {
                    "codebook_id": codebook.id,
                    "row_number": e.row_number,
                    "title": e.title,
                    "title_key": e.title_key[:500],
                    "codes": e.codes,
                    "written_code": e.written_code[:50],
                    "translation": e.translation,
                }
                for e in draft.entries[start : start + INSERT_CHUNK]
            ]
            session.execute(insert(CodebookEntry), rows)
            if progress:
                progress(
                    min(start + INSERT_CHUNK, total),
                    total,
                    f"Stored {min(start + INSERT_CHUNK, total):,} of {total:,} entries",
                )
        after = {
            "name": codebook.name,
            "file": filename,
            "imported": total,
            "translated": draft.translated,
            "skipped": draft.skipped,
        }
        audit.record(session, user, "import_codebook", "codebook", codebook.id, after=after)
        result = ImportResult(codebook.id, codebook.name, total, draft.translated, draft.skipped, draft.split, system)
    return result


@dataclass
class CodebookInfo:
    id: int
    name: str
    note: str
    filename: str
    system: str
    entries: int
    translated: int
    skipped: int
    enabled: bool
    imported_by: str | None
    imported_at: datetime
    content_sha256: str


def list_codebooks(session: Session) -> list[CodebookInfo]:
    """Every codebook of the store, newest first (codebooks are the store's, seen by everyone)."""
    rows = session.scalars(select(Codebook).order_by(Codebook.id.desc()))
    return [
        CodebookInfo(
            c.id,
            c.name,
            c.note,
            c.filename,
            c.system,
            c.imported_count,
            c.translated_count,
            c.skipped_count,
            c.enabled,
            c.imported_by,
            c.imported_at,
            c.content_sha256,
        )
        for c in rows
    ]


def _get(session: Session, codebook_id: int) -> Codebook:
    codebook = session.get(Codebook, codebook_id)
    if codebook is None:
        raise CodebookError(f"No codebook with id {codebook_id}.")
    return codebook


def set_enabled(session: Session, user: str, codebook_id: int, enabled: bool) -> None:
    """Enable or disable a codebook (audited). PermissionDenied without CODEBOOK_MANAGE."""
    with session.begin():
        require(session, user, Permission.CODEBOOK_MANAGE)
        codebook = _get(session, codebook_id)
        before = codebook.enabled
        codebook.enabled = enabled
        action = "enable_codebook" if enabled else "disable_codebook"
        audit.record(
            session, user, action, "codebook", codebook_id, before={"enabled": before}, after={"enabled": enabled}
        )


def delete_codebook(session: Session, user: str, codebook_id: int) -> str:
    """Delete a codebook and its entries (audited); returns its name. Needs CODEBOOK_MANAGE."""
    with session.begin():
        require(session, user, Permission.CODEBOOK_MANAGE)
        codebook = _get(session, codebook_id)
        name = codebook.name
        before = {"name": name, "file": codebook.filename, "entries": codebook.imported_count}
        session.execute(delete(CodebookEntry).where(CodebookEntry.codebook_id == codebook_id))
        session.execute(delete(Codebook).where(Codebook.id == codebook_id))
        audit.record(session, user, "delete_codebook", "codebook", codebook_id, before=before)
    return name


def enabled_entry_count(session: Session) -> int:
    query = (
        select(func.count())
        .select_from(CodebookEntry)
        .join(Codebook, Codebook.id == CodebookEntry.codebook_id)
        .where(Codebook.enabled.is_(True))
    )
    return session.scalar(query) or 0
