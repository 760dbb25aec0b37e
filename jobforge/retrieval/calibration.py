"""Retrieval signals -> probability that rank 1 is right -> tier.

Two fits exist. The active one for O*NET 30.1 is :class:`FittedTierModel`, fitted on labelled
titles by ``python -m jobforge.retrieval.calibration fit --labels ../shared/eval/dev_titles.csv``
(:mod:`jobforge.evaluation.tier_fit`: FIT part fits, REPORT part measures) and bundled as
``data/tier_model.json``. The fallback, for any other release, is :class:`TierModel`: two logistic
models fitted by ``python -m jobforge.retrieval.calibration`` on O*NET's own labelled titles
(alternate and reported titles), each held out of the index it is looked up in; its figures are
the defaults below, with the date and the measured precision per tier in bench/RESULTS.md.
:func:`active_tier_model` picks one.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.normalize import search_form


@dataclass(frozen=True)
class Signals:
    exact: bool  # rank 1 matched a title exactly
    exact_count: int  # how many occupations share that exact title
    base: float  # rank-1 score without the exact-match bonus
    margin: float  # rank-1 score minus rank-2 score (capped at 1)
    same_soc_runner_up: float  # rank 2 is a sibling of rank 1 in the same 6-digit SOC code
    # How rank 1 was reached (issue 10, kind 6), for a tier model fitted on labelled titles:
    via: str = ""  # "" as written | "abbreviation" | "translation" | "rewording"
    shared_by: int = 0  # exact matches: occupations with a title string equal to the query
    readings: int = 1  # distinct readings among the candidates (>1: nothing decided the abbreviation)
    # The nearest decided titles' vote (jobforge.codebooks.vote; issue 9), neutral without one:
    vote_share: float = 0.0  # the winning code's part of the vote, 0-1
    vote_similarity: float = 0.0  # cosine similarity of the nearest decided title voting for it
    vote_agrees_with_rank1: bool = False  # the vote's winner is retrieval's rank 1
    vote_rank1_share: float = 0.0  # retrieval rank 1's part of the vote (0 when no decided title voted for it)
    code: str = ""  # rank 1's O*NET-SOC code (the fitted model's per-occupation reliability, not a feature)

    def features(self) -> dict[str, float]:
        """Every signal as a named number (the fitted models use ``vector``; a refit may use these)."""
        return {
            "exact": float(self.exact),
            "log_exact_count": math.log(max(self.exact_count, 1)),
            "base": self.base,
            "margin": min(self.margin, 1.0),
            "same_soc_runner_up": self.same_soc_runner_up,
            "via_abbreviation": float(self.via == "abbreviation"),
            "via_translation": float(self.via == "translation"),
            "via_rewording": float(self.via == "rewording"),
            "log_shared_by": math.log(max(self.shared_by, 1)),
            "undecided_readings": float(self.readings > 1),
            "vote_share": self.vote_share,
            "vote_similarity": self.vote_similarity,
            "vote_agrees_with_rank1": float(self.vote_agrees_with_rank1),
            "vote_rank1_share": self.vote_rank1_share,
        }

    def vector(self) -> list[float]:
        """Features of the model for this kind of match (exact or not)."""
        if self.exact:
            return [1.0, math.log(max(self.exact_count, 1)), min(self.margin, 1.0), self.base]
        return [1.0, self.base, min(self.margin, 1.0), self.same_soc_runner_up]


EXACT_FEATURES = ("bias", "log_exact_count", "margin", "base")
OTHER_FEATURES = ("bias", "base", "margin", "same_soc_runner_up")


def signals_of(candidates: list[Candidate], exact_bonus: float = 1.0, vote: Any = None) -> Signals:
    """Signals of a retrieval candidate list (rank order as retrieved), with ``vote``
    (:class:`jobforge.codebooks.vote.Vote`) when the role has one."""
    best = candidates[0]
    second = candidates[1] if len(candidates) > 1 else None
    exact_count = sum(1 for c in candidates if c.exact)
    base = best.score - (exact_bonus if best.exact else 0.0)
    margin = best.score - second.score if second else 1.0
    same_soc = 1.0 if second is not None and second.code[:7] == best.code[:7] else 0.0
    readings = len({c.reading for c in candidates if c.via == "abbreviation"}) or 1
    signals = Signals(best.exact, exact_count, base, max(margin, 0.0), same_soc, best.via, best.shared_by, readings)
    signals = replace(signals, code=best.code)
    if vote is None:
        return signals
    return replace(
        signals,
        vote_share=round(vote.share, 4),
        vote_similarity=round(vote.similarity, 4),
        vote_agrees_with_rank1=vote.code == best.code,
        vote_rank1_share=round(vote.share_of(best.code), 4),
    )


@dataclass(frozen=True)
class TierModel:
    """Two logistic models (exact matches, other matches) and the tier thresholds on their probability.

    Fitted by ``python -m jobforge.retrieval.calibration`` (see the module docstring); the
    defaults below are its output for O*NET 30.1.
    """

    exact_coefficients: tuple[float, ...] = (-0.713, -2.853, 2.483, 1.095)
    other_coefficients: tuple[float, ...] = (-5.361, 2.312, 3.043, 1.005)
    high: float = 0.927
    medium: float = 0.878
    notes: dict[str, str] = field(default_factory=dict)

    def probability(self, signals: Signals) -> float:
        coefficients = self.exact_coefficients if signals.exact else self.other_coefficients
        z = sum(c * x for c, x in zip(coefficients, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def tier(self, probability: float) -> ConfidenceTier:
        if probability >= self.high:
            return ConfidenceTier.HIGH
        if probability >= self.medium:
            return ConfidenceTier.MEDIUM
        return ConfidenceTier.LOW

    def tier_of(self, signals: Signals, probability: float) -> ConfidenceTier:
        """The tier, with issue 10's rule for a model fitted without labelled titles: an exact match
        reached through a reading, a translation or a rewording, or shared by several occupations,
        is at most MEDIUM."""
        tier = self.tier(probability)
        if tier is ConfidenceTier.HIGH and evidence_kind(signals) not in ("exact", "other"):
            return ConfidenceTier.MEDIUM
        return tier


# ---------------------------------------------------------------------------------------------
# The model fitted on labelled titles (``python -m jobforge.retrieval.calibration fit``)
# ---------------------------------------------------------------------------------------------

# Kinds of evidence for rank 1, each with its own cut-offs: a reading of the title, a title several
# occupations share exactly, an exact match as written, any other match as written.
KINDS = ("translation", "abbreviation", "rewording", "shared", "exact", "other")
FITTED_PATH = Path(__file__).with_name("data") / "tier_model.json"
NEVER = 1.01  # a cut-off no probability reaches
RELIABILITY = "occupation_reliability"


def evidence_kind(signals: Signals) -> str:
    """Which of :data:`KINDS` rank 1's evidence is (a reading first: it is the weaker evidence)."""
    if signals.via in KINDS:
        return signals.via
    if signals.exact:
        return "shared" if max(signals.shared_by, signals.exact_count) > 1 else "exact"
    return "other"


