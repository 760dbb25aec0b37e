"""An upload's rows as the file holds them: text for CSV output, typed cells for XLSX output.

``read_table`` gives every cell as text (what the analyst saw in the preview). For an XLSX export
the per-row columns should be what the workbook held: numbers as numbers, dates as dates, text as
text. :func:`typed_rows` reads the workbook's cells again and lines them up with the text frame by
header and row; the line-up is checked cell by cell against the text, and when anything differs
the text frame is used (so a change in how files are read can never put a value on the wrong row).

A CSV has no types: a cell whose text is a plain number (it reads back to the same text: "3",
"6.5", "-2", but not "007", "1,000" or "3.50") becomes a number in XLSX; everything else stays text.
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from jobforge.ingest.reader import file_kind, read_table

_log = logging.getLogger(__name__)
MAX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits; longer numbers stay text


def cell_text(value: Any) -> str:
    """A cell value as the text an analyst sees (3.0 -> "3", a date -> "2024-01-31", missing -> "").

    The same rendering as the reader's, so an XLSX cell exported to CSV reads as it did on upload.
    """
    if value is None or value is pd.NA:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool or isinstance(value, np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating):
        value = float(value)
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def number_or_text(text: Any) -> Any:
    """A CSV cell's text as a number when it is written exactly as that number would be, else unchanged."""
    if type(text) is not str or not text or len(text) > MAX_EXACT_DIGITS + 2:
        return text
    first = text[0]
    if not (first.isdigit() or (first == "-" and len(text) > 1)):
        return text
    try:
        number: int | float = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return text
    if cell_text(number) != text or (isinstance(number, float) and not np.isfinite(number)):
        return text
    return number


def numbers_in(values: pd.Series) -> pd.Series:
    """:func:`number_or_text` over a column of text."""
    return pd.Series([number_or_text(value) for value in values.tolist()], index=values.index, dtype=object)


def date_or_text(text: Any) -> Any:
    """ISO text ("2024-01-31", "2024-01-31 08:30:00") as a date or date-time when it reads back the same."""
    if type(text) is not str or not 10 <= len(text) <= 19:
        return text
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 10:
        return value.date() if value.date().isoformat() == text else text
    return value if cell_text(value) == text else text


def dates_in(values: pd.Series) -> pd.Series:
    """:func:`date_or_text` over a column."""
    return pd.Series([date_or_text(value) for value in values.tolist()], index=values.index, dtype=object)


def upload_rows(
    content: bytes, filename: str, sheet: str | None, typed: bool = True, header_row: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(text frame, typed frame) of an upload's rows: same shape, columns and order.

    ``header_row`` is the upload's (as stored). ``typed=False`` skips the typing (the second frame is
    then the text frame itself). Raises :class:`~jobforge.ingest.reader.IngestError` when the
    stored file cannot be read.
    """
    text = read_table(content, filename, sheet, header_row)
    if not typed:
        return text, text
    if file_kind(filename) == "csv":
        typed = text.apply(numbers_in) if len(text.columns) else text.copy()
        return text, typed
    return text, _workbook_cells(content, filename, sheet, text)


def _workbook_cells(content: bytes, filename: str, sheet: str | None, text: pd.DataFrame) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        try:
            name = sheet or next(
                (meta.name for meta in workbook.sheets_metadata if str(meta.visible).endswith("Visible")),
                workbook.sheet_names[0],
            )
            raw = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
        finally:
            workbook.close()
    except Exception as exc:  # any calamine failure: the text frame is still right
        _log.warning("typed cells of %s could not be read (%r); exporting text", filename, exc)
        return text.copy()
    lined_up = _line_up(raw, text)
    if lined_up is None:
        _log.warning("typed cells of %s do not line up with the rows read; exporting text", filename)
        return text.copy()
    return lined_up


def _line_up(raw: list[list[Any]], text: pd.DataFrame) -> pd.DataFrame | None:
    """The raw cells under ``text``'s header, or None when they do not match ``text`` exactly."""
    width = max((len(row) for row in raw), default=0)
    grid = [[cell_text(value) for value in row] + [""] * (width - len(row)) for row in raw]
    found = _header(grid, [str(column) for column in text.columns])
    if found is None:
        return None
    header_at, positions = found
    body = [index for index in range(header_at + 1, len(grid)) if any(cell != "" for cell in grid[index])]
    if len(body) != len(text):
        return None
    picked_text = np.array([[grid[row][col] for col in positions] for row in body], dtype=object)
    if picked_text.shape != text.shape or not (picked_text == text.to_numpy(dtype=object)).all():
        return None
    padded = [list(raw[row]) + [""] * (width - len(raw[row])) for row in body]
    cells = [[padded[row][col] for col in positions] for row in range(len(body))]
    return pd.DataFrame(cells, columns=text.columns, index=text.index, dtype=object)


def _header(grid: list[list[str]], names: list[str]) -> tuple[int, list[int]] | None:
    """The first row holding every column name, and where each name sits in it."""
    for at, row in enumerate(grid):
        stripped = [cell.strip() for cell in row]
        positions = [_position(stripped, name) for name in names]
        if all(position is not None for position in positions):
            return at, [position for position in positions if position is not None]
    return None


def _position(header: list[str], name: str) -> int | None:
    if name in header:
        return header.index(name)
    if name.startswith("Column ") and name[7:].isdigit():  # a column the reader named for lack of a header
        index = int(name[7:]) - 1
        return index if index < len(header) and header[index] == "" else None
    return None
