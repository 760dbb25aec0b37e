"""Learning curve: offline mapping of new H-1B titles as more decided H-1B titles are known (issue 9).

    .venv/bin/python bench/learning_curve.py                 # the table for bench/RESULTS.md
    .venv/bin/python bench/learning_curve.py --tune          # the grid the vote's constants were chosen on

The ``oflc_h1b_lca`` titles of dev_titles.csv are split with :mod:`jobforge.evaluation.split`:
"new" = buckets 8–9 (mapped and scored), "decided" = buckets 0–7 (imported as a codebook whose
codes are each title's acceptable SOC 2018 codes, read as their O*NET-SOC 2019 occupations). Steps:
0, 250, 1,000 and all decided titles (a seeded sample), plus one row where every *other* source of
the file is the codebook. ``--tune`` chooses on the FIT part only (decided = buckets 0–3, new =
bucket 4), never on the reported buckets. Then times building the index for 25,000 entries and
mapping 10,000 roles with it, and reports the peak memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

H1B = "oflc_h1b_lca"


def codebook_of(labels, reader) -> list:
    from jobforge.codebooks.vote import DecidedTitle

    out = []
    for item in labels:
        codes: list[str] = []
        for soc in sorted(item.acceptable):
            reading = reader.read(soc, "soc2018")
            if reading is not None:
                codes.extend(c for c in reading.codes if c not in codes)
        if codes:
            out.append(DecidedTitle(item.title, tuple(codes), "codebook", "bench"))
    return out


def run_row(name, new, candidates, index, entries, release: str | None = None) -> dict:
    """``release``: the store's O*NET release version, which picks the tier model fitted with it."""
    from jobforge.codebooks.vote import DecidedIndex, add_voted
    from jobforge.evaluation.labels import title_group
    from jobforge.evaluation.predict import ranked_codes
    from jobforge.evaluation.scoring import Prediction, score
    from jobforge.mapping.offline import OfflineSelector
    from jobforge.mapping.selectors import RoleRequest
    from jobforge.retrieval.normalize import title_key

    decided = DecidedIndex(entries) if entries else None
    titles = [item.title for item in new]
    votes = decided.votes(titles) if decided else [None] * len(titles)
    selector = OfflineSelector(index, release_version=release)
    requests = [
        RoleRequest(i, t, title_key(t), candidates=add_voted(list(candidates[t]), v, index.occupation), vote=v)
        for i, (t, v) in enumerate(zip(titles, votes, strict=True))
    ]
    predictions = {}
    for request, result in zip(requests, selector.select(requests), strict=True):
        codes = ranked_codes(result.onet_code, (c["code"] for c in result.candidates))
        predictions[title_group(request.title)] = Prediction(codes, str(result.confidence))
    figures = {f.source: f for f in score(new, predictions)}[H1B].to_dict()
    return {"row": name, "decided": len(entries), **figures}


def fresh_candidates(index, titles) -> dict:
    import copy

    cache = {t: index.candidates(t) for t in titles}
    return {t: [copy.copy(c) for c in cs] for t, cs in cache.items()}


