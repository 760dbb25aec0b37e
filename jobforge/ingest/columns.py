"""Guessing which spreadsheet column is the job title, which carry context and which attributes.

These are suggestions: the upload page shows them and the analyst can change any of them.
Header names decide first; when no header names the title, the content decides (the column of
short, varied, mostly non-numeric text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

_NON_WORD = re.compile(r"[^0-9a-z]+")

# Exact (normalised) header names of the title column, best first.
TITLE_NAMES = (
    "job title",
    "title",
    "position title",
    "job role",
    "role title",
    "role",
    "job name",
    "position",
    "position name",
    "business title",
    "working title",
    "designation",
    "occupation",
    "job",
    "job profile",
    "job profile name",
    "job position",
    "role name",
    "job description title",
    # German, French, Spanish headers for the same column
    "stellenbezeichnung",
    "berufsbezeichnung",
    "jobtitel",
    "intitule du poste",
    "titre du poste",
    "poste",
    "puesto",
    "cargo",
    "nombre del puesto",
)
TITLE_WORDS = ("title", "position", "role", "designation", "job name", "job profile", "occupation")

# Context field -> header names (exact) and words (contained), checked in this order.
CONTEXT_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "job_family": (("job family", "family", "job family group", "family group", "career family"), ("family",)),
    "job_function": (("job function", "function", "functional area", "business function"), ("function",)),
    "department": (
        ("department", "dept", "division", "business unit", "org unit", "organization", "organisation", "team"),
        ("department", "dept", "division", "business unit", "org unit", "cost center", "cost centre"),
    ),
    "level": (
        ("level", "grade", "job level", "job grade", "band", "career level", "seniority", "pay grade"),
        ("level", "grade", "band", "seniority"),
    ),
    "description": (
        ("description", "job description", "summary", "job summary", "duties", "responsibilities", "purpose"),
        ("description", "summary", "duties", "responsibilit"),
    ),
    "headcount": (
        (
            "headcount",
            "head count",
            "fte",
            "ftes",
            "count",
            "employees",
            "number of employees",
            "positions",
            "incumbents",
            "no of employees",
            "num employees",
        ),
        ("headcount", "head count", "fte", "incumbent"),
    ),
    "unit_group": (
        (
            "unit group",
            "noc",
            "noc code",
            "soc",
            "soc code",
            "isco",
            "isco code",
            "occupation code",
            "onet code",
            "o net code",
            "onet soc code",
            "o net soc code",
        ),
        ("unit group", "noc", "soc", "isco", "occupation code"),
    ),
}

ATTRIBUTE_WORDS = (
    "education",
    "degree",
    "qualification",
    "experience",
    "skill",
    "certification",
    "certificate",
    "licen",
    "work environment",
    "working conditions",
    "environment",
    "physical",
    "travel",
    "language",
    "training",
    "competenc",
    "knowledge",
    "tools",
    "technology",
    "software",
    "shift",
    "schedule",
    "supervis",
    "clearance",
)
# Columns that identify people or rows, never roles.
IGNORE_WORDS = ("id", "employee", "name", "email", "number", "no", "code", "date", "salary", "pay", "manager")


@dataclass
class ColumnGuess:
    title: str | None
    context: dict[str, str] = field(default_factory=dict)  # context field -> column
    attributes: list[str] = field(default_factory=list)
    title_found_by: str | None = None  # "header" (its name) | "content" (its values) | None

    @property
    def title_reason(self) -> str | None:
        """Why the title column was chosen, for the analyst ("its column 'X' is named …")."""
        if self.title is None:
            return None
        if self.title_found_by == "header":
            return f"its column '{self.title}' is named like a job-title column"
        return f"its column '{self.title}' holds short, varied text like job titles"


def normalise_header(header: str) -> str:
    return _NON_WORD.sub(" ", str(header).casefold()).strip()


def _words(normalised: str) -> set[str]:
    return set(normalised.split())


def _contains(normalised: str, word: str) -> bool:
    """``word`` occurs in the header: whole short words, word stems of longer ones, or a phrase."""
    if " " in word:
        return f" {word}" in f" {normalised}"
    tokens = normalised.split()
    if len(word) <= 4:  # "soc" must not match "social"
        return word in tokens
    return any(token.startswith(word) for token in tokens)


def _context_field(normalised: str) -> str | None:
    for field_name, (names, _) in CONTEXT_NAMES.items():
        if normalised in names:
            return field_name
    for field_name, (_names, words) in CONTEXT_NAMES.items():
        if any(_contains(normalised, word) for word in words):
            return field_name
    return None


def _is_attribute(normalised: str) -> bool:
    return any(_contains(normalised, word) for word in ATTRIBUTE_WORDS)


def _title_rank(normalised: str) -> int | None:
    """Lower is better; None when the header does not name a title."""
    if normalised in TITLE_NAMES:
        return TITLE_NAMES.index(normalised)
    words = _words(normalised)
    if words & {"id", "code", "number", "no", "count", "description", "family", "level", "grade"}:
        return None
    if any(_contains(normalised, word) for word in TITLE_WORDS):
        return len(TITLE_NAMES) + len(normalised)
    return None


MAX_TITLE_WORDS = 8  # a median above this is prose (a cover note, a description), not titles


def _title_by_content(df: pd.DataFrame, columns: list[str]) -> str | None:
    """The column whose values look most like job titles: short, varied, mostly letters, not sentences.

    At least two values are needed: one line of text is a note, not a list of roles.
    """
    sample = df.head(2000)
    best, best_score = None, 0.0
    for column in columns:
        values = sample[column].astype(str).str.strip()
        values = values[values != ""]
        if len(values) < 2:
            continue
        lengths = values.str.len()
        alpha_share = values.str.contains(r"[A-Za-z\u00C0-\u024F\u0400-\u04FF\u4E00-\u9FFF]", regex=True).mean()
        numeric_share = values.str.fullmatch(r"[\d\s.,:/-]+").mean()
        distinct = values.nunique() / len(values)
        words = values.str.split().str.len()
        sentences = values.str.contains(r"[.!?:]$", regex=True).mean()
        if alpha_share < 0.8 or numeric_share > 0.2 or not 3 <= lengths.median() <= 80:
            continue
        if words.median() > MAX_TITLE_WORDS or sentences >= 0.5:
            continue
        # Titles repeat across employees but far less than families or levels do.
        score = alpha_share * (0.3 + min(distinct, 0.7)) * (1.0 if lengths.median() <= 60 else 0.5)
        if score > best_score:
            best, best_score = column, score
    return best


def is_known_header(header: str) -> bool:
    """The header names a title, context or attribute column JobForge recognises."""
    name = normalise_header(header)
    return _title_rank(name) is not None or _context_field(name) is not None or _is_attribute(name)


def detect_columns(df: pd.DataFrame) -> ColumnGuess:
    """Suggested title, context and attribute columns for ``df``."""
    columns = [str(column) for column in df.columns]
    normalised = {column: normalise_header(column) for column in columns}

    ranked = [
        (rank, index, column)
        for index, column in enumerate(columns)
        if (rank := _title_rank(normalised[column])) is not None
    ]
    title = min(ranked)[2] if ranked else None
    found_by = "header" if title is not None else None

    context: dict[str, str] = {}
    attributes: list[str] = []
    for column in columns:
        if column == title:
            continue
        name = normalised[column]
        field_name = _context_field(name)
        if field_name and field_name not in context:
            context[field_name] = column
            continue
        if field_name is None and _is_attribute(name):
            attributes.append(column)

    if title is None:
        unassigned = [
            column
            for column in columns
            if column not in context.values()
            and column not in attributes
            and not (_words(normalised[column]) & set(IGNORE_WORDS))
        ]
        title = _title_by_content(df, unassigned)
        found_by = "content" if title is not None else None
    return ColumnGuess(title=title, context=context, attributes=attributes, title_found_by=found_by)