@dataclass(frozen=True)
class KindCutoffs:
    high: float = NEVER  # probability at or above which the kind is HIGH
    medium: float = NEVER  # ... MEDIUM


@dataclass(frozen=True)
class FittedTierModel:
    """A logistic regression over :meth:`Signals.features` (by name: a feature the model was not
    fitted with is ignored, one it lacks counts 0) and HIGH / MEDIUM cut-offs per evidence kind.

    ``report`` keeps what the fit measured: per source on the REPORT part of the labels
    (precision and coverage per tier), for the Admin calibration view and bench/RESULTS.md.
    """

    intercept: float
    coefficients: dict[str, float]
    cutoffs: dict[str, KindCutoffs]
    # Per 6-digit SOC code of rank 1: how often a proposal of it was right on FIT, shrunk towards
    # the mean and as a logit (feature ``occupation_reliability``); codes not seen get the default.
    reliability: dict[str, float] = field(default_factory=dict)
    reliability_default: float = 0.0
    release: str = ""  # the O*NET release version whose index the signals came from ("30_1")
    fitted_on: str = ""  # date and labels file
    report: dict[str, dict[str, float | None]] = field(default_factory=dict)
    fit: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def features(self, signals: Signals) -> dict[str, float]:
        """``signals.features()`` plus the rank-1 occupation's reliability."""
        reliability = self.reliability.get(signals.code[:7], self.reliability_default)
        return {**signals.features(), RELIABILITY: reliability}

    def probability(self, signals: Signals) -> float:
        features = self.features(signals)
        z = self.intercept + sum(c * features.get(name, 0.0) for name, c in self.coefficients.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def tier_of(self, signals: Signals, probability: float) -> ConfidenceTier:
        cut = self.cutoffs.get(evidence_kind(signals), KindCutoffs())
        if probability >= cut.high:
            return ConfidenceTier.HIGH
        if probability >= cut.medium:
            return ConfidenceTier.MEDIUM
        return ConfidenceTier.LOW

    def to_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "fitted_on": self.fitted_on,
            "intercept": self.intercept,
            "coefficients": self.coefficients,
            "cutoffs": {kind: {"high": c.high, "medium": c.medium} for kind, c in self.cutoffs.items()},
            "reliability_default": self.reliability_default,
            "reliability": self.reliability,
            "report": self.report,
            "fit": self.fit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FittedTierModel:
        return cls(
            float(data["intercept"]),
            {str(k): float(v) for k, v in data["coefficients"].items()},
            {kind: KindCutoffs(float(c["high"]), float(c["medium"])) for kind, c in data["cutoffs"].items()},
            {str(k): float(v) for k, v in data.get("reliability", {}).items()},
            float(data.get("reliability_default", 0.0)),
            str(data.get("release", "")),
            str(data.get("fitted_on", "")),
            data.get("report", {}),
            data.get("fit", {}),
        )


def load_fitted(path: Path = FITTED_PATH) -> FittedTierModel | None:
    """The fitted model of ``path``, or None when there is none (the O*NET fit is used then)."""
    if not path.is_file():
        return None
    return FittedTierModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def _label(version: str) -> str:
    return version.strip().replace(".", "_")


def active_tier_model(release_version: str | None = None) -> TierModel | FittedTierModel:
    """The tier model the offline selector uses for the active release ``release_version``
    ("30_1"): the labelled-title fit when it is bundled and was fitted with that release's index
    (its cut-offs were measured there, not on another release's), else the O*NET self-labelled
    fit (``TierModel()``)."""
    fitted = load_fitted()
    same = release_version is not None and fitted is not None and _label(fitted.release) == _label(release_version)
    if fitted is not None and same:
        return fitted
    return TierModel()


# ---------------------------------------------------------------------------------------------
# Fitting on O*NET's own titles, held out one at a time (``python -m jobforge.retrieval.calibration``)
# ---------------------------------------------------------------------------------------------


@dataclass
class LabelledQuery:
    title: str
    code: str  # the occupation the title belongs to in O*NET


def held_out_split(rows: dict[str, Any], n: int, seed: int) -> tuple[dict[str, Any], list[LabelledQuery]]:
    """Take a seeded sample of alternate/reported titles out of the release's rows.

    Every string of the same occupation with the same search form leaves too (a reported title
    that repeats an alternate title would otherwise give the answer away).
    """
    pool = sorted(
        {(occ, text) for occ, field, text in rows["strings"] if field in ("alternate_title", "reported_title")}
    )
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    held = {(occ, search_form(text).bag) for occ, text in picked}
    kept = [row for row in rows["strings"] if row[1] == "title" or (row[0], search_form(row[2]).bag) not in held]
    queries = [LabelledQuery(text, rows["codes"][occ]) for occ, text in picked]
    return {**rows, "strings": kept}, queries


def present_titles(rows: dict[str, Any], n: int, seed: int) -> list[LabelledQuery]:
    """A seeded sample of alternate/reported titles queried as they are (the exact-match case)."""
    pool = sorted(
        {(occ, text) for occ, field, text in rows["strings"] if field in ("alternate_title", "reported_title")}
    )
    picked = random.Random(seed + 1).sample(pool, min(n, len(pool)))
    return [LabelledQuery(text, rows["codes"][occ]) for occ, text in picked]


@dataclass
class Observation:
    signals: Signals
    top1: bool  # rank 1 is in the query's 6-digit SOC code
    top20: bool


def observe(index: Any, queries: list[LabelledQuery], k: int = 20) -> list[Observation]:
    out = []
    for query in queries:
        candidates = index.candidates(query.title, k=k)
        if not candidates:
            continue
        socs = [c.code[:7] for c in candidates]
        signals = signals_of(candidates, index.weights.exact_bonus)
        out.append(Observation(signals, socs[0] == query.code[:7], query.code[:7] in socs))
    return out


def fit_logistic(rows: list[list[float]], labels: list[bool], l2: float = 1e-3, steps: int = 50) -> list[float]:
    """Newton's method for L2-regularised logistic regression (numpy only)."""
    import numpy as np

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=float)
    beta = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (p - y) + l2 * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return [float(b) for b in beta]