def table(rows: list[dict]) -> str:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    lines = [
        "| codebook | decided titles | new titles | top-1 | top-5 | top-20 | 2-digit | HIGH prec. / cov. | MEDIUM prec. / cov. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['row']} | {r['decided']:,} | {r['titles']:,} | {pct(r['top1'])} | {pct(r['top5'])} | "
            f"{pct(r['top20'])} | {pct(r['two_digit'])} | {pct(r['high_precision'])} / "
            f"{pct(r['high_coverage'])} | {pct(r['medium_precision'])} / {pct(r['medium_coverage'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite:////tmp/jobforge_bench_accuracy.db")
    parser.add_argument("--labels")
    parser.add_argument("--tune", action="store_true", help="grid on the FIT part (buckets 0-3 decided, 4 new)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timing-only", action="store_true", help="only the 25,000-entry / 10,000-role timing")
    args = parser.parse_args()

    from accuracy import bench_index, release_version

    from jobforge.codebooks import vote as vote_module
    from jobforge.codebooks.codes import CodeReader
    from jobforge.config import get_settings
    from jobforge.evaluation.labels import read_labels
    from jobforge.evaluation.split import title_bucket

    path = args.labels or get_settings().resolved_eval_labels()
    h1b = read_labels(path, {H1B})
    everything = read_labels(path)
    index = bench_index(args.store)
    release = release_version(args.store)  # the fitted tier model of that release, as `map` uses
    reader = CodeReader(index.codes, None)
    if args.timing_only:
        timing(index, everything, reader)
        return
    if args.tune:
        decided_pool = [t for t in h1b if title_bucket(t.title) <= 3]
        new = [t for t in h1b if title_bucket(t.title) == 4]
    else:
        decided_pool = [t for t in h1b if title_bucket(t.title) <= 7]
        new = [t for t in h1b if title_bucket(t.title) >= 8]
    started = time.perf_counter()
    candidates = {t.title: index.candidates(t.title) for t in new}
    print(f"{len(new)} new titles retrieved in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    pool = codebook_of(decided_pool, reader)
    shuffled = random.Random(args.seed).sample(pool, len(pool))

    def fresh():
        import copy

        return {t: [copy.copy(c) for c in cs] for t, cs in candidates.items()}

    if args.tune:
        print(table([run_row("no codebook", new, fresh(), index, [], release)]))
        for power in (1, 2, 4):
            for pair in (0.0, 0.5, 1.0):
                for weight in (2.5, 4.0):
                    vote_module.SIMILARITY_POWER, vote_module.PAIR_WEIGHT, vote_module.VOTE_WEIGHT = power, pair, weight
                    row = run_row(f"power={power} pair={pair} w={weight}", new, fresh(), index, pool, release)
                    print(table([row]).splitlines()[-1], flush=True)
        return

    rows = []
    for step in (0, 250, 1000, len(shuffled)):
        rows.append(run_row("H-1B decided titles", new, fresh(), index, shuffled[:step], release))
    others = [t for t in everything if t.title.strip().casefold() not in {n.title.strip().casefold() for n in new}]
    other_sources = [t for t in others if any(s != H1B for s in t.sources)]
    other_entries = codebook_of(
        [type(t)(t.title, set().union(*(c for s, c in t.sources.items() if s != H1B))) for t in other_sources], reader
    )
    rows.append(run_row("every other source", new, fresh(), index, other_entries, release))
    print(table(rows))
    timing(index, everything, reader)


class Clock:
    """Wall and CPU seconds since the last lap."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> str:
        wall, cpu = time.perf_counter(), time.process_time()
        text = f"{wall - self.wall:.1f} / {cpu - self.cpu:.1f}"
        self.wall, self.cpu = wall, cpu
        return text


def timing(index, everything, reader) -> None:
    from jobforge.codebooks.vote import DecidedIndex, add_voted
    from jobforge.mapping.offline import OfflineSelector
    from jobforge.mapping.selectors import RoleRequest
    from jobforge.retrieval.normalize import title_key

    entries = codebook_of(everything, reader)
    while len(entries) < 25_000:  # pad with variants so the index holds 25,000 distinct-ish entries
        entries += [type(e)(f"{e.title} {len(entries)}", e.codes, e.origin, e.source_name) for e in entries[:1000]]
    entries = entries[:25_000]
    clock = Clock()
    decided = DecidedIndex(entries)
    built = clock.lap()
    roles = [e.title for e in random.Random(3).sample(entries, 10_000)]
    clock.lap()
    votes = decided.votes(roles)
    voted = clock.lap()
    selector = OfflineSelector(index)
    retrieved = [index.candidates(t) for t in roles]
    retrieval = clock.lap()
    requests = [
        RoleRequest(i, t, title_key(t), candidates=add_voted(c, v, index.occupation), vote=v)
        for i, (t, c, v) in enumerate(zip(roles, retrieved, votes, strict=True))
    ]
    selector.select(requests)
    mapped = clock.lap()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n(wall s / CPU s) index of {len(entries):,} decided entries ({len(decided):,} distinct forms) built in "
        f"{built}; 10,000 roles: votes {voted}, adding voted codes + offline selection {mapped}, "
        f"retrieval (unchanged by this work) {retrieval}; load average {os.getloadavg()[0]:.1f}; "
        f"peak memory {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
