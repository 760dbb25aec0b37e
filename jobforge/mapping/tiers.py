"""Confidence tiers and the mapping result, with the names of the original plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ConfidenceTier(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"

    def to_score(self) -> float:
        return TIER_SCORES[self]

    @classmethod
    def parse(cls, value: str | None) -> ConfidenceTier | None:
        if value is None:
            return None
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            return None


TIER_SCORES = {ConfidenceTier.HIGH: 0.95, ConfidenceTier.MEDIUM: 0.75, ConfidenceTier.LOW: 0.50}


class MappingSource(StrEnum):
    PRECEDENT = "precedent"  # an analyst already confirmed this normalised title
    LLM = "llm"
    OFFLINE = "offline"
    FALLBACK = "fallback"  # the LLM path failed for this role; best retrieval candidate, LOW
    ANALYST = "analyst"


@dataclass
class RoleMappingResult:
    """One role's proposal.

    ``candidates`` are the retrieval candidates (as dicts, see ``Candidate.to_dict``) the
    proposal was chosen from; ``llm_tier`` is the model's own tier before it was combined with
    retrieval signals.
    """

    source_role: str
    onet_code: str | None
    onet_title: str | None
    confidence: ConfidenceTier
    reasoning: str
    source: MappingSource = MappingSource.OFFLINE
    role_id: int | str | None = None
    llm_tier: ConfidenceTier | None = None
    calibrated_score: float | None = None
    model_used: str | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def confidence_score(self) -> float:
        return self.confidence.to_score()
