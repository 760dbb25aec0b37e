"""Offline mapping accuracy on the labelled dev titles, scored as ../shared/eval/README.md says.

    .venv/bin/python bench/accuracy.py                       # the full file, all sources
    .venv/bin/python bench/accuracy.py --sample 3000         # a seeded random sample of titles
    .venv/bin/python bench/accuracy.py --store sqlite:////tmp/bench.db --predictions /tmp/p.csv

Uses a bench store (default ``/tmp/jobforge_bench_accuracy.db``) and loads the configured O*NET
30.1 release into it when it has none. The labels are read from their configured place
(``JOBFORGE_EVAL_LABELS`` or ../shared/eval/dev_titles.csv) and only measured: nothing from them
goes into the index or the rules; the tier model is the bundled fit (fitted on the FIT half of the
labels, see bench/tiers.py for the REPORT half alone). This is the same pipeline as
``python -m jobforge eval --provider offline``, without the CLI around it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_STORE = "sqlite:////tmp/jobforge_bench_accuracy.db"


def bench_index(store: str):
    """The candidate index of ``store``, loading the configured release first if needed."""
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.onet.repository import active_release
    from jobforge.retrieval.index import get_candidate_index

    engine = get_engine(store)
    with session_factory(engine)() as session:
        if active_release(session) is None:
            from jobforge.onet.loader import load_release

            source = get_settings().resolved_onet_source()
            print(f"loading {source} into {store} ...", file=sys.stderr)
            load_release(engine, source)
    with session_factory(engine)() as session:
        started = time.perf_counter()
        index = get_candidate_index(session)
        print(f"index ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return index


def release_version(store: str) -> str:
    """The active release's version of ``store`` (it picks the tier model fitted with it)."""
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.onet.repository import require_active_release

    with session_factory(get_engine(store))() as session:
        return require_active_release(session).version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--labels", help="labels CSV (default: the configured eval labels)")
    parser.add_argument("--sample", type=int, help="score a seeded random sample of N distinct titles")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--predictions", help="write title,rank,code,tier CSV")
    args = parser.parse_args()

    from jobforge.config import get_settings
    from jobforge.evaluation.labels import read_labels, title_group
    from jobforge.evaluation.predict import predict, write_predictions
    from jobforge.evaluation.scoring import markdown_table, score
    from jobforge.mapping.offline import OfflineSelector

    labels = read_labels(args.labels or get_settings().resolved_eval_labels())
    if args.sample:
        labels = random.Random(args.seed).sample(labels, min(args.sample, len(labels)))
    index = bench_index(args.store)
    titles = [item.title for item in labels]
    started = time.perf_counter()
    predictions = predict(titles, index, OfflineSelector(index, release_version=release_version(args.store)))
    seconds = time.perf_counter() - started
    if args.predictions:
        write_predictions(args.predictions, titles, predictions)
    figures = score(labels, {title_group(t): p for t, p in zip(titles, predictions, strict=True)})
    print(f"{len(titles)} distinct titles mapped offline in {seconds:.1f} s")
    print(markdown_table(figures))


if __name__ == "__main__":
    main()
