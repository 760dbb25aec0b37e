"""Reading an uploaded CSV or XLSX into a DataFrame of text.

Every cell is read as text so that SOC-like codes ("11-1011"), IDs with leading zeros ("00123")
and dates are kept as written. Problems an analyst can fix are raised as :class:`IngestError`
with a message meant for them; things worth knowing but not fatal (the encoding that was
guessed, merged cells) are listed in ``df.attrs["warnings"]`` (see :func:`table_warnings`).

The header is the first row that looks like one (:mod:`jobforge.ingest.header`), so report titles,
notes and blank rows above it are skipped; ``header_row`` chooses it instead. A workbook's size,
declared dimensions and cell count are checked before it is parsed (:mod:`jobforge.ingest.limits`);
:mod:`jobforge.ingest.sandbox` runs the reading in a memory-bounded process for the app and CLI.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from jobforge.ingest import header as header_rows
from jobforge.ingest.errors import IngestError
from jobforge.ingest.limits import UploadLimits, check_sheet_extent, check_upload_size, check_workbook_size

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED = "CSV (.csv, .tsv, .txt) or Excel (.xlsx, .xlsm)"
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# When neither a byte-order mark nor UTF-8 fits, charset-normalizer guesses (see guess_encoding);
# cp1252 (Windows "ANSI", the usual legacy export) and then latin-1, which accepts every byte, are
# the last resort.
PREFERRED_LEGACY = "cp1252"
GUESS_SAMPLE_BYTES = 1024 * 1024
SNIFF_LINES = 50
SNIFF_CHARS = 200_000  # enough for 50 lines; never split a whole large file
SHAPE_RECORDS = 200  # records whose field counts are checked (titles and the header are among the first)
_SEP_HINT = re.compile(r"sep=([,;\t|])\r?\n")


__all__ = ["IngestError", "file_kind", "header_row_of", "list_sheets", "read_table", "table_warnings"]


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
    """:class:`IngestError` when ``data`` is over ``settings.max_upload_mb``."""
    check_upload_size(len(data), filename, UploadLimits.from_settings())


def list_sheets(data: bytes, filename: str) -> list[str]:
    """Names of the visible worksheets of an XLSX, in workbook order; ``[]`` for a CSV."""
    if file_kind(filename) == "csv":
        return []
    check_workbook_size(data, filename, UploadLimits.from_settings())
    workbook = _open_workbook(data, filename)
    try:
        return _visible_sheets(workbook)
    finally:
        workbook.close()


def read_table(data: bytes, filename: str, sheet: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """The file's rows as text under its header row.

    ``header_row`` is the header's row number as a spreadsheet shows it (1 = the first row);
    ``None`` finds it (:func:`jobforge.ingest.header.find_header`). ``df.attrs`` holds
    ``warnings``, ``sheet`` (None for a CSV), ``header_row`` (the row used) and
    ``header_detected`` (False when ``header_row`` was given).

    Raises :class:`IngestError` for a wrong file type, an empty file, no header row, duplicate
    column names, a cell over ``settings.upload_max_cell_chars``, or a file over the upload limits.
    """
    kind = file_kind(filename)
    if not data or not data.strip():
        raise IngestError(f"'{filename}' is empty.")
    limits = UploadLimits.from_settings()
    check_upload_size(len(data), filename, limits)
    warnings: list[str] = []
    if kind == "csv":
        grid, shape = _read_csv_grid(data, filename, warnings)
        where, sheet_name, origin = f"'{filename}'", None, (0, 0)
    else:
        grid, sheet_name, origin = _read_xlsx_grid(data, filename, sheet, warnings, limits)
        where = f"sheet '{sheet_name}' of '{filename}'"
    _check_cells(grid, where, origin, limits.max_cell_chars, kind)
    merged = grid.attrs.pop("merged", [])
    df = _frame_from_grid(grid, where, warnings, header_row, origin[0])
    if kind == "csv":
        shape.check_below(df.attrs["header_row"], filename)
    elif merged:
        warnings.extend(merged_warnings(sheet_name, merged, df.attrs["header_row"]))
    df.attrs["warnings"] = warnings
    df.attrs["sheet"] = sheet_name
    return df


def header_row_of(df: pd.DataFrame) -> int | None:
    """The row number (1-based, as the spreadsheet shows it) ``df``'s header was read from."""
    return df.attrs.get("header_row")