def high_threshold(probabilities: list[float], correct: list[bool], target: float = 0.93) -> float:
    """Lowest cut-off whose HIGH bucket (p >= cut) reaches ``target`` precision. The targets sit
    above DESIGN.md's 90% / 70% since real titles are harder than O*NET's own."""
    pairs = sorted(zip(probabilities, correct, strict=True), reverse=True)
    cut, hits = 1.0, 0
    for i, (p, ok) in enumerate(pairs, start=1):
        hits += ok
        if hits / i >= target:
            cut = p
    return round(cut, 3)


def medium_threshold(probabilities: list[float], correct: list[bool], high: float, target: float = 0.75) -> float:
    """Lowest cut-off whose MEDIUM bucket (cut <= p < high) reaches ``target`` precision."""
    pairs = sorted(((p, ok) for p, ok in zip(probabilities, correct, strict=True) if p < high), reverse=True)
    cut, hits = high, 0
    for i, (p, ok) in enumerate(pairs, start=1):
        hits += ok
        if hits / i >= target:
            cut = p
    return round(cut, 3)


def summary(observations: list[Observation], model: TierModel) -> dict[str, float]:
    report: dict[str, float] = {"titles": len(observations)}
    report["top1"] = sum(o.top1 for o in observations) / max(len(observations), 1)
    report["top20"] = sum(o.top20 for o in observations) / max(len(observations), 1)
    for tier in ConfidenceTier:
        inside = [o.top1 for o in observations if model.tier(model.probability(o.signals)) == tier]
        report[f"{tier.value}_coverage"] = len(inside) / max(len(observations), 1)
        report[f"{tier.value}_precision"] = sum(inside) / len(inside) if inside else float("nan")
    return report


