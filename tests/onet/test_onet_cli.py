"""`python -m jobforge setup` and `onet load | sync | status | activate`, on SQLite and Postgres.

The CLI works on the configured store, so each test points JOBFORGE_DATABASE_URL at the fresh
store of the ``engine`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from onet_fixture import write_release
from onet_helpers import send_bytes, serve, store_state
from sqlalchemy import Engine

from jobforge.cli import main
from jobforge.config import PROJECT_ROOT, get_settings

TINY_COUNTS = "8 occupations, 19 alternate titles, 6 reported titles, 10 tasks, 7 job zones"


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The CLI's configured store is the test's fresh store."""
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return engine


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_setup_loads_the_configured_release_once(
    configured: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOBFORGE_ONET_SOURCE", str(write_release(tmp_path)))
    get_settings.cache_clear()

    code, out, _ = _run(capsys, "setup")
    assert code == 0
    assert "Store ready (migrated):" in out
    assert "No O*NET release in the store yet; loading the default one." in out
    assert f"O*NET 29_9 active: {TINY_COUNTS}" in out

    code, out, _ = _run(capsys, "setup")
    assert code == 0
    assert "O*NET 29_9 is active (8 occupations); not loading." in out
    assert store_state(configured).releases == {"29_9": (8, 19, 10)}


def test_load_status_and_activate(configured: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "onet", "load", str(write_release(tmp_path)))
    assert code == 0 and f"O*NET 29_9 active: {TINY_COUNTS}" in out

    (tmp_path / "b").mkdir()
    newer = write_release(tmp_path / "b", version="29_9", as_zip=False)
    code, out, _ = _run(capsys, "onet", "load", str(newer), "--version", "30_0", "--no-activate")
    assert code == 0 and "O*NET 30_0 loaded, not active" in out
    assert store_state(configured).active == "29_9"

    code, out, _ = _run(capsys, "onet", "activate", "30_0")
    assert code == 0 and out.strip() == "O*NET 30_0 is now the active release (8 occupations)."

    code, out, _ = _run(capsys, "onet", "status")
    assert code == 0
    assert "Active O*NET release: 30_0" in out
    assert TINY_COUNTS in out
    assert "Releases in the store:" in out and "Last loads and syncs:" in out
    release_rows = [line.split() for line in out.splitlines() if line.strip().startswith(("30_0", "29_9"))]
    assert release_rows[0][:3] == ["30_0", "yes", "8"]
    assert release_rows[1][:2] == ["29_9", "8"]  # not active: that column is empty


def test_sync_downloads_with_a_progress_bar(
    configured: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_release(tmp_path, version="30_0").read_bytes()
    with serve({"/database/db_30_0_text.zip": send_bytes(data)}) as base:
        monkeypatch.setenv("JOBFORGE_ONET_DOWNLOAD_URL", base + "/database/db_{version}_text.zip")
        monkeypatch.setenv("JOBFORGE_DATA_DIR", str(tmp_path / "data"))
        get_settings.cache_clear()
        code, out, err = _run(capsys, "onet", "sync", "--version", "30_0")
    assert code == 0
    assert f"Downloading {base}/database/db_30_0_text.zip" in out
    assert f"O*NET 30_0 active: {TINY_COUNTS}" in out
    assert "100%" in err  # tqdm's bar on stderr

    code, out, _ = _run(capsys, "onet", "status")
    assert "success  " in out and f"{base}/database/db_30_0_text.zip" in out


def test_failures_are_one_line_with_a_non_zero_exit(
    configured: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "onet", "load", str(tmp_path / "nowhere.zip"))
    assert code == 1
    assert "O*NET release not found" in _one_error_line(err)

    code, _, err = _run(capsys, "onet", "load", str(write_release(tmp_path)), "--version", "thirty point one")
    assert code == 1
    assert "'thirty point one' cannot be a release version" in _one_error_line(err)

    code, _, err = _run(capsys, "onet", "activate", "31_0")
    assert code == 1
    assert _one_error_line(err) == "error: O*NET release 31_0 is not in the store (loaded: none)"

    with serve({}) as base:
        monkeypatch.setenv("JOBFORGE_ONET_DOWNLOAD_URL", base + "/db_{version}_text.zip")
        get_settings.cache_clear()
        code, _, err = _run(capsys, "onet", "sync", "--version", "30_0")
    assert code == 1
    assert "(HTTP 404)" in _one_error_line(err)

    code, out, _ = _run(capsys, "onet", "status")
    assert "Active O*NET release: none." in out
    assert out.count("failed") == 2  # the load and the sync (activate changes nothing, so is not logged)


def test_an_unreachable_store_exits_1_with_one_line() -> None:
    env = {**os.environ, "JOBFORGE_DATABASE_URL": "postgresql://me:hidden@127.0.0.1:1/nothing"}
    done = subprocess.run(
        [sys.executable, "-m", "jobforge", "onet", "status"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    line = _one_error_line(done.stderr)
    assert line.startswith("error: Cannot reach the store at postgresql+psycopg://me:***@127.0.0.1:1/nothing")
    assert "hidden" not in line
