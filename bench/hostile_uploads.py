"""Hostile workbooks against the upload path: each refused in < 2 s, peak memory < 500 MB, the server still up.

1. The reading path the app and `map` use (``open_bounded``: checks before parsing, then a
   memory-bounded process), each file in a fresh Python process: wall time to the refusal, the
   message, and the peak RSS of that process and of its reading child.
2. The real app: ``streamlit run`` on a free port (a temporary SQLite store with the tests' tiny
   O*NET release), each file uploaded through Chromium: time until the page shows the refusal, the
   server's peak RSS (VmHWM) before and after, and whether ``/_stcore/health`` still answers.
3. For contrast, the first file given straight to the XLSX parser (what the app did before).

Usage:
    .venv/bin/python bench/hostile_uploads.py            # all three parts
    .venv/bin/python bench/hostile_uploads.py --no-app   # parts 1 and 3 only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ingest.hostile import HOSTILE  # noqa: E402

TARGET_SECONDS = 2.0
TARGET_MB = 500


def measure_one(path: Path) -> dict[str, object]:
    """In this (fresh) process: open the file as the app does; time, outcome and peak memory."""
    from jobforge.ingest.reader import IngestError
    from jobforge.ingest.sandbox import open_bounded

    data = path.read_bytes()
    start = time.perf_counter()
    try:
        open_bounded(data, "hostile.xlsx")
        outcome = "ACCEPTED"
    except IngestError as exc:
        outcome = exc.message
    seconds = time.perf_counter() - start
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "outcome": outcome}


def reading_path(files: dict[str, Path]) -> None:
    print("\n1. Reading path (open_bounded), one fresh process per file")
    print("| File | size | refused in | peak RSS | message |")
    print("|---|---|---|---|---|")
    for name, path in files.items():
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], capture_output=True, text=True, check=True, cwd=ROOT
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        ok = result["seconds"] < TARGET_SECONDS and result["peak_mb"] < TARGET_MB and result["outcome"] != "ACCEPTED"
        print(
            f"| {name} | {path.stat().st_size / 1024:,.0f} KB | {result['seconds']:.2f} s | {result['peak_mb']:.0f} MB "
            f"| {str(result['outcome'])[:110]}… | {'met' if ok else 'MISSED'}"
        )


def parser_alone(path: Path) -> None:
    print("\n3. The same sparse file given straight to python-calamine (no checks), in a child process")
    code = (
        "import sys, python_calamine as c; book = c.CalamineWorkbook.from_path(sys.argv[1]); "
        "book.get_sheet_by_index(0).to_python()"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)
    last = (done.stderr.strip().splitlines() or [""])[-1]
    print(f"exit {done.returncode} after {time.perf_counter() - start:.2f} s: {last[:120]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def the_app(files: dict[str, Path], folder: Path) -> None:
    from onet_fixture import write_release
    from playwright.sync_api import sync_playwright

    from jobforge.db.engine import make_engine, session_factory
    from jobforge.db.migrate import upgrade
    from jobforge.onet.loader import load_release
    from jobforge.projects import create_project

    url_db = f"sqlite:///{folder / 'store.db'}"
    engine = make_engine(url_db)
    upgrade(engine)
    load_release(engine, write_release(folder))
    with session_factory(engine)() as session:
        project_id = create_project(session, "Hostile", "bench").id
        session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBFORGE_", "ANTHROPIC_", "OPENAI_"))}
    env.update(JOBFORGE_DATABASE_URL=url_db, JOBFORGE_DATA_DIR=str(folder / "data"), JOBFORGE_USER="bench")
    port = _free_port()
    streamlit = str(Path(sys.executable).with_name("streamlit"))
    log = (folder / "streamlit.log").open("w")
    server = subprocess.Popen(
        [streamlit, "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.maxUploadSize", "200"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url) and time.monotonic() < deadline:
            time.sleep(0.5)
        print(f"\n2. The app (streamlit run, pid {server.pid}), uploads through Chromium")
        print("| File | page shows the refusal after | server peak RSS before → after | health after |")
        print("|---|---|---|---|")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(120_000)
            page.goto(f"{url}/upload?project={project_id}")
            page.get_by_role("heading", name="Upload roles").wait_for()
            for name, path in files.items():
                before = _vm_hwm_mb(server.pid)
                page.goto(f"{url}/upload?project={project_id}")
                page.locator('input[type="file"]').wait_for(state="attached")
                start = time.perf_counter()
                page.locator('input[type="file"]').set_input_files(str(path))
                page.get_by_text("cannot be used").wait_for()
                seconds = time.perf_counter() - start
                after = _vm_hwm_mb(server.pid)
                print(
                    f"| {name} | {seconds:.2f} s | {before:.0f} → {after:.0f} MB | "
                    f"{'answers' if _healthy(url) else 'DOWN'} |"
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-app", action="store_true", help="skip the real-app part")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="jobforge_hostile_") as name:
        folder = Path(name)
        files = {}
        for label, make in HOSTILE.items():
            path = folder / f"{len(files)}.xlsx"
            path.write_bytes(make())
            files[label] = path
        reading_path(files)
        if not args.no_app:
            the_app(files, folder)
        parser_alone(files[next(iter(files))])


if __name__ == "__main__":
    main()
