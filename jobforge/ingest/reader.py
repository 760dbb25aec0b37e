"""Reading an uploaded CSV or XLSX into a DataFrame of text.

Every cell is read as text so that SOC-like codes ("11-1011"), IDs with leading zeros ("00123")
and dates are kept as written. Problems an analyst can fix are raised as :class:`IngestError`
with a message meant for them; things worth knowing but not fatal (the encoding that was
guessed, merged cells) are listed in ``df.attrs["warnings"]`` (see :func:`table_warnings`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import pandas as pd

from jobforge.config import get_settings
from jobforge.errors import JobForgeError

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED = "CSV (.csv, .tsv, .txt) or Excel (.xlsx, .xlsm)"
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Tried in order when a CSV has no byte-order mark. cp1252 (Windows "ANSI") rejects a few byte
# values, so latin-1, which accepts every byte, is the last resort.
FALLBACK_ENCODINGS = ("utf-8", "cp1252", "latin-1")
SNIFF_LINES = 50
SNIFF_CHARS = 200_000  # enough for 50 lines; never split a whole large file
_SEP_HINT = re.compile(r"sep=([,;\t|])\r?\n")
_VALUE_LIKE = re.compile(r"[\d\s.,:/-]+")


class IngestError(JobForgeError, ValueError):
    """The uploaded file cannot be used; the message tells the analyst why and what to do."""


def table_warnings(df: pd.DataFrame) -> list[str]:
    """Warnings noted while reading ``df`` (empty when it was read cleanly)."""
    return list(df.attrs.get("warnings", []))


def file_kind(filename: str) -> str:
    """ "csv" or "xlsx" from the file name; :class:`IngestError` for anything else."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise IngestError(
            f"'{filename}' is an old-style Excel 97-2003 file (.xls). Save it as .xlsx or CSV and upload it again."
        )
    shown = suffix or "no extension"
    raise IngestError(f"'{filename}' has an unsupported file type ({shown}). Upload a {SUPPORTED} file.")


def check_size(data: bytes, filename: str) -> None:
    limit_mb = get_settings().max_upload_mb
    if len(data) > limit_mb * 1024 * 1024:
        size_mb = len(data) / (1024 * 1024)
        raise IngestError(
            f"'{filename}' is {size_mb:.1f} MB, over the upload limit of {limit_mb} MB "
            "(setting JOBFORGE_MAX_UPLOAD_MB)."
        )


def list_sheets(data: bytes, filename: str) -> list[str]:
    """Names of the visible worksheets of an XLSX, in workbook order; ``[]`` for a CSV."""
    if file_kind(filename) == "csv":
        return []
    workbook = _open_workbook(data, filename)
    try:
        return _visible_sheets(workbook)
    finally:
        workbook.close()


def read_table(data: bytes, filename: str, sheet: str | None = None) -> pd.DataFrame:
    """The file's rows as text, with the first non-empty row as the header.

    Raises :class:`IngestError` for a wrong file type, an empty file, a missing header, duplicate
    column names or a file over ``settings.max_upload_mb``.
    """
    kind = file_kind(filename)
    if not data or not data.strip():
        raise IngestError(f"'{filename}' is empty.")
    check_size(data, filename)
    warnings: list[str] = []
    if kind == "csv":
        grid = _read_csv_grid(data, filename, warnings)
        where = f"'{filename}'"
    else:
        grid, sheet_name = _read_xlsx_grid(data, filename, sheet, warnings)
        where = f"sheet '{sheet_name}' of '{filename}'"
    df = _frame_from_grid(grid, where, warnings)
    df.attrs["warnings"] = warnings
    return df