# ------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding used.

    A byte-order mark decides first, then strict UTF-8; otherwise charset-normalizer guesses from
    the first megabyte (cp1252 winning a tie, as the commonest legacy export); latin-1 is the
    last resort. UTF-16 without a mark (NUL bytes in ASCII text) is left to the guess too.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" not in data[:GUESS_SAMPLE_BYTES]:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    encoding = guess_encoding(data[:GUESS_SAMPLE_BYTES])
    if encoding is None:
        try:
            return data.decode(PREFERRED_LEGACY), PREFERRED_LEGACY
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    return data.decode(encoding, errors="replace"), encoding


def guess_encoding(sample: bytes) -> str | None:
    """The encoding of ``sample`` by charset-normalizer (``None`` when nothing fits).

    Short samples fit many legacy code pages equally well (German text reads as cp775 as happily
    as cp1252). Among the guesses with the least "chaos", the one whose text has the fewest
    implausible characters (non-ASCII that is neither a letter nor common punctuation, such as
    "³" for a Polish "ł" read as cp1252) wins, then the commoner code page (cp1252 first).
    """
    from charset_normalizer import from_bytes

    if len(sample) == GUESS_SAMPLE_BYTES:  # do not end in the middle of a line (or a character)
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    matches = list(from_bytes(sample))
    if not matches:
        return None
    least_chaos = min(match.chaos for match in matches)
    tied = [match.encoding for match in matches if match.chaos == least_chaos][:10]
    best = min(tied, key=lambda name: (_implausible(sample, name), _commonness(name), tied.index(name)))
    try:  # the same text either way: name the commoner code page
        if sample.decode(PREFERRED_LEGACY) == sample.decode(best, errors="replace"):
            return PREFERRED_LEGACY
    except UnicodeDecodeError:
        pass
    return best


COMMON_ENCODINGS = ("cp1252", "utf_8", "utf_16", "utf_16_le", "utf_16_be", "cp1250", "cp1251", "latin_1")
_PLAUSIBLE_SYMBOLS = set("€£¥°·–—‘’“”«»…•§©®™ ¿¡")


def _implausible(sample: bytes, encoding: str) -> int:
    text = sample.decode(encoding, errors="replace")
    return sum(
        1
        for char in text
        if ord(char) > 127 and char not in _PLAUSIBLE_SYMBOLS and not unicodedata.category(char).startswith(("L", "M"))
    )


def _commonness(encoding: str) -> int:
    name = encoding.lower().replace("-", "_")
    return COMMON_ENCODINGS.index(name) if name in COMMON_ENCODINGS else len(COMMON_ENCODINGS)


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


def _read_csv_grid(data: bytes, filename: str, warnings: list[str]) -> tuple[pd.DataFrame, CsvShape]:
    text, encoding = decode_text(data)
    if encoding == "utf-16":
        warnings.append(f"'{filename}' was read as UTF-16 (it starts with a UTF-16 byte-order mark).")
    elif encoding not in ("utf-8", "utf-8-sig"):
        warnings.append(
            f"'{filename}' is not UTF-8; its encoding was guessed as {encoding}{_encoding_note(encoding)}. "
            "Check accented letters in the preview; save the file as UTF-8 CSV to be sure."
        )
    if "\ufffd" in text:
        warnings.append(f"'{filename}' has bytes that are not valid {encoding}: they were read as \ufffd.")
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
    # The csv module refuses fields over 128 KB; _check_cells refuses long cells with their row instead.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    shape = CsvShape.of(text, delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            # As wide as the widest first line: a report title above the header is one field wide.
            names=range(shape.width),
            dtype=object,  # plain Python strings (pandas' Arrow strings are slow to iterate)
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,  # keep record numbers: row N of the file is index N - 1
            engine="python" if delimiter == "|" else "c",
        )
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"'{filename}' is empty.") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise IngestError(_parser_message(filename, str(exc), delimiter)) from exc
    return _as_text(frame), shape


