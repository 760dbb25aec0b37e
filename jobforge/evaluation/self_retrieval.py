"""Self-retrieval: does every O*NET title find its own occupation?

Every occupation title and every alternate title of a release is looked up in the index of that
same release. A title *retrieves itself* when its own occupation is ranked first, or when it is in
an exact tie: the first candidate is an exact match and the title's own occupation also has a
title string equal to the query (O*NET gives "Machine Operator" to 40 occupations; no ranking can
tell them apart from the title alone). Used by the slow test over the real release and by
``bench/self_retrieval.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jobforge.retrieval.index import CandidateIndex
from jobforge.retrieval.normalize import search_form

FIELDS = ("title", "alternate_title")


@dataclass(frozen=True)
class Miss:
    code: str  # the occupation the title belongs to
    field: str  # "title" | "alternate_title"
    title: str
    found: tuple[str, ...]  # the first three candidates' codes


@dataclass
class SelfRetrieval:
    titles: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Share of titles that retrieve themselves (0-1)."""
        return 1.0 - len(self.misses) / self.titles if self.titles else 1.0


def release_titles(rows: dict[str, Any], fields: Iterable[str] = FIELDS) -> list[tuple[str, str, str]]:
    """(code, field, title) of every occupation and alternate title in ``read_release`` rows."""
    wanted = set(fields)
    return sorted({(rows["codes"][occ], name, text) for occ, name, text in rows["strings"] if name in wanted})


def retrieves_itself(index: CandidateIndex, code: str, title: str) -> tuple[bool, list[str]]:
    candidates = index.candidates(title)
    codes = [candidate.code for candidate in candidates[:3]]
    if not candidates:
        return False, codes
    if candidates[0].code == code:
        return True, codes
    if candidates[0].exact:
        tied = index.exact_matches(search_form(title), title).occupations
        return code in {index.codes[occ] for occ in tied.tolist()}, codes
    return False, codes


def self_retrieval(index: CandidateIndex, titles: list[tuple[str, str, str]]) -> SelfRetrieval:
    """Look every (code, field, title) up in ``index``; see the module docstring."""
    result = SelfRetrieval(titles=len(titles))
    for code, name, title in titles:
        ok, found = retrieves_itself(index, code, title)
        if not ok:
            result.misses.append(Miss(code, name, title, tuple(found)))
    return result
