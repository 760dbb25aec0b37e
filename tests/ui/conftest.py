"""AppTest harness: the real app.py against a fresh store (SQLite, then Postgres) with the tiny O*NET release.

The app reads its store from JOBFORGE_DATABASE_URL like any deployment. Jobs are run by the test
itself with a real ``Worker`` (``run_jobs``) instead of the app's background thread, so every step is
deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
USER = "Ana Analyst"


def store_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def ui_engine(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The store the app under test uses (tiny release loaded), with a known local user."""
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_DATABASE_URL", store_url(onet_engine))
    monkeypatch.setenv("JOBFORGE_USER", USER)
    monkeypatch.setenv("JOBFORGE_APP_WORKER", "false")
    get_settings.cache_clear()
    return onet_engine


@pytest.fixture
def open_app(ui_engine: Engine) -> Callable[..., AppTest]:
    """``open_app(page, project_id=None)``: a fresh AppTest on ``pages/<page>.py`` that has run once."""

    def _open(page: str | None = None, project_id: int | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        if project_id is not None:
            at.session_state["project_id"] = project_id
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open


def run_jobs(engine: Engine) -> int:
    """Run every queued job with a real worker; returns how many ran."""
    from jobforge.jobs.worker import Worker

    worker = Worker(engine)
    ran = 0
    while worker.run_once():
        ran += 1
    return ran


def texts(at: AppTest) -> str:
    """Everything a user reads on the page (markdown, captions, alerts, metrics), for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [str(t.value) for t in at.toast]
    return "\n".join(parts)


@pytest.fixture
def mapped_project(ui_engine: Engine) -> int:
    """A project with the sample roles uploaded (Education as an attribute column) and mapped offline."""
    from jobforge.db.engine import session_factory
    from jobforge.ingest.uploads import create_upload
    from jobforge.mapping.service import map_roles
    from jobforge.projects import create_project
    from tests.ui.sheets import ROLES_CSV

    with session_factory(ui_engine)() as s:
        project = create_project(s, "Acme", USER)
        s.commit()
        create_upload(
            s,
            project.id,
            "roles.csv",
            ROLES_CSV.encode(),
            None,
            "Job Title",
            {"job_family": "Job Family", "department": "Department"},
            ["Education"],
            USER,
        )
        map_roles(s, project.id, provider="offline")
        s.commit()
        return project.id
