"""Ranking quality on O*NET's own titles held out of the index (how the weights were chosen).

    .venv/bin/python bench/heldout_ranking.py                        # current weights
    .venv/bin/python bench/heldout_ranking.py -n 1500 "tb=dict(title_bag=0.3)" "hb=dict(head_bonus=0.25)"

A seeded sample of alternate/reported titles is taken out of the index (with every string of the
same occupation and search form), then each is looked up; top-1/top-20 count its 6-digit SOC code.
Each NAME=dict(...) argument re-scores with those ``ScoringWeights`` changed (query-time weights
only). No evaluation labels are involved. Uses the bench store of bench/accuracy.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import DEFAULT_STORE, bench_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("-n", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("variants", nargs="*", help="NAME=dict(weight=value, ...)")
    args = parser.parse_args()

    from jobforge.db.engine import get_engine, session_factory
    from jobforge.retrieval.calibration import held_out_split, observe
    from jobforge.retrieval.index import CandidateIndex, read_release

    release_id = bench_index(args.store).release_id
    with session_factory(get_engine(args.store))() as session:
        rows = read_release(session, release_id)
    kept, queries = held_out_split(rows, args.n, args.seed)
    started = time.perf_counter()
    index = CandidateIndex(**kept)
    print(f"held-out index built in {time.perf_counter() - started:.1f} s; {len(queries)} held-out titles")
    base = index.weights
    variants = {"current": {}}
    for item in args.variants:
        name, _, expression = item.partition("=")
        variants[name] = eval(expression, {"dict": dict})  # a bench knob, typed by whoever runs it
    for name, changes in variants.items():
        index.weights = replace(base, **changes)
        found = observe(index, queries)
        top1 = sum(o.top1 for o in found) / len(found)
        top20 = sum(o.top20 for o in found) / len(found)
        print(f"{name:12} top-1 {100 * top1:.1f}  top-20 {100 * top20:.1f}", flush=True)


if __name__ == "__main__":
    main()
