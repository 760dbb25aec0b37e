"""What retrieval hands to selectors: candidate occupations with why they were retrieved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Candidate:
    code: str  # O*NET-SOC code, e.g. "15-1252.00"
    title: str  # occupation title
    score: float  # retrieval score, higher is better (comparable within one query)
    # "title" | "alternate_title" | "short_title" | "reported_title" | "description" | "task"
    # | "related_occupation" (ranks 11+ only: O*NET lists it as related to a leading candidate)
    matched_on: str
    matched_text: str  # the string that matched, e.g. the alternate title
    exact: bool = False  # the normalised role title equals a normalised O*NET title/alt title
    description: str = ""
    rank: int = 0  # 1-based
    # How the title reached this occupation when not as written: "abbreviation" (a term with
    # several readings was read: ``reading`` says how), "translation" (the title is not English:
    # ``reading`` shows the translation), "rewording" ("Head of X" read as "Director of X"); "".
    via: str = ""
    reading: str = ""  # "AP = accounts payable (from the context)", "Bäcker → baker (German)"
    shared_by: int = 0  # exact matches only: how many occupations have a title string equal to the query

    def to_dict(self) -> dict[str, Any]:
        # Every field is a scalar: a plain copy is exact, and ~20x faster than dataclasses.asdict
        # (which deep-copies), which dominated mapping time for large projects.
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
