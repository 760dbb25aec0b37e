"""Tier precision and coverage per source on one part of the labelled titles (issue 10 kind 6).

    .venv/bin/python bench/tiers.py                      # REPORT part, the active tier model
    .venv/bin/python bench/tiers.py --part fit           # the part the model was fitted on
    .venv/bin/python bench/tiers.py --model onet         # the O*NET self-labelled fallback, for comparison

The tier model is fitted on the FIT part (title buckets 0–4, jobforge/evaluation/split.py) by
``python -m jobforge.retrieval.calibration fit``; this scores the offline pipeline on the other
part exactly as ../shared/eval/README.md says (the same code as ``python -m jobforge eval``).
Uses the bench store of bench/accuracy.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import DEFAULT_STORE, bench_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--labels", help="labels CSV (default: the configured eval labels)")
    parser.add_argument("--part", choices=("report", "fit", "all"), default="report")
    parser.add_argument("--model", choices=("active", "onet"), default="active")
    args = parser.parse_args()

    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.evaluation.labels import read_labels, title_group
    from jobforge.evaluation.predict import predict
    from jobforge.evaluation.scoring import markdown_table, score
    from jobforge.evaluation.split import part_of
    from jobforge.mapping.offline import OfflineSelector
    from jobforge.onet.repository import require_active_release
    from jobforge.retrieval.calibration import FittedTierModel, TierModel

    labels = read_labels(args.labels or get_settings().resolved_eval_labels())
    if args.part != "all":
        labels = [item for item in labels if part_of(item.title) == args.part]
    index = bench_index(args.store)
    with session_factory(get_engine(args.store))() as session:
        version = require_active_release(session).version
    selector = OfflineSelector(index, release_version=version, tier_model=TierModel() if args.model == "onet" else None)
    model = selector.tier_model
    described = model.fitted_on if isinstance(model, FittedTierModel) else "O*NET self-labelled fit (TierModel())"
    titles = [item.title for item in labels]
    started = time.perf_counter()
    predictions = predict(titles, index, selector)
    seconds = time.perf_counter() - started
    figures = score(labels, {title_group(t): p for t, p in zip(titles, predictions, strict=True)})
    print(f"{args.part} part: {len(titles)} distinct titles, O*NET {version}, {seconds:.1f} s; tiers: {described}")
    print(markdown_table(figures))


if __name__ == "__main__":
    main()