@dataclass(frozen=True)
class CsvShape:
    """Field counts of a CSV's first records: how wide to read it, and lines wider than their header."""

    delimiter: str
    fields: list[int]  # fields per record (a blank line has 0)
    filled: list[int]  # position of the last non-empty field + 1

    @classmethod
    def of(cls, text: str, delimiter: str) -> CsvShape:
        records = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), SHAPE_RECORDS))
        filled = [max((i + 1 for i, cell in enumerate(record) if cell.strip()), default=0) for record in records]
        return cls(delimiter, [len(record) for record in records], filled)

    @property
    def width(self) -> int:
        return max(self.fields, default=1) or 1

    def check_below(self, header_row: int, filename: str) -> None:
        """:class:`IngestError` for a line below the header with values past the header's last field."""
        if header_row > len(self.fields):
            return
        allowed = self.fields[header_row - 1]
        for index in range(header_row, len(self.fields)):
            if self.filled[index] > allowed:
                raise IngestError(
                    f"'{filename}' line {index + 1} has {self.fields[index]} fields but the header has {allowed} "
                    f"(columns are separated by {DELIMITER_NAMES[self.delimiter]}s). Quote values that contain the "
                    "separator, or fix that line."
                )


ENCODING_NAMES = {
    "cp1252": "Windows Western European",
    "latin_1": "Western European",
    "cp1250": "Windows Central European",
    "cp1251": "Windows Cyrillic",
    "cp932": "Japanese Shift-JIS",
    "utf_16_le": "UTF-16 without a byte-order mark",
    "utf_16_be": "UTF-16 without a byte-order mark",
}


def _encoding_note(encoding: str) -> str:
    name = ENCODING_NAMES.get(encoding.lower().replace("-", "_"))
    return f" ({name})" if name else ""


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


def _read_xlsx_grid(
    data: bytes, filename: str, sheet: str | None, warnings: list[str], limits: UploadLimits
) -> tuple[pd.DataFrame, str, tuple[int, int]]:
    """The sheet's cells as text, its name, and the (row, column) of its top-left cell (0-based)."""
    check_workbook_size(data, filename, limits)
    workbook = _open_workbook(data, filename)
    try:
        sheets = _visible_sheets(workbook)
        if sheet is None:
            if not sheets:
                raise IngestError(f"'{filename}' has no worksheets.")
            sheet = sheets[0]
        elif sheet not in workbook.sheet_names:
            raise IngestError(f"'{filename}' has no sheet named '{sheet}'. Its sheets: {', '.join(sheets)}.")
        # Before calamine sees the sheet: it allocates every cell of the used range at once.
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            part = _sheet_part(archive, sheet)
            if part is not None:
                check_sheet_extent(archive, part, f"Sheet '{sheet}' of '{filename}'", limits)
        worksheet = workbook.get_sheet_by_name(sheet)
        # Formulas come back as the values Excel saved with the file; merged cells hold their
        # value in the top-left cell only.
        values = worksheet.to_python(skip_empty_area=True)
        origin = tuple(worksheet.start or (0, 0))
        merged = list(worksheet.merged_cell_ranges or [])
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"Sheet '{sheet}' of '{filename}' could not be read: {exc}") from exc
    finally:
        workbook.close()
    _formula_warnings(data, sheet, warnings)
    grid = _as_text(pd.DataFrame(values, dtype=object))
    nuls = _remove_nuls(grid)
    if nuls:
        warnings.append(f"Sheet '{sheet}' has {nuls} cell(s) with NUL characters (invisible control bytes): removed.")
    grid.attrs["merged"] = merged
    return grid, sheet, (int(origin[0]), int(origin[1]))


