"""Reading an O*NET release in its official text layout (a ``db_XX_X_text.zip`` or its folder).

Files are tab-separated UTF-8 with CRLF line ends and ``n/a`` for missing values. From 30.0 on,
only ``Occupation Data.txt`` has a Title column; older releases repeat the title in every file.
Columns are found by header name, so both layouts read the same way.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jobforge.errors import JobForgeError

CODE_PATTERN = re.compile(r"^\d{2}-\d{4}\.\d{2}$")
CODE_COLUMN = "O*NET-SOC Code"
README_FILE = "Read Me.txt"

# file name -> columns that must be present (beyond the optional Title column)
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "Occupation Data.txt": (CODE_COLUMN, "Title", "Description"),
    "Alternate Titles.txt": (CODE_COLUMN, "Alternate Title", "Short Title", "Source(s)"),
    "Task Statements.txt": (CODE_COLUMN, "Task ID", "Task", "Task Type"),
}
OPTIONAL_FILES: dict[str, tuple[str, ...]] = {
    "Sample of Reported Titles.txt": (CODE_COLUMN, "Reported Job Title", "Shown in My Next Move"),
    "Job Zones.txt": (CODE_COLUMN, "Job Zone"),
    "Job Zone Reference.txt": ("Job Zone", "Name", "Experience", "Education", "Job Training", "Examples"),
    "Content Model Reference.txt": ("Element ID", "Element Name", "Description"),
    "Education, Training, and Experience Categories.txt": (
        "Element ID",
        "Element Name",
        "Scale ID",
        "Category",
        "Category Description",
    ),
    "Technology Skills.txt": (CODE_COLUMN, "Example", "Commodity Code", "Commodity Title", "Hot Technology"),
    "Related Occupations.txt": (CODE_COLUMN, "Related O*NET-SOC Code", "Relatedness Tier", "Index"),
}
# Rating files: file -> domain name used in the store.
RATING_FILES: dict[str, str] = {
    "Skills.txt": "skills",
    "Knowledge.txt": "knowledge",
    "Work Styles.txt": "work_styles",
    "Education, Training, and Experience.txt": "education",
    "Interests.txt": "interests",
    "Work Values.txt": "work_values",
}
RATING_COLUMNS = (CODE_COLUMN, "Element ID", "Element Name", "Scale ID", "Data Value")


class ReleaseError(JobForgeError, ValueError):
    """The release cannot be read; the message names the file and the problem."""


@dataclass
class TextTable:
    """One file of a release: its header and rows as dicts keyed by header name."""

    name: str
    header: list[str]
    rows: list[dict[str, str | None]] = field(default_factory=list)


class ReleaseSource:
    """A release as a zip or a folder; files are found by base name wherever they sit."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ReleaseError(f"O*NET release not found: {self.path}")
        self._zip: zipfile.ZipFile | None = None
        self._names: dict[str, str] = {}
        if self.path.is_dir():
            for file in self.path.rglob("*.txt"):
                self._names.setdefault(file.name, str(file))
        else:
            try:
                self._zip = zipfile.ZipFile(self.path)
                bad = self._zip.testzip()
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ReleaseError(f"{self.path.name} is not a readable zip file ({exc})") from exc
            if bad is not None:
                raise ReleaseError(f"{self.path.name} is corrupt: member {bad!r} fails its CRC check")
            for info in self._zip.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base.endswith(".txt"):
                    self._names.setdefault(base, info.filename)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> ReleaseSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        return name in self._names

    def version_hint(self) -> str | None:
        """The version named in the zip/folder name (``db_30_1_text`` -> ``30_1``), if any."""
        match = re.search(r"db_(\d+_\d+)", self.path.name) or re.search(
            r"db_(\d+_\d+)", next(iter(self._names.values()), "")
        )
        if match:
            return match.group(1)
        if self.has(README_FILE):  # "O*NET 30.1 Database, December 2025 Release"
            with contextlib.suppress(ReleaseError):
                stated = re.search(r"O\*NET (\d+)\.(\d+) Database", self._read_text(README_FILE))
                if stated:
                    return f"{stated.group(1)}_{stated.group(2)}"
        return None

    def _read_text(self, name: str) -> str:
        location = self._names[name]
        try:
            raw = self._zip.read(location) if self._zip is not None else Path(location).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ReleaseError(f"{name}: cannot be read ({exc})") from exc
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReleaseError(f"{name}: not UTF-8 text ({exc})") from exc

    def table(self, name: str, required_columns: tuple[str, ...]) -> TextTable:
        if name not in self._names:
            raise ReleaseError(f"The release has no {name!r}")
        lines = self._read_text(name).splitlines()
        if not lines:
            raise ReleaseError(f"{name}: the file is empty")
        header = [column.strip() for column in lines[0].split("\t")]
        missing = [column for column in required_columns if column not in header]
        if missing:
            raise ReleaseError(f"{name}: wrong header, missing column(s) {', '.join(missing)}; found {header}")
        table = TextTable(name=name, header=header)
        code_index = header.index(CODE_COLUMN) if CODE_COLUMN in header else None
        width = len(header)
        for line_number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            values = [None if cell in ("n/a", "") else cell for cell in cells[:width]]
            if code_index is not None and not CODE_PATTERN.match(values[code_index] or ""):
                raise ReleaseError(f"{name} line {line_number}: malformed O*NET-SOC code {cells[code_index]!r}")
            table.rows.append(dict(zip(header, values, strict=True)))
        return table

    def tables(self) -> Iterator[tuple[str, TextTable]]:
        """Every file the loader uses that is present, required ones first; checks required ones."""
        for name, columns in REQUIRED_FILES.items():
            yield name, self.table(name, columns)
        for name, columns in OPTIONAL_FILES.items():
            if self.has(name):
                yield name, self.table(name, columns)
        for name in RATING_FILES:
            if self.has(name):
                yield name, self.table(name, RATING_COLUMNS)


def read_bytes_as_zip(data: bytes) -> zipfile.ZipFile:
    """Open downloaded bytes as a zip, or raise a ReleaseError saying it is not one."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReleaseError(f"The download is not a zip file ({exc})") from exc
