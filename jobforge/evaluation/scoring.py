"""Scoring predictions against labelled titles: top-k at 6 digits, 2-digit, per-tier precision."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jobforge.evaluation.labels import OVERALL, LabelledTitle, title_group

TOP_K = (1, 5, 20)
TIERS = ("HIGH", "MEDIUM", "LOW")


@dataclass
class Prediction:
    codes: list[str]  # ranked O*NET-SOC codes, rank 1 first
    tier: str = "LOW"  # tier of rank 1
    retrieved: list[str] = field(default_factory=list)  # retrieval's candidates (codes), before readings
    offered: list[str] = field(default_factory=list)  # the candidates the selector chose from (after readings)


def candidate_recall(labels: list[LabelledTitle], predictions: dict[str, Prediction]) -> dict[str, float]:
    """Share of labelled titles whose occupation (SOC 2018, 6 digits) is among the 20 candidates,
    before and after the model's readings added theirs: {"before_readings", "after_readings"}."""
    hits = {"before_readings": 0, "after_readings": 0}
    counted = 0
    for item in labels:
        prediction = predictions.get(title_group(item.title))
        if prediction is None or not item.acceptable:
            continue
        counted += 1
        hits["before_readings"] += bool(item.acceptable.intersection(distinct_soc(prediction.retrieved)))
        hits["after_readings"] += bool(item.acceptable.intersection(distinct_soc(prediction.offered)))
    return {name: round(count / counted, 4) if counted else 0.0 for name, count in hits.items()}


def distinct_soc(codes: list[str]) -> list[str]:
    """First distinct SOC 2018 codes (first 7 characters of O*NET-SOC 2019 codes), in order."""
    return list(dict.fromkeys(code[:7] for code in codes if code))


@dataclass
class TierFigures:
    count: int = 0
    correct: int = 0

    def precision(self) -> float | None:
        return self.correct / self.count if self.count else None


@dataclass
class SourceFigures:
    source: str
    titles: int = 0
    top: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TOP_K, 0))
    two_digit: int = 0
    tiers: dict[str, TierFigures] = field(default_factory=lambda: {tier: TierFigures() for tier in TIERS})

    def rate(self, hits: int) -> float:
        return hits / self.titles if self.titles else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "titles": self.titles}
        for k in TOP_K:
            out[f"top{k}"] = round(self.rate(self.top[k]), 4)
        out["two_digit"] = round(self.rate(self.two_digit), 4)
        for tier, figures in self.tiers.items():
            precision = figures.precision()
            out[f"{tier.lower()}_precision"] = None if precision is None else round(precision, 4)
            out[f"{tier.lower()}_coverage"] = round(self.rate(figures.count), 4)
            out[f"{tier.lower()}_count"] = figures.count
        return out


def _score_one(figures: SourceFigures, prediction: Prediction, acceptable: set[str]) -> None:
    ranked = distinct_soc(prediction.codes)
    figures.titles += 1
    for k in TOP_K:
        if acceptable.intersection(ranked[:k]):
            figures.top[k] += 1
    first = ranked[0] if ranked else None
    if first is not None and first[:2] in {code[:2] for code in acceptable}:
        figures.two_digit += 1
    tier = figures.tiers.setdefault(prediction.tier if prediction.tier in TIERS else "LOW", TierFigures())
    tier.count += 1
    if first is not None and first in acceptable:
        tier.correct += 1


def score(labels: list[LabelledTitle], predictions: dict[str, Prediction]) -> list[SourceFigures]:
    """Figures per source (sorted) and overall (last). ``predictions`` are keyed by ``title_group``."""
    per_source: dict[str, SourceFigures] = defaultdict(lambda: SourceFigures(""))
    overall = SourceFigures(OVERALL)
    empty = Prediction([])
    for item in labels:
        prediction = predictions.get(title_group(item.title), empty)
        if item.acceptable:
            _score_one(overall, prediction, item.acceptable)
        for source, acceptable in item.sources.items():
            if acceptable:
                figures = per_source[source]
                figures.source = source
                _score_one(figures, prediction, acceptable)
    return [per_source[name] for name in sorted(per_source)] + [overall]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown_table(figures: list[SourceFigures]) -> str:
    header = (
        "| source | titles | top-1 | top-5 | top-20 | 2-digit | HIGH prec | HIGH cov | MEDIUM prec | MEDIUM cov "
        "| LOW prec | LOW cov |"
    )
    lines = [header, "|" + "---|" * 12]
    for f in figures:
        cells = [f.source, str(f.titles)]
        cells += [_pct(f.rate(f.top[k])) for k in TOP_K] + [_pct(f.rate(f.two_digit))]
        for tier in TIERS:
            cells += [_pct(f.tiers[tier].precision()), _pct(f.rate(f.tiers[tier].count))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def as_json(figures: list[SourceFigures], **extra: Any) -> dict[str, Any]:
    return {**extra, "figures": [f.to_dict() for f in figures]}