def merged_warnings(sheet: str, merged: list[Any], header_row: int) -> list[str]:
    """Warnings for merged ranges: those in the table, and those above its header (report titles)."""
    inside = [(start, end) for start, end in merged if end[0] + 1 >= header_row]
    above = [(start, end) for start, end in merged if end[0] + 1 < header_row]
    notes = []
    if inside:
        examples = ", ".join(f"{_cell_name(*start)}:{_cell_name(*end)}" for start, end in inside[:3])
        more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
        notes.append(
            f"Sheet '{sheet}' has {len(inside)} merged cell range(s) ({examples}{more}): each value was read "
            "into the top-left cell only; the other cells of a merged range are empty."
        )
    if above:
        examples = ", ".join(f"{_cell_name(*start)}:{_cell_name(*end)}" for start, end in above[:3])
        notes.append(f"Sheet '{sheet}' has merged cells above the header ({examples}): report titles, not read.")
    return notes


def _formula_warnings(data: bytes, sheet: str, warnings: list[str]) -> None:
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


def _remove_nuls(grid: pd.DataFrame) -> int:
    """Drop NUL characters (Postgres refuses them in text; Excel shows nothing); how many cells had one."""
    found = 0
    for column in grid.columns:
        values = grid[column].tolist()
        if "\x00" in "".join(values):  # one scan of the column, not one per cell
            found += sum("\x00" in value for value in values)
            grid[column] = [value.replace("\x00", "") for value in values]
    return found


def _check_cells(grid: pd.DataFrame, where: str, origin: tuple[int, int], max_chars: int, kind: str) -> None:
    """:class:`IngestError` naming the first cell longer than ``max_chars`` characters."""
    for position, column in enumerate(grid.columns):
        values = grid[column].tolist()
        if not values or max(map(len, values)) <= max_chars:
            continue
        row = next(index for index, value in enumerate(values) if len(value) > max_chars)
        row_number, col = row + origin[0] + 1, position + origin[1]
        cell = _cell_name(row_number - 1, col) if kind == "xlsx" else f"column {col + 1}"
        raise IngestError(
            f"{where}: row {row_number} ({cell}) has a cell of {len(values[row]):,} characters, over the limit "
            f"of {max_chars:,} (setting JOBFORGE_UPLOAD_MAX_CELL_CHARS). Shorten or remove it and upload again."
        )


# ------------------------------------------------------------------------------------------
# Header and frame
# ------------------------------------------------------------------------------------------


def _frame_from_grid(
    grid: pd.DataFrame, where: str, warnings: list[str], header_row: int | None, row_offset: int
) -> pd.DataFrame:
    """Header and body from a grid of text cells (no header applied yet), vectorised.

    ``row_offset`` is the sheet row of the grid's first row (0-based); row numbers in messages
    and ``attrs["header_row"]`` are as the spreadsheet shows them.
    """
    grid = grid.loc[(grid.to_numpy() != "").any(axis=1)]
    if grid.empty:
        raise IngestError(f"{where} has no rows.")
    positions = grid.index.to_numpy()  # grid rows (0-based from row_offset) of the non-empty rows
    if header_row is None:
        head = [
            [str(cell).strip() for cell in row]
            for row in grid.iloc[: header_rows.SCAN_ROWS + header_rows.SAMPLE_ROWS].to_numpy().tolist()
        ]
        found = header_rows.find_header(head)
        if found is None:
            raise IngestError(
                f"{where} has no header row: no row above the data names the columns (for example 'Job Title'). "
                "Choose the header row by its number."
            )
        detected = True
    else:
        wanted = header_row - 1 - row_offset
        matches = np.flatnonzero(positions == wanted)
        if not len(matches):
            shown = [int(p) + row_offset + 1 for p in positions[:5]]
            raise IngestError(
                f"{where}: row {header_row} is empty or outside the sheet; rows with values start at "
                f"{', '.join(map(str, shown))}…"
            )
        found, detected = int(matches[0]), False
    header = [str(cell).strip() for cell in grid.iloc[found].tolist()]
    body = grid.iloc[found + 1 :]
    frame = _named_columns(header, body, where, warnings)
    frame.attrs["header_row"] = int(positions[found]) + row_offset + 1
    frame.attrs["header_detected"] = detected
    frame.attrs["rows_above_header"] = found  # rows with text above it (report titles, notes): skipped
    return frame


def _named_columns(header: list[str], body: pd.DataFrame, where: str, warnings: list[str]) -> pd.DataFrame:
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