# ------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding used: BOMs first, then UTF-8, cp1252, latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    for encoding in FALLBACK_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines most consistently."""
    sample = text[:SNIFF_CHARS].splitlines()[:SNIFF_LINES]
    sample = [line for line in sample if line.strip()]
    if not sample:
        return ","
    best, best_key = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        header_width = widths[0]
        if header_width < 2:
            continue
        # Share of lines as wide as the header, then the width itself: a real delimiter splits
        # every line into the same number of fields.
        key = (sum(width == header_width for width in widths) / len(widths), header_width)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _read_csv_grid(data: bytes, filename: str, warnings: list[str]) -> pd.DataFrame:
    text, encoding = decode_text(data)
    if encoding in ("cp1252", "latin-1"):
        warnings.append(f"'{filename}' is not UTF-8; it was read as {encoding} (Windows/Western European text).")
    elif encoding == "utf-16":
        warnings.append(f"'{filename}' was read as UTF-16 (it starts with a UTF-16 byte-order mark).")
    if "\x00" in text:
        raise IngestError(f"'{filename}' does not look like a text CSV file (it contains binary data).")
    # Excel writes a "sep=;" first line when it exports CSV with a regional separator.
    hint = _SEP_HINT.match(text)
    if hint:
        delimiter, text = hint.group(1), text[hint.end() :]
    else:
        delimiter = sniff_delimiter(text)
    if delimiter != ",":
        warnings.append(f"Columns are separated by {DELIMITER_NAMES[delimiter]}s.")
    if not text.strip():
        raise IngestError(f"'{filename}' is empty.")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=object,  # plain Python strings (pandas' Arrow strings are slow to iterate)
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="python" if delimiter == "|" else "c",
        )
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"'{filename}' is empty.") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise IngestError(_parser_message(filename, str(exc), delimiter)) from exc
    return _as_text(frame)


def _parser_message(filename: str, error: str, delimiter: str) -> str:
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    if fields:
        expected, line, seen = fields.groups()
        return (
            f"'{filename}' line {line} has {seen} fields but the header has {expected} (columns are separated by "
            f"{DELIMITER_NAMES[delimiter]}s). Quote values that contain the separator, or fix that line."
        )
    if "EOF inside string" in error:
        return f"'{filename}' has a quote (\") that is never closed; fix the quoting and upload it again."
    return f"'{filename}' could not be read as CSV: {error}"


# ------------------------------------------------------------------------------------------
# XLSX
# ------------------------------------------------------------------------------------------


def _open_workbook(data: bytes, filename: str) -> Any:
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(f"'{filename}' is not a valid Excel .xlsx file (it may be a renamed CSV or a damaged file).")
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several error types for damaged files
        raise IngestError(f"'{filename}' could not be opened as an Excel workbook: {exc}") from exc


def _visible_sheets(workbook: Any) -> list[str]:
    names = [meta.name for meta in workbook.sheets_metadata if str(meta.visible).endswith("Visible")]
    return names or list(workbook.sheet_names)


def _cell_text(value: Any) -> str:
    """A cell value as the text an analyst sees (3.0 -> "3", a date -> "2024-01-31", empty -> "")."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        if value != value:  # NaN: a missing cell
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if value is None:
        return ""
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _as_text(grid: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text. Columns holding only strings (most) are left as they are."""
    for column in grid.columns:
        if pd.api.types.infer_dtype(grid[column], skipna=False) != "string":
            grid[column] = grid[column].map(_cell_text).astype(object)
    return grid


