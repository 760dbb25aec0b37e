"""Fitting the offline tier model on labelled titles (issue 10 kind 6, issue 9 item 5).

``python -m jobforge.retrieval.calibration fit --labels ../shared/eval/dev_titles.csv``

Every labelled title is looked up in the offline index; its retrieval signals
(:meth:`jobforge.retrieval.calibration.Signals.features`, *all* of them, so a signal added later
is picked up by re-running the fit) and whether rank 1 is right in each source it comes from are
kept. Titles of the ``FIT`` part (:mod:`jobforge.evaluation.split`, buckets 0–4) fit a logistic
regression (scikit-learn) and the HIGH / MEDIUM probability cut-offs; titles of the ``REPORT``
part (buckets 5–9) only measure the result. Cut-offs are chosen per *kind of evidence* (as
written, a title several occupations share, a reading of an abbreviation, a translation, a
rewording): a kind reaches HIGH (MEDIUM) only where, on FIT, every source's precision clears the
target with a margin of safety (a one-sided 95% Wilson lower bound), so HIGH means HIGH on every
source, H-1B titles included. The result is written to :data:`FITTED_PATH` (JSON), which the
offline selector loads (:func:`jobforge.retrieval.calibration.active_tier_model`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jobforge.evaluation.labels import LabelledTitle
from jobforge.evaluation.split import FIT, REPORT, part_of, title_bucket
from jobforge.retrieval.calibration import (
    FITTED_PATH,
    KINDS,
    RELIABILITY,
    FittedTierModel,
    KindCutoffs,
    Signals,
    evidence_kind,
    signals_of,
)

HIGH_TARGET = 0.90
MEDIUM_TARGET = 0.70
Z_ONE_SIDED_95 = 1.645
MIN_TITLES = 30  # below this many titles of a source in a tier, its point precision must clear the target
SHRINK = 10.0  # pseudo-titles pulling an occupation's reliability towards the mean


@dataclass
class LabelObservation:
    title: str
    part: str  # "fit" | "report"
    signals: Signals
    features: dict[str, float]  # ``signals.features()``
    kind: str  # evidence kind of rank 1 (see ``evidence_kind``)
    top1: dict[str, bool]  # source -> rank 1 is an acceptable answer in that source
    top20: dict[str, bool]  # source -> an acceptable answer is among the first 20 distinct codes


def observe_labels(
    index: Any, labels: Iterable[LabelledTitle], progress: Callable[[int], None] | None = None
) -> list[LabelObservation]:
    """Signals and per-source correctness of rank 1 for every labelled title with candidates."""
    out = []
    for item in labels:
        candidates = index.candidates(item.title, k=20)
        if progress:
            progress(1)
        if not candidates:
            continue
        socs = list(dict.fromkeys(c.code[:7] for c in candidates))
        signals = signals_of(candidates, index.weights.exact_bonus)
        out.append(
            LabelObservation(
                item.title,
                part_of(item.title),
                signals,
                signals.features(),
                evidence_kind(signals),
                {s: socs[0] in ok for s, ok in item.sources.items() if ok},
                {s: bool(ok.intersection(socs[:20])) for s, ok in item.sources.items() if ok},
            )
        )
    return out


def wilson_lower(hits: int, n: int, z: float = Z_ONE_SIDED_95) -> float:
    """One-sided lower confidence bound of a proportion (0 when ``n`` is 0)."""
    if n == 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def fit_coefficients(observations: list[LabelObservation], names: list[str]) -> tuple[float, list[float]]:
    """Logistic regression of "rank 1 right" on the features; every (title, source) pair is a row,
    weighted so that each source weighs the same (the hard sources are not drowned by the easy one).

    Returns (intercept, coefficients in ``names`` order) on the raw feature scale.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rows, labels, sources = [], [], []
    for o in observations:
        for source, right in o.top1.items():
            rows.append([o.features.get(name, 0.0) for name in names])
            labels.append(right)
            sources.append(source)
    counts: dict[str, int] = defaultdict(int)
    for source in sources:
        counts[source] += 1
    weights = np.asarray([len(labels) / (len(counts) * counts[s]) for s in sources])
    x = np.asarray(rows, dtype=float)
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - scaler.mean_) / scale, labels, sample_weight=weights)
    coefficients = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - (coefficients * scaler.mean_).sum())
    return intercept, [float(c) for c in coefficients]


