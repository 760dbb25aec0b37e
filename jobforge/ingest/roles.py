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
    # Every spelling merged into this role, first seen first, one per case/spacing-folded form
    # ("Store Manager - Dallas TX", "Store Mgr 127", …); the role's own title is among them.
    spellings: list[str] = field(default_factory=list)

    @property
    def merged_spellings(self) -> list[str]:
        """The spellings other than the role's title (empty when nothing else was merged)."""
        return [spelling for spelling in self.spellings if spelling != self.title]
