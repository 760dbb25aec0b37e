"""The CSV export's writer and formula neutralising on a 20,000 x 30 frame of text (no store).

Compares :func:`jobforge.export.writers.csv_string` (quotes CR too) with the pandas writer it
replaced, and times :func:`neutralise_frame` (every line of a cell checked). CPU seconds, best of 3.

Usage: .venv/bin/python bench/csv_export.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from jobforge.export.writers import csv_string, neutralise_frame

ROWS, COLUMNS = 20_000, 30


def best_of_3(call) -> float:
    times = []
    for _ in range(3):
        started = time.process_time()
        call()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    frame = pd.DataFrame({f"c{i}": [f"value {j} of column {i}" for j in range(ROWS)] for i in range(COLUMNS)})
    frame.iloc[::50, 1] = "=2+3"  # some cells to neutralise, some with line breaks
    frame.iloc[::70, 2] = "x\r=cmd"
    frame.iloc[::90, 3] = "two\nlines, one\n-1"
    safe = neutralise_frame(frame)
    assert csv_string(safe) != safe.to_csv(index=False, lineterminator="\n")  # the bare CR: quoted only by ours
    print(f"{ROWS:,} rows x {COLUMNS} text columns, CPU s (best of 3)")
    print(f"neutralise_frame: {best_of_3(lambda: neutralise_frame(frame)):.2f}")
    print(f"csv_string (ours): {best_of_3(lambda: csv_string(safe)):.2f}")
    print(f"pandas to_csv (before): {best_of_3(lambda: safe.to_csv(index=False, lineterminator=chr(10))):.2f}")


if __name__ == "__main__":
    main()