def _passes(pairs: list[tuple[str, bool]], target: float) -> bool:
    """Every source with enough titles in the bucket clears ``target`` at its Wilson lower bound."""
    by_source: dict[str, list[bool]] = defaultdict(list)
    for source, right in pairs:
        by_source[source].append(right)
    pooled = [right for _, right in pairs]
    if wilson_lower(sum(pooled), len(pooled)) < target:
        return False
    # A source with few titles in the bucket shows little, but it may not be mostly wrong either.
    return all(
        wilson_lower(sum(v), len(v)) >= target if len(v) >= MIN_TITLES else sum(v) >= target * len(v)
        for v in by_source.values()
    )


def lowest_cutoff(scored: list[tuple[float, list[tuple[str, bool]]]], target: float, below: float = 1.01) -> float:
    """The lowest probability cut-off ``c`` (< ``below``) whose bucket ``c <= p < below`` passes
    :func:`_passes`; ``below`` itself (an empty bucket) when none does. Walks the distinct
    probabilities downwards, so the bucket only grows."""
    inside = sorted((item for item in scored if item[0] < below), key=lambda item: -item[0])
    best, pairs = below, []
    for i, (p, rows) in enumerate(inside):
        pairs.extend(rows)
        last_of_value = i + 1 == len(inside) or inside[i + 1][0] < p
        if last_of_value and _passes(pairs, target):
            best = p
    return round(best, 4) if best < below else below


def choose_cutoffs(
    observations: list[LabelObservation], probability: Callable[[LabelObservation], float]
) -> dict[str, KindCutoffs]:
    """Per evidence kind, the lowest HIGH cut-off, then the lowest MEDIUM one below it, that pass
    :func:`_passes` on ``observations`` (the FIT part); a kind that never passes gets none."""
    cutoffs = {}
    for kind in KINDS:
        scored = [(probability(o), list(o.top1.items())) for o in observations if o.kind == kind]
        high = lowest_cutoff(scored, HIGH_TARGET)
        medium = lowest_cutoff(scored, MEDIUM_TARGET, below=high)
        cutoffs[kind] = KindCutoffs(min(high, 1.01), min(medium, high, 1.01))
    return cutoffs


def measure(observations: list[LabelObservation], model: FittedTierModel) -> dict[str, dict[str, float | None]]:
    """Per source: titles, top-1, top-20, and per tier precision and coverage (shares, 0–1)."""
    rows: dict[str, list[tuple[str, bool, bool]]] = defaultdict(list)
    for o in observations:
        tier = model.tier_of(o.signals, model.probability(o.signals)).value
        for source, right in o.top1.items():
            rows[source].append((tier, right, o.top20[source]))
    out: dict[str, dict[str, float | None]] = {}
    for source in sorted(rows):
        items = rows[source]
        n = len(items)
        figures: dict[str, float | None] = {
            "titles": n,
            "top1": sum(r for _, r, _ in items) / n,
            "top20": sum(t for _, _, t in items) / n,
        }
        for tier in ("HIGH", "MEDIUM", "LOW"):
            inside = [r for t, r, _ in items if t == tier]
            figures[f"{tier.lower()}_precision"] = sum(inside) / len(inside) if inside else None
            figures[f"{tier.lower()}_coverage"] = len(inside) / n
        out[source] = figures
    return out


def _logit(share: float) -> float:
    share = min(max(share, 1e-4), 1 - 1e-4)
    return math.log(share / (1 - share))


