"""The real app in a real browser: ``streamlit run app.py`` on a free port, driven by Playwright + Chromium.

Each journey gets a fresh store with the tiny O*NET release: a SQLite file (jobs run by the app's own
background thread) or a Postgres schema (jobs run by a separate ``python -m jobforge worker`` process,
as a team would deploy it). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("JOBFORGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UPLOAD_LIMIT_MB = 5  # small, so the journey can show a file over it refused by Streamlit itself


@dataclass
class LiveApp:
    url: str
    engine: Engine
    store: str  # "sqlite" | "postgres"
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy in {timeout}s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture
def live_app_env() -> dict[str, str]:
    """Extra environment for the app under test; a test module overrides it (a fake LLM, say)."""
    return {}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tiny_release: Path,
    chromium_path: str,
    live_app_env: dict[str, str],
) -> Iterator[LiveApp]:
    from conftest import _postgres_schema_url

    from jobforge.db.engine import make_engine
    from jobforge.db.migrate import upgrade
    from jobforge.onet.loader import load_release

    urls = iter([f"sqlite:///{tmp_path / 'store.db'}"]) if request.param == "sqlite" else _postgres_schema_url()
    url = next(urls)
    engine = make_engine(url)
    upgrade(engine)
    load_release(engine, tiny_release)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBFORGE_", "ANTHROPIC_", "OPENAI_"))}
    env.update(
        JOBFORGE_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB),  # the uploader's stated limit is Streamlit's real one
        JOBFORGE_DATABASE_URL=url,
        JOBFORGE_DATA_DIR=str(tmp_path / "data"),
        JOBFORGE_PROVIDER="offline",
        PYTHONUNBUFFERED="1",
    )
    env.update(live_app_env)
    port = _free_port()
    log = tmp_path / "streamlit.log"
    streamlit = str(Path(sys.executable).with_name("streamlit"))
    procs: list[subprocess.Popen] = []
    with log.open("w") as out:
        procs.append(
            subprocess.Popen(
                [streamlit, "run", "app.py", "--server.headless", "true", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                 "--client.showErrorDetails", "full", "--server.maxUploadSize", str(UPLOAD_LIMIT_MB)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        if request.param == "postgres":
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "jobforge", "worker", "--poll", "0.5"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        app_url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(app_url, procs[0], log)
            yield LiveApp(app_url, engine, request.param, log)
        finally:
            for proc in procs:
                _stop(proc)
            engine.dispose()
            for _ in urls:  # drops the Postgres schema
                pass
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log, ARTIFACTS / f"{request.param}-streamlit.log")


@pytest.fixture
def browser_page(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
