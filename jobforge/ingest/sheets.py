"""Opening an upload the way the Upload page and `map` do: the right sheet, its header, its columns.

A workbook often starts with a cover note; the roles sit on a later sheet. Without a sheet named
by the analyst, the first visible sheet with a title-like column is opened: one whose header
names a job title wins over one whose values merely look like titles, and the note says which
sheet was opened and why. A sheet with no title-like column is refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from jobforge.ingest.columns import ColumnGuess, detect_columns
from jobforge.ingest.errors import IngestError
from jobforge.ingest.reader import file_kind, list_sheets, read_table


@dataclass
class OpenedTable:
    """A file read for an upload: the frame, where it came from and what its columns look like."""

    frame: pd.DataFrame
    filename: str
    sheets: list[str]  # visible sheets of a workbook, in order; [] for a CSV
    sheet: str | None  # the sheet read (None for a CSV)
    guess: ColumnGuess
    sheet_note: str | None = None  # why this sheet was opened, when JobForge chose it
    skipped: dict[str, str] = field(default_factory=dict)  # sheet -> why it was passed over

    @property
    def header_row(self) -> int:
        """The header's row number as the spreadsheet shows it (1 = first row)."""
        return int(self.frame.attrs["header_row"])

    @property
    def header_detected(self) -> bool:
        return bool(self.frame.attrs.get("header_detected", True))

    @property
    def header_note(self) -> str:
        """ "Header: row 4 (found automatically; 2 rows above it skipped)." """
        how = "found automatically" if self.header_detected else "as you chose"
        above = int(self.frame.attrs.get("rows_above_header", 0))
        skipped = f"; {above} row(s) of titles or notes above it skipped" if above else ""
        return f"Header: row {self.header_row} ({how}{skipped})."

    @property
    def warnings(self) -> list[str]:
        return list(self.frame.attrs.get("warnings", []))

    @property
    def title_problem(self) -> str | None:
        """Why this sheet cannot be imported (no title-like column), or None."""
        if self.guess.title is not None:
            return None
        where = f"Sheet '{self.sheet}'" if self.sheet else f"'{self.filename}'"
        others = [name for name in self.sheets if name != self.sheet]
        hint = (
            f"Choose another sheet ({', '.join(others)}) or check the header row" if others else "Check the header row"
        )
        return (
            f"{where} has no title-like column: no header names a job title ('Job Title', 'Position', …) and no "
            f"column holds short text like job titles, so there are no roles to add. {hint}."
        )


def open_table(data: bytes, filename: str, sheet: str | None = None, header_row: int | None = None) -> OpenedTable:
    """Read ``filename`` for an upload (see the module doc for how the sheet is chosen).

    ``sheet`` and ``header_row`` override the choices. Raises :class:`IngestError` when the file
    cannot be read (or no sheet of it can).
    """
    if file_kind(filename) == "csv":
        frame = read_table(data, filename, None, header_row)
        return OpenedTable(frame, filename, [], None, detect_columns(frame))
    sheets = list_sheets(data, filename)
    if sheet is not None or len(sheets) <= 1:
        frame = read_table(data, filename, sheet, header_row)
        return OpenedTable(frame, filename, sheets, frame.attrs["sheet"], detect_columns(frame))
    return _choose_sheet(data, filename, sheets, header_row)


def _choose_sheet(data: bytes, filename: str, sheets: list[str], header_row: int | None) -> OpenedTable:
    read: list[tuple[str, OpenedTable | IngestError]] = []
    for name in sheets:
        try:
            frame = read_table(data, filename, name, header_row)
        except IngestError as exc:
            read.append((name, exc))
            continue
        opened = OpenedTable(frame, filename, sheets, name, detect_columns(frame))
        read.append((name, opened))
        if opened.guess.title_found_by == "header":
            break  # the best kind of sheet: no need to read the rest
    tables = [table for _, table in read if isinstance(table, OpenedTable)]
    if not tables:
        raise next(error for _, error in read if isinstance(error, IngestError))
    chosen = (
        next((table for table in tables if table.guess.title_found_by == "header"), None)
        or next((table for table in tables if table.guess.title is not None), None)
        or tables[0]
    )
    for name, table in read:
        if table is chosen:
            break
        chosen.skipped[name] = _why_passed_over(table)
    if chosen.guess.title is not None:
        position = f"{sheets.index(chosen.sheet or '') + 1} of {len(sheets)}"
        chosen.sheet_note = f"Opened on sheet '{chosen.sheet}' ({position}): {chosen.guess.title_reason}."
        if chosen.skipped:
            passed = "; ".join(f"'{name}' {reason}" for name, reason in chosen.skipped.items())
            chosen.sheet_note += f" Passed over: {passed}."
    return chosen


def _why_passed_over(table: OpenedTable | IngestError) -> str:
    if isinstance(table, IngestError):
        return f"could not be read ({table.message})"
    if table.guess.title is None:
        return "has no title-like column"
    return "has no column named like a job title"
