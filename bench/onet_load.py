"""How long the full O*NET release takes to load, on SQLite and on Postgres.

    .venv/bin/python bench/onet_load.py                 # both stores, the configured 30.1 zip
    .venv/bin/python bench/onet_load.py --store sqlite  # one store
    .venv/bin/python bench/onet_load.py --zip PATH --repeat 2

Each store is measured in a fresh child process (so its peak memory is its own) against a fresh
store: a new SQLite file in a temporary folder, or a new schema on the Postgres server
(``JOBFORGE_BENCH_POSTGRES_URL``, default the test server), dropped afterwards.
Prints seconds per load (wall clock, the whole ``load_release``: read, check, write, commit), the
Python process's CPU seconds over all loads (a figure less sensitive to a busy machine; Postgres'
own server CPU is not in it) and its peak resident memory in MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def _measure(store: str, zip_path: str, repeat: int) -> dict[str, object]:
    """Runs in the child: a fresh store, ``repeat`` loads of the same version (the first is fresh)."""
    from stores import fresh_store

    from jobforge.onet.loader import load_release

    seconds: list[float] = []
    with fresh_store(store) as engine:
        for _ in range(repeat):
            started = time.perf_counter()
            result = load_release(engine, zip_path)
            seconds.append(round(time.perf_counter() - started, 2))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024  # Linux: KiB
    return {
        "store": store,
        "seconds": seconds,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_mib": round(peak_mib),
        "occupations": result.occupation_count,
        "rows": sum((result.counts or {}).values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--zip", help="release zip or folder (default: the configured O*NET source)")
    parser.add_argument("--repeat", type=int, default=1, help="loads per store; later ones replace the first")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(_measure(args.store, args.zip, args.repeat)))
        return 0

    from jobforge.config import get_settings

    zip_path = args.zip or get_settings().resolved_onet_source()
    if not zip_path:
        print("No O*NET release found: pass --zip or set JOBFORGE_ONET_SOURCE", file=sys.stderr)
        return 1
    print(f"O*NET load benchmark: {zip_path} (cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f})")
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    for store in stores:
        command = [
            sys.executable,
            __file__,
            "--child",
            "--store",
            store,
            "--zip",
            zip_path,
            "--repeat",
            str(args.repeat),
        ]
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(f"{store}: failed\n{child.stderr}", file=sys.stderr)
            return 1
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        runs = ", ".join(f"{s:.1f} s" for s in figures["seconds"])
        print(
            f"{store:9s} load: {runs}; this process's CPU {figures['cpu_seconds']} s in all; "
            f"peak memory {figures['peak_mib']} MiB; "
            f"{figures['occupations']:,} occupations, {figures['rows']:,} rows"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