def calibrate(session: Any, n: int = 3000, seed: int = 13) -> tuple[TierModel, dict[str, dict[str, float]]]:
    """Fit on held-out titles (retrieval without the answer) plus present titles (exact matches)."""
    from jobforge.onet.repository import require_active_release
    from jobforge.retrieval.index import CandidateIndex, read_release

    rows = read_release(session, require_active_release(session).id)
    kept, held_queries = held_out_split(rows, n, seed)
    held = observe(CandidateIndex(**kept), held_queries)
    present = observe(CandidateIndex(**rows), present_titles(rows, n // 2, seed))
    # Exact matches are modelled on titles as O*NET has them (a role titled like an O*NET title);
    # other matches on held-out titles (retrieval without the answer), excluding the held-out
    # titles that happen to equal another occupation's title (an artefact of holding out).
    parts = {True: [o for o in present if o.signals.exact], False: [o for o in held if not o.signals.exact]}
    fitted = {
        exact: tuple(round(c, 3) for c in fit_logistic([o.signals.vector() for o in part], [o.top1 for o in part]))
        for exact, part in parts.items()
    }
    model = TierModel(fitted[True], fitted[False])
    # Each kind of match must reach the targets on its own, whatever the mix of a real upload.
    scored = [([model.probability(o.signals) for o in part], [o.top1 for o in part]) for part in parts.values()]
    high = max(high_threshold(p, ok) for p, ok in scored)
    medium = max(medium_threshold(p, ok, high) for p, ok in scored)
    model = TierModel(model.exact_coefficients, model.other_coefficients, high, medium)
    return model, {"held_out_other": summary(parts[False], model), "present_exact": summary(parts[True], model)}


def main(argv: list[str] | None = None) -> None:
    """``fit --labels FILE``: the labelled-title fit (written to the bundled JSON, active);
    ``onet`` (or no command): the O*NET self-labelled fit, printed (the fallback's defaults)."""
    import argparse

    from jobforge.db.engine import get_engine, session_factory

    parser = argparse.ArgumentParser(description="Fit the offline tier model.")
    parser.add_argument("command", nargs="?", default="onet", choices=("onet", "fit"))
    parser.add_argument("--store", help="database URL (default: the configured store)")
    parser.add_argument("--labels", help="fit: labelled titles CSV (default: the eval_labels setting)")
    parser.add_argument("--dry-run", action="store_true", help="fit: print the figures, do not write the JSON")
    parser.add_argument("-n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if args.command == "fit":
        from jobforge.config import get_settings
        from jobforge.evaluation.tier_fit import run_fit, table_lines

        fitted = run_fit(args.store, args.labels or str(get_settings().resolved_eval_labels()), not args.dry_run)
        print(f"fitted {fitted.fitted_on}; cut-offs (HIGH, MEDIUM) per kind:")
        print({kind: (c.high, c.medium) for kind, c in fitted.cutoffs.items()})
        print("coefficients:", fitted.coefficients)
        print(
            "\n".join(["FIT part (in sample):", *table_lines(fitted.fit), "REPORT part:", *table_lines(fitted.report)])
        )
        return
    with session_factory(get_engine(args.store))() as session:
        model, report = calibrate(session, args.n, args.seed)
    for name, figures in report.items():
        print(name, {key: round(value, 4) for key, value in figures.items()})
    print(
        f"TierModel(exact_coefficients={model.exact_coefficients}, other_coefficients={model.other_coefficients}, "
        f"high={model.high}, medium={model.medium})"
    )


if __name__ == "__main__":
    main()
