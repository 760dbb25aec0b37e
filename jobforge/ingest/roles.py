"""A unique role as read from a spreadsheet, before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field

# Role context fields a spreadsheet may carry (DESIGN.md): stored as Role columns.
CONTEXT_FIELDS = ("job_family", "job_function", "department", "level", "description", "headcount", "unit_group")


@dataclass
class RoleInput:
    title: str  # original title as first seen
    title_key: str  # normalised (see jobforge.retrieval.normalize)
    row_count: int = 1
    context: dict[str, str] = field(default_factory=dict)  # CONTEXT_FIELDS -> value
    attributes: dict[str, str] = field(default_factory=dict)  # attribute column -> most common value of its rows
    # attribute column -> (cell text or None for an empty cell, rows), what the role's rows hold
    attribute_counts: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)
