"""`python -m jobforge impute PROJECT` and the "impute" job handler, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import dispose_engines, session_factory
from jobforge.db.models import Job, SourceType
from jobforge.imputation.jobs import handle_impute_job
from tests.factories import CONFIRMED, RoleSpec, build_project, cells

ROLES = [
    RoleSpec("Nurse A", "Nursing", source={"Shift Pattern": "Days"}, mapping=("29-1141.00", CONFIRMED)),
    RoleSpec("Nurse B", "Nursing", source={"Shift Pattern": "Days"}),
    RoleSpec("ICU Nurse", "Nursing", mapping=("29-1141.01", CONFIRMED)),
    RoleSpec("Cook", "Kitchen"),
]


@pytest.fixture
def store_env(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's settings point at the test store."""
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", onet_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield onet_engine
    dispose_engines()


def test_cli_imputes_a_project_and_prints_a_summary_by_source(
    store_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    project_id, ids = build_project(store_env, ["Education", "Shift Pattern"], ROLES, name="Acme Health")

    assert main(["impute", "acme health", "--no-llm"]) == 0

    out = capsys.readouterr().out
    assert "4 roles x 2 attributes = 8 cells" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line and line.split()[0].isupper()}
    assert lines["SOURCE"][0] == "2"
    assert lines["HIERARCHY"][0] == "1"  # ICU Nurse's shift, from the nursing family
    assert lines["ONET"][0] == "2"  # the two mapped nurses' education
    assert lines["EMPTY"][0] == "3"  # Nurse B's education (unmapped) and the cook's two cells
    icu = cells(store_env, ids["ICU Nurse"])
    assert icu["Education"].source_type == SourceType.ONET and icu["Education"].donor == "29-1141.00"

    # By id works too; the LLM step without a provider is skipped with a note.
    assert main(["impute", str(project_id), "--provider", "auto"]) == 0
    assert "LLM step skipped" in capsys.readouterr().out


def test_cli_rejects_an_unknown_project_and_bad_steps(store_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["impute", "Nope"]) == 1
    assert "No project named 'Nope'" in capsys.readouterr().err
    build_project(store_env, ["Education"], ROLES, name="Acme")
    assert main(["impute", "Acme", "--steps", "onet,magic"]) == 1
    assert "--steps" in capsys.readouterr().err
    # A provider asked for by name must be usable: nothing runs otherwise.
    assert main(["impute", "Acme", "--provider", "openai"]) == 1
    assert "The openai provider cannot be used: OPENAI_API_KEY is not set" in capsys.readouterr().err


def test_impute_job_reports_progress_and_returns_the_summary(onet_engine: Engine) -> None:
    project_id, ids = build_project(onet_engine, ["Education", "Shift Pattern"], ROLES)
    with session_factory(onet_engine)() as session:
        job = Job(kind="impute", project_id=project_id, params={"steps": ["hierarchy", "onet"], "batch_size": 3})
        session.add(job)
        session.commit()
    reports: list[tuple[int, int, str]] = []

    result = handle_impute_job(onet_engine, job, lambda done, total, message: reports.append((done, total, message)))

    assert [(done, total) for done, total, _ in reports] == [(0, 4), (3, 4), (4, 4)]
    assert result["counts"][SourceType.ONET] == 2 and result["counts"]["EMPTY"] == 3
    # Idempotent: running it again (a restarted job) changes nothing, not even the rows' times.
    stamp = cells(onet_engine, ids["ICU Nurse"])["Education"].updated_at
    again = handle_impute_job(onet_engine, job, lambda *_: None)
    assert again["counts"] == result["counts"] and again["written"] == {}
    assert cells(onet_engine, ids["ICU Nurse"])["Education"].updated_at == stamp
    assert cells(onet_engine, ids["ICU Nurse"])["Shift Pattern"].source_type == SourceType.HIERARCHY


def test_impute_handler_is_registered_with_the_jobs_area() -> None:
    registry = pytest.importorskip("jobforge.jobs.registry")
    assert registry.get_handler("impute") is handle_impute_job


def test_a_worker_runs_a_queued_impute_job(onet_engine: Engine) -> None:
    from jobforge.db.models import JobStatus
    from jobforge.jobs.queue import enqueue
    from jobforge.jobs.worker import Worker

    project_id, ids = build_project(onet_engine, ["Education", "Shift Pattern"], ROLES)
    with session_factory(onet_engine)() as session:
        job = enqueue(session, "impute", project_id, {"provider": "offline"}, "ana")

    assert Worker(onet_engine).run_once()

    with session_factory(onet_engine)() as session:
        done = session.get(Job, job.id)
        assert done.status == JobStatus.DONE, done.error
        assert (done.progress_done, done.progress_total) == (4, 4)
        assert done.result["counts"][SourceType.HIERARCHY] == 1
        assert "LLM step skipped: the provider is set to offline." in done.result["notes"]
        assert done.message.startswith("4 roles × 2 attributes: filled ") and "HIERARCHY" in done.message
    assert cells(onet_engine, ids["ICU Nurse"])["Education"].donor == "29-1141.00"
