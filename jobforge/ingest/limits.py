"""Limits that keep a hostile or oversized spreadsheet from hurting the server, checked before parsing.

A 1.6 KB workbook whose only cells are A1 and XFD1048576 makes the XLSX parser allocate every
cell of that range (512 GB); a shared-strings bomb expands a few kilobytes into gigabytes. So,
before calamine sees a workbook: the zip's declared uncompressed size, then the sheet's declared
dimension, the extent its cells really reach and its cell count are checked, reading the sheet's
XML as a stream (never whole). Each limit is a setting and each refusal says which one.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from jobforge.config import get_settings
from jobforge.ingest.errors import IngestError

SCAN_CHUNK = 1024 * 1024
# A shared string this long is refused before parsing: a "bomb" that would take the memory of a
# title of hundreds of millions of characters. Shorter ones are parsed and the reader refuses a
# cell over the cell limit with its row.
BOMB_TEXT_BYTES = 16 * 1024 * 1024
_DIMENSION = re.compile(rb"<dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
# r="…" attributes: a row's ("12") and a cell's ("XFD12"), wherever they stand in the tag.
_REF_COLUMN = re.compile(rb" r=\"([A-Z]+)")
_REF_ROW = re.compile(rb" r=\"[A-Z]*(\d+)\"")
_CELL_STARTS = (b"<c ", b"<c>")


class UploadLimitError(IngestError):
    """The file is over one of the upload limits; the message names the limit and its setting."""


@dataclass(frozen=True)
class UploadLimits:
    """The upload limits in force (settings ``JOBFORGE_MAX_UPLOAD_MB`` and ``JOBFORGE_UPLOAD_*``)."""

    max_upload_mb: int
    max_uncompressed_mb: int
    max_cells: int
    max_cell_chars: int
    max_roles: int
    parse_memory_mb: int
    parse_timeout: float

    @classmethod
    def from_settings(cls) -> UploadLimits:
        settings = get_settings()
        return cls(
            max_upload_mb=settings.max_upload_mb,
            max_uncompressed_mb=settings.upload_max_uncompressed_mb,
            max_cells=settings.upload_max_cells,
            max_cell_chars=settings.upload_max_cell_chars,
            max_roles=settings.upload_max_roles,
            parse_memory_mb=settings.upload_parse_memory_mb,
            parse_timeout=settings.upload_parse_timeout,
        )


@dataclass(frozen=True)
class SheetExtent:
    rows: int  # the highest row number a cell (or the declared dimension) reaches
    columns: int  # the highest column number, likewise
    cells: int  # cells written in the sheet's XML


def check_upload_size(size: int, filename: str, limits: UploadLimits) -> None:
    if size > limits.max_upload_mb * 1024 * 1024:
        raise UploadLimitError(
            f"'{filename}' is {size / (1024 * 1024):.1f} MB, over the upload limit of {limits.max_upload_mb} MB "
            "(setting JOBFORGE_MAX_UPLOAD_MB)."
        )


def check_workbook_size(data: bytes, filename: str, limits: UploadLimits) -> None:
    """Refuse a workbook whose parts declare more than ``max_uncompressed_mb`` once unzipped, or
    whose shared strings hold one text far over the cell limit (a "shared-strings bomb")."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared > limits.max_uncompressed_mb * 1024 * 1024:
                raise UploadLimitError(
                    f"'{filename}' expands to {declared / (1024 * 1024):,.0f} MB when unzipped, over the limit of "
                    f"{limits.max_uncompressed_mb:,} MB (setting JOBFORGE_UPLOAD_MAX_UNCOMPRESSED_MB). Save it again "
                    "from Excel, or as CSV."
                )
            strings = [name for name in archive.namelist() if name.lower().endswith("sharedstrings.xml")]
            for part in strings:
                allowed = max(BOMB_TEXT_BYTES, 4 * limits.max_cell_chars)
                longest = longest_text(archive, part, limits.max_uncompressed_mb * 1024 * 1024, stop_above=allowed)
                if longest > allowed:
                    raise UploadLimitError(
                        f"'{filename}' holds a text of more than {allowed:,} bytes, far over the cell limit of "
                        f"{limits.max_cell_chars:,} characters (setting JOBFORGE_UPLOAD_MAX_CELL_CHARS). No job title "
                        "or cell is that long: remove it, or save the table as CSV."
                    )
    except zipfile.BadZipFile:
        return  # not a zip: the reader says so in its own words