def reliability_table(observations: list[LabelObservation], mean: float) -> dict[str, float]:
    """Per rank-1 SOC code: (right + SHRINK * mean) / (proposals + SHRINK) as a logit, over
    every (title, source) pair of ``observations``."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in observations:
        for right in o.top1.values():
            counts[o.signals.code[:7]][0] += right
            counts[o.signals.code[:7]][1] += 1
    return {code: _logit((hits + SHRINK * mean) / (n + SHRINK)) for code, (hits, n) in sorted(counts.items())}


def _with_reliability(observations: list[LabelObservation], mean: float) -> list[dict[str, float]]:
    """Each FIT title's features with its occupation's reliability measured on the *other* FIT
    buckets (out of fold), so the regression does not see a title's own answer in the feature."""
    folds = {b: reliability_table([o for o in observations if title_bucket(o.title) != b], mean) for b in range(5)}
    rows = []
    for o in observations:
        table = folds[title_bucket(o.title)]
        rows.append({**o.features, RELIABILITY: table.get(o.signals.code[:7], _logit(mean))})
    return rows


def fit_tier_model(observations: list[LabelObservation], labels_name: str = "") -> FittedTierModel:
    """Fit on the FIT part, measure on both parts (see the module docstring)."""
    fit = [o for o in observations if o.part == FIT]
    pairs = [right for o in fit for right in o.top1.values()]
    mean = sum(pairs) / max(len(pairs), 1)
    rows = _with_reliability(fit, mean)
    names = sorted({name for row in rows for name in row})
    out_of_fold = [replace(o, features=row) for o, row in zip(fit, rows, strict=True)]
    intercept, coefficients = fit_coefficients(out_of_fold, names)
    model = FittedTierModel(
        round(intercept, 4),
        {name: round(c, 4) for name, c in zip(names, coefficients, strict=True)},
        {},
        reliability_table(fit, mean),
        round(_logit(mean), 4),
    )

    def probability(o: LabelObservation) -> float:
        z = model.intercept + sum(c * o.features.get(n, 0.0) for n, c in model.coefficients.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    cutoffs = choose_cutoffs(out_of_fold, probability)
    when = f"{dt.date.today().isoformat()} on the FIT part (title buckets 0-4) of {labels_name}"
    model = replace(model, cutoffs=cutoffs, fitted_on=when)
    report = measure([o for o in observations if o.part == REPORT], model)
    return replace(model, report=report, fit=measure(fit, model))


def write_model(model: FittedTierModel, path: Path = FITTED_PATH) -> None:
    path.write_text(json.dumps(model.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")


def table_lines(figures: dict[str, dict[str, float | None]]) -> list[str]:
    """Per-source figures as Markdown table rows (percentages)."""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.1f}"

    lines = [
        "| source | titles | top-1 | top-20 | HIGH prec | HIGH cov | MEDIUM prec | MEDIUM cov | LOW cov |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for source, f in figures.items():
        cells = [source, f"{int(f['titles'] or 0)}", pct(f["top1"]), pct(f["top20"])]
        cells += [pct(f["high_precision"]), pct(f["high_coverage"]), pct(f["medium_precision"])]
        cells += [pct(f["medium_coverage"]), pct(f["low_coverage"])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def run_fit(store: str | None, labels_path: str, write: bool = True) -> FittedTierModel:
    """Observe every labelled title with the active release's offline index, fit, write the JSON."""
    import sys

    from jobforge.db.engine import get_engine, session_factory
    from jobforge.evaluation.labels import read_labels
    from jobforge.onet.repository import require_active_release
    from jobforge.retrieval.index import get_candidate_index

    labels = read_labels(labels_path)
    with session_factory(get_engine(store))() as session:
        index = get_candidate_index(session)
        release = require_active_release(session).version
    print(f"observing {len(labels)} labelled titles with O*NET {release} ...", file=sys.stderr)
    observations = observe_labels(index, labels)
    model = replace(fit_tier_model(observations, Path(labels_path).name), release=release)
    if write:
        write_model(model)
    return model
