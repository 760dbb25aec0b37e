"""Finding a sheet's header row when report titles, notes or blank rows sit above it.

HR reports often start with a title ("Acme Corp - Headcount by Job Title"), a date line and a
blank row before the real header. The header is the first row that looks like one: it fills most
of the table's width with distinct text cells, and data rows follow it. Rows narrower than the
table (titles, notes) are passed over; a wide row that looks like data ends the search, since a
header never comes after the data has started.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SCAN_ROWS = 30  # rows looked at for the header (titles and notes above a header are a handful)
SAMPLE_ROWS = 50  # rows below a candidate that tell the table's width and what its data looks like
_VALUE_LIKE = re.compile(r"[\d\s.,:/%$€£+-]+")


def looks_like_value(cell: str) -> bool:
    """A number, date or amount: data, not a column name."""
    return bool(_VALUE_LIKE.fullmatch(cell))


def table_width(rows: Sequence[Sequence[str]]) -> int:
    """Columns holding a value in at least half of ``rows`` (0 for no rows)."""
    if not rows:
        return 0
    counts: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row):
            if cell:
                counts[index] = counts.get(index, 0) + 1
    return sum(1 for count in counts.values() if count * 2 >= len(rows))


def filled(row: Sequence[str]) -> list[tuple[int, str]]:
    return [(index, cell) for index, cell in enumerate(row) if cell]


def looks_like_data(header: Sequence[str], below: Sequence[Sequence[str]]) -> bool:
    """The row reads as data, not names: only numbers, numbers without any known column name,
    repeated names, or names that recur as values of their own columns (a title repeated below)."""
    from jobforge.ingest.columns import is_known_header

    named = filled(header)
    if not named or all(looks_like_value(name) for _, name in named):
        return True
    if len({name.casefold() for _, name in named}) < len(named) and not any(is_known_header(n) for _, n in named):
        return True
    if any(is_known_header(name) for _, name in named):
        return False
    if any(looks_like_value(name) for _, name in named):
        return True
    recurring = sum(any(index < len(row) and row[index] == name for row in below) for index, name in named)
    return recurring * 2 >= len(named) and recurring > 0


def _names_the_title(row: Sequence[str]) -> bool:
    """A row holding an exact job-title header name ("Job Title", "Position", …)."""
    from jobforge.ingest.columns import TITLE_NAMES, normalise_header

    return any(normalise_header(cell) in TITLE_NAMES for _, cell in filled(row))


def find_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Index in ``rows`` (non-empty rows of stripped text, in order) of the header row.

    ``None`` when no row before the data looks like a header. A one-column table prefers a row
    naming the title column over a report title above it.
    """
    for index, row in enumerate(rows[:SCAN_ROWS]):
        below = rows[index + 1 : index + 1 + SAMPLE_ROWS]
        cells = filled(row)
        width = table_width(below) or len(cells)
        if len(cells) * 2 <= width and not _names_the_title(row):
            continue  # a title or a note, narrower than the table under it
        if width <= 1 and not _names_the_title(row):
            named = next(
                (later for later in range(index + 1, min(len(rows), SCAN_ROWS)) if _names_the_title(rows[later])), None
            )
            if named is not None:
                return named
        return None if looks_like_data(row, below) else index
    return None
