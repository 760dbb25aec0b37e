"""The selector interface: given roles with their candidates, propose one occupation each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from jobforge.mapping.tiers import RoleMappingResult
from jobforge.retrieval.candidates import Candidate


@dataclass
class RoleRequest:
    """A role as a selector sees it. ``role_id`` identifies it in answers (never its text)."""

    role_id: int | str
    title: str
    title_key: str
    context: dict[str, str] = field(default_factory=dict)  # job_family, job_function, department, level, description
    candidates: list[Candidate] = field(default_factory=list)
    # "" for an English title; else the language it is written in ("de", "fr", "es", or "?" when
    # not English but not known): an LLM selector reads (translates) it first. Offline, candidates
    # come from the bundled dictionary's translation (``Candidate.via == "translation"``) or none.
    language: str = ""
    # The nearest decided titles' vote (jobforge.codebooks.vote.Vote), None when none is similar enough.
    vote: Any = None

    @property
    def not_english(self) -> bool:
        return bool(self.language)


class Selector(Protocol):
    name: str  # "offline" | "anthropic" | "openai" | "precedent"
    note: str | None  # why "auto" chose this selector, shown to the user (None: nothing to say)

    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        """One result per role, in the same order; never drops a role."""
        ...