def longest_text(archive: zipfile.ZipFile, part: str, max_bytes: int, stop_above: int | None = None) -> int:
    """The longest run of bytes between two tags in ``part``, streamed (at most ``max_bytes`` read;
    reading stops as soon as a run is longer than ``stop_above``)."""
    longest = current = read = 0
    with archive.open(part) as stream:
        while read <= max_bytes and (stop_above is None or longest <= stop_above):
            chunk = stream.read(SCAN_CHUNK)
            if not chunk:
                break
            read += len(chunk)
            pieces = chunk.split(b"<")
            if len(pieces) == 1:
                current += len(chunk)
            else:
                longest = max(longest, current + len(pieces[0]), max(map(len, pieces[1:-1]), default=0))
                current = len(pieces[-1])
            longest = max(longest, current)
    return longest


def check_declared_dimensions(data: bytes, filename: str, limits: UploadLimits) -> None:
    """Refuse a workbook a sheet of which declares a range over ``max_cells`` (read from the start
    of each sheet's XML only: milliseconds, whatever the file's size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for part in archive.namelist():
                if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
                    continue
                with archive.open(part) as stream:
                    head = stream.read(65536)
                dimension = _DIMENSION.search(head)
                if dimension is None:
                    continue
                rows = int(dimension.group(4) or dimension.group(2))
                columns = column_number(dimension.group(3) or dimension.group(1))
                if rows * columns > limits.max_cells:
                    raise UploadLimitError(
                        f"A sheet of '{filename}' spans {rows:,} rows × {columns:,} columns ({rows * columns:,} "
                        f"cells, counting the empty ones between), over the limit of {limits.max_cells:,} cells "
                        "(setting JOBFORGE_UPLOAD_MAX_CELLS). Delete the stray cells far below or to the right of "
                        "the table (Ctrl+End shows the last one), or save the table as CSV."
                    )
    except zipfile.BadZipFile:
        return


def column_number(letters: bytes) -> int:
    """1 for A, 27 for AA, 16384 for XFD."""
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def sheet_extent(archive: zipfile.ZipFile, part: str, max_bytes: int) -> SheetExtent:
    """The declared dimension, the extent the cells reach and the cell count of a sheet's XML.

    Reads the part as a stream, at most ``max_bytes`` of it (the uncompressed limit, which a
    zip entry that lies about its size cannot get past).
    """
    rows = columns = cells = 0
    tail, read = b"", 0
    with archive.open(part) as stream:
        while read <= max_bytes:
            chunk = stream.read(SCAN_CHUNK)
            if not chunk:
                break
            read += len(chunk)
            window = tail + chunk
            if read == len(chunk):
                dimension = _DIMENSION.search(window[:65536])
                if dimension:
                    rows = int(dimension.group(4) or dimension.group(2))
                    columns = column_number(dimension.group(3) or dimension.group(1))
            # Only matches ending in the new bytes count, so none is counted twice.
            fresh = window[max(0, len(tail) - 32) :] if tail else window
            letters = set(_REF_COLUMN.findall(fresh))
            if letters:
                columns = max(columns, max(map(column_number, letters)))
            numbers = _REF_ROW.findall(fresh)
            if numbers:  # the numerically largest: the longest, then the greatest of those
                rows = max(rows, int(max(numbers, key=lambda digits: (len(digits), digits))))
            cells += sum(window.count(start) - tail.count(start) for start in _CELL_STARTS)
            tail = window[-256:]
    return SheetExtent(rows=rows, columns=columns, cells=cells)


def check_sheet_extent(archive: zipfile.ZipFile, part: str, where: str, limits: UploadLimits) -> SheetExtent:
    """:class:`UploadLimitError` when the sheet's range or its cells are over ``max_cells``."""
    extent = sheet_extent(archive, part, limits.max_uncompressed_mb * 1024 * 1024)
    area = extent.rows * extent.columns
    if area > limits.max_cells:
        raise UploadLimitError(
            f"{where} spans {extent.rows:,} rows × {extent.columns:,} columns ({area:,} cells, counting the empty "
            f"ones between), over the limit of {limits.max_cells:,} cells (setting JOBFORGE_UPLOAD_MAX_CELLS). "
            "Delete the stray cells far below or to the right of the table (Ctrl+End shows the last one), or "
            "save the table as CSV."
        )
    if extent.cells > limits.max_cells:
        raise UploadLimitError(
            f"{where} has {extent.cells:,} cells, over the limit of {limits.max_cells:,} "
            "(setting JOBFORGE_UPLOAD_MAX_CELLS). Split the file or save the table as CSV."
        )
    return extent
