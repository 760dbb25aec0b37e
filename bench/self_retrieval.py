"""O*NET self-retrieval: every occupation title and alternate title of the release looked up in its
own index; share that finds its own occupation first or in an exact tie (see
jobforge/evaluation/self_retrieval.py), and the misses that remain.

    .venv/bin/python bench/self_retrieval.py                 # the bench store of bench/accuracy.py
    .venv/bin/python bench/self_retrieval.py --store sqlite:////tmp/bench.db --misses misses.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import DEFAULT_STORE, bench_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--misses", help="write code,field,title,found CSV")
    args = parser.parse_args()

    from jobforge.db.engine import get_engine, session_factory
    from jobforge.evaluation.self_retrieval import release_titles, self_retrieval
    from jobforge.retrieval.index import read_release

    index = bench_index(args.store)
    with session_factory(get_engine(args.store))() as session:
        titles = release_titles(read_release(session, index.release_id))
    started, cpu = time.perf_counter(), time.process_time()
    result = self_retrieval(index, titles)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    fields = Counter(name for _, name, _ in titles)
    missed = Counter(miss.field for miss in result.misses)
    print(f"load average {os.getloadavg()[0]:.1f}; {len(titles)} titles in {seconds:.0f} s (CPU {cpu:.0f} s)")
    print(f"retrieve themselves: {100 * result.share:.2f}% ({len(result.misses)} misses)")
    for name, count in fields.items():
        print(f"  {name}: {count - missed[name]} of {count}")
    for miss in result.misses:
        print(f"  miss {miss.code} {miss.title!r} -> {', '.join(miss.found)}")
    if args.misses:
        with Path(args.misses).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["code", "field", "title", "found"])
            for miss in result.misses:
                writer.writerow([miss.code, miss.field, miss.title, " ".join(miss.found)])


if __name__ == "__main__":
    main()
