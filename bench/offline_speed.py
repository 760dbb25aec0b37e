"""Offline mapping speed: index build, index load from the disk cache, 10,000 unique titles.

    .venv/bin/python bench/offline_speed.py
    .venv/bin/python bench/offline_speed.py --store sqlite:////tmp/bench.db --titles 10000

Uses the same bench store as bench/accuracy.py (loads the configured O*NET 30.1 release into it
when it has none). The titles are synthetic but realistic: O*NET alternate titles dressed up the
way HR systems write them (seniority, abbreviations, requisition numbers, shift/location noise,
"Y, X" word order), de-duplicated by ``title_key``, seeded. Prints wall-clock seconds and the peak
resident memory of the process. The machine is shared: note the load average printed with it.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import DEFAULT_STORE  # noqa: E402

PREFIXES = ["", "", "", "Sr. ", "Senior ", "Jr ", "Lead ", "Principal ", "Asst. ", "Associate "]
SUFFIXES = ["", "", "", " II", " III", " - Nights", " (Remote)", " PRN", " - Part Time", " (REQ-{n})", " #{n}"]


def synthetic_titles(strings: list[str], count: int, seed: int = 11) -> list[str]:
    from jobforge.retrieval.normalize import title_key

    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        base = rng.choice(strings)
        if "," not in base and " " in base and rng.random() < 0.1:
            first, rest = base.split(" ", 1)
            base = f"{rest}, {first}"
        title = rng.choice(PREFIXES) + base + rng.choice(SUFFIXES).format(n=rng.randint(1000, 99999))
        title = title.upper() if rng.random() < 0.2 else title
        key = title_key(title)
        if key not in seen:
            seen.add(key)
            out.append(title)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--titles", type=int, default=10_000)
    args = parser.parse_args()

    from bench.accuracy import bench_index
    from jobforge.mapping.offline import OfflineSelector
    from jobforge.mapping.selectors import RoleRequest
    from jobforge.retrieval.index import CandidateIndex
    from jobforge.retrieval.normalize import title_key

    warm = bench_index(args.store)  # makes sure the release is loaded (and warms the disk cache)
    from jobforge.db.engine import get_engine, session_factory

    with session_factory(get_engine(args.store))() as session:
        started, cpu = time.perf_counter(), time.process_time()
        index = CandidateIndex.build(session, warm.release_id)
        build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.npz"
        index.save(path)
        started, cpu = time.perf_counter(), time.process_time()
        loaded = CandidateIndex.load(path)
        load_seconds, load_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert loaded is not None
    titles = synthetic_titles(index._strings.text, args.titles)
    selector = OfflineSelector(loaded)
    started, cpu = time.perf_counter(), time.process_time()
    results = []
    for start in range(0, len(titles), 500):
        batch = titles[start : start + 500]
        results += selector.select([RoleRequest(start + i, t, title_key(t)) for i, t in enumerate(batch)])
    map_seconds, map_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(results) == len(titles)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall clock; CPU time of this process)")
    print(f"index build (from the store): {build_seconds:.1f} s (CPU {build_cpu:.1f} s)")
    print(f"index load (disk cache):      {load_seconds:.2f} s (CPU {load_cpu:.2f} s)")
    per_title = 1000 * map_seconds / len(titles)
    print(
        f"{len(titles)} unique titles mapped offline: {map_seconds:.1f} s, {per_title:.2f} ms/title (CPU {map_cpu:.1f} s)"
    )
    print(f"peak memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
