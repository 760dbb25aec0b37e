"""Labelled titles, read exactly as ../shared/eval/README.md says.

For each distinct title (case-insensitive, trimmed) its acceptable answers are the
``soc2018_candidates`` of its rows with the highest ``label_share`` (ties: union). Per source the
rows of that source decide; for "overall" all rows of the title do. Titles with no acceptable
answer are left out.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from jobforge.errors import JobForgeError

OVERALL = "overall"
REQUIRED_COLUMNS = ("title", "source", "label_share", "soc2018_candidates")


class LabelsError(JobForgeError, ValueError):
    """The labels file cannot be used; the message says why."""


@dataclass
class LabelledTitle:
    title: str  # first spelling seen
    acceptable: set[str]  # SOC 2018 codes, "15-1252"
    sources: dict[str, set[str]] = field(default_factory=dict)  # source -> acceptable in that source


def title_group(title: str) -> str:
    return (title or "").strip().casefold()


def _best(rows: list[tuple[float, set[str]]]) -> set[str]:
    top = max(share for share, _ in rows)
    return set().union(*(codes for share, codes in rows if share == top))


def read_labels(path: str | Path, sources: set[str] | None = None) -> list[LabelledTitle]:
    """Distinct titles with their acceptable answers overall and per source, in file order.

    ``sources`` keeps only the rows of those sources (so "overall" is over them alone).
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise LabelsError(f"Cannot read the labels file {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise LabelsError(f"{path} lacks the column(s) {', '.join(missing)}")
        first_spelling: dict[str, str] = {}
        overall: dict[str, list[tuple[float, set[str]]]] = defaultdict(list)
        by_source: dict[str, dict[str, list[tuple[float, set[str]]]]] = defaultdict(lambda: defaultdict(list))
        for row in reader:
            group = title_group(row["title"])
            if not group or (sources and (row["source"] or "").strip() not in sources):
                continue
            first_spelling.setdefault(group, row["title"].strip())
            try:
                share = float(row["label_share"] or 0)
            except ValueError:
                share = 0.0
            codes = {code.strip()[:7] for code in (row["soc2018_candidates"] or "").split("|") if code.strip()}
            overall[group].append((share, codes))
            by_source[(row["source"] or "").strip()][group].append((share, codes))
    titles = []
    for group, spelling in first_spelling.items():
        item = LabelledTitle(spelling, _best(overall[group]))
        for source, groups in by_source.items():
            if group in groups:
                item.sources[source] = _best(groups[group])
        titles.append(item)
    return titles