_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# A formula cell whose value is missing or empty: "<f>…</f><v/></c>", "<f …/></c>".
_UNCALCULATED = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")
FORMULA_SCAN_BYTES = 16 * 1024 * 1024  # enough to notice; a sheet's formulas are rarely all at its end


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip path of ``sheet``'s XML (workbook.xml names it, its relationships locate it)."""
    from xml.etree import ElementTree

    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (
            node.get(f"{_REL_NS}id")
            for node in workbook.iter()
            if node.tag.endswith("}sheet") and node.get("name") == sheet
        ),
        None,
    )
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((node.get("Target") for node in rels if node.get("Id") == rel_id), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


_FORMULA = re.compile(rb"<f\b")


def _formula_counts(data: bytes, sheet: str) -> tuple[int, int]:
    """(formula cells, formula cells without a saved value) in the first 16 MB of the sheet's XML."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return 0, 0
            formulas, found, tail, read = 0, 0, b"", 0
            with archive.open(part) as stream:
                while read < FORMULA_SCAN_BYTES:
                    chunk = stream.read(1024 * 1024)
                    if not chunk:
                        break
                    read += len(chunk)
                    window = tail + chunk
                    if b"<f" in window:
                        # Count matches ending in the new bytes only, so none is counted twice.
                        formulas += sum(1 for match in _FORMULA.finditer(window) if match.end() > len(tail))
                        found += sum(1 for match in _UNCALCULATED.finditer(window) if match.end() > len(tail))
                    tail = window[-256:]
            return formulas, found
    except (KeyError, zipfile.BadZipFile, SyntaxError):  # an unusual layout: no warning rather than a failure
        return 0, 0


def _cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def _read_xlsx_grid(data: bytes, filename: str, sheet: str | None, warnings: list[str]) -> tuple[pd.DataFrame, str]:
    workbook = _open_workbook(data, filename)
    try:
        sheets = _visible_sheets(workbook)
        if sheet is None:
            if not sheets:
                raise IngestError(f"'{filename}' has no worksheets.")
            sheet = sheets[0]
        elif sheet not in workbook.sheet_names:
            raise IngestError(f"'{filename}' has no sheet named '{sheet}'. Its sheets: {', '.join(sheets)}.")
        worksheet = workbook.get_sheet_by_name(sheet)
        # Formulas come back as the values Excel saved with the file; merged cells hold their
        # value in the top-left cell only.
        values = worksheet.to_python(skip_empty_area=True)
        merged = list(worksheet.merged_cell_ranges or [])
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"Sheet '{sheet}' of '{filename}' could not be read: {exc}") from exc
    finally:
        workbook.close()
    formulas, uncalculated = _formula_counts(data, sheet)
    if formulas > uncalculated:
        warnings.append(
            f"Sheet '{sheet}' has {formulas - uncalculated} formula cell(s): each was read as the value saved with "
            "the file, not recalculated."
        )
    if uncalculated:
        warnings.append(
            f"Sheet '{sheet}' has {uncalculated} formula cell(s) saved without their values (the file was written by "
            "a program that does not calculate, such as a script): they are read as empty. Open the file in Excel "
            "and save it to store the values."
        )
    if merged:
        examples = ", ".join(f"{_cell_name(*start)}:{_cell_name(*end)}" for start, end in merged[:3])
        more = f" and {len(merged) - 3} more" if len(merged) > 3 else ""
        warnings.append(
            f"Sheet '{sheet}' has {len(merged)} merged cell range(s) ({examples}{more}): each value was read "
            "into the top-left cell only; the other cells of a merged range are empty."
        )
    return _as_text(pd.DataFrame(values, dtype=object)), sheet


# ------------------------------------------------------------------------------------------
# Header and frame
# ------------------------------------------------------------------------------------------


def _looks_like_value(header: str) -> bool:
    """A header cell that is a number or a date is data, not a column name."""
    return bool(_VALUE_LIKE.fullmatch(header))


def _missing_header(header: list[str], sample: list[list[str]]) -> bool:
    """The first row looks like data: only numbers, numbers without any known column name, or
    names that recur as values of their own columns (a job title repeated below it)."""
    from jobforge.ingest.columns import is_known_header

    named = [(index, name) for index, name in enumerate(header) if name]
    if not named or all(_looks_like_value(name) for _, name in named):
        return True
    if any(is_known_header(name) for _, name in named):
        return False
    if any(_looks_like_value(name) for _, name in named):
        return True
    recurring = sum(any(str(row[index]).strip() == name for row in sample) for index, name in named)
    return recurring * 2 >= len(named) and recurring > 0


def _frame_from_grid(grid: pd.DataFrame, where: str, warnings: list[str]) -> pd.DataFrame:
    """Header and body from a grid of text cells (no header applied yet), vectorised."""
    grid = grid.loc[(grid.to_numpy() != "").any(axis=1)]
    if grid.empty:
        raise IngestError(f"{where} has no rows.")
    # The header is the first row with visible text (leading rows of spaces are skipped too; in
    # the body such rows are simply rows without a title).
    first = 0
    while first < len(grid) and not any(str(cell).strip() for cell in grid.iloc[first].tolist()):
        first += 1
    if first == len(grid):
        raise IngestError(f"{where} has no rows.")
    grid = grid.iloc[first:]
    header = [str(cell).strip() for cell in grid.iloc[0].tolist()]
    body = grid.iloc[1:]
    if _missing_header(header, body.head(1000).to_numpy().tolist()):
        raise IngestError(
            f"{where} has no header row: the first row should name the columns (for example 'Job Title')."
        )
    # Columns without a header: drop them when empty, else give them a name and say so.
    keep: list[int] = []
    for index, name in enumerate(header):
        if name:
            keep.append(index)
        elif len(body) and body.iloc[:, index].map(lambda value: bool(str(value).strip())).any():
            header[index] = f"Column {index + 1}"
            warnings.append(f"Column {index + 1} has no header; it was named '{header[index]}'.")
            keep.append(index)
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for index in keep:
        folded = header[index].casefold()
        if folded in seen and header[index] not in duplicates:
            duplicates.append(header[index])
        seen.setdefault(folded, header[index])
    if duplicates:
        listed = ", ".join(f"'{name}'" for name in duplicates)
        raise IngestError(f"{where} has duplicate column names: {listed}. Rename the columns so each name is unique.")
    frame = body.iloc[:, keep].copy()
    frame.columns = [header[index] for index in keep]
    return frame.reset_index(drop=True)
