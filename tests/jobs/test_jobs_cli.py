"""`python -m jobforge jobs` lists jobs and cancels one; `worker --once` runs one job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import JobStatus
from jobforge.jobs import queue
from jobforge.jobs.registry import register_handler


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield engine
    get_engine(url).dispose()


def test_list_cancel_and_run_once(store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    register_handler("test-echo", lambda _engine, job, report: {"message": f"echoed {job.params['text']}"})
    with session_factory(store)() as session:
        first = queue.enqueue(session, "test-echo", None, {"text": "hello"}, "alice")
        second = queue.enqueue(session, "test-echo", None, {"text": "bye"}, "alice")

    assert main(["jobs", "--cancel", str(second.id)]) == 0
    assert f"Job {second.id} cancelled." in capsys.readouterr().out
    assert main(["jobs", "--cancel", str(second.id)]) == 1
    assert "already cancelled" in capsys.readouterr().err

    assert main(["worker", "--once"]) == 0
    assert "Ran one job." in capsys.readouterr().err
    with session_factory(store)() as session:
        done = queue.get_job(session, first.id)
        assert (done.status, done.message) == (JobStatus.DONE, "echoed hello")

    assert main(["jobs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split()[:3] == ["id", "kind", "status"]
    rows = {line.split()[0]: line for line in listing[1:]}
    assert "done" in rows[str(first.id)] and "echoed hello" in rows[str(first.id)]
    assert "cancelled" in rows[str(second.id)]
    assert main(["jobs", "--active"]) == 0
    assert capsys.readouterr().out.strip() == "No jobs."
    assert main(["worker", "--once"]) == 0
    assert "No queued job." in capsys.readouterr().err
