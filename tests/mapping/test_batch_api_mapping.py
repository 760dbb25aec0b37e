"""Mapping through the providers' batch APIs: the service, the "map" job and `map --batch-api`.

Real SDKs against the fake server, on SQLite and Postgres (the ``onet_engine`` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fakes.llm_server import FakeLLMServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Job, LlmBatch, Mapping, MappingStatus, Project, Role
from jobforge.jobs.map_job import run_map_job
from jobforge.jobs.queue import enqueue
from jobforge.mapping.factory import ProviderUnavailable
from jobforge.mapping.service import WAITING_FOR_BATCH, estimate_cost, map_roles
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

TITLES = ["Staff Accountant", "Software Engineer", "Line Cook", "Truck Driver", "Registered Nurse"]


class Interrupted(Exception):
    """Stands for a worker that dies while the provider batch runs."""


def add_project(session: Session, name: str, titles: list[str]) -> tuple[int, dict[str, int]]:
    project = create_project(session, name, "tester")
    roles = [Role(project_id=project.id, title=title, title_key=title_key(title)) for title in titles]
    session.add_all(roles)
    session.commit()
    return project.id, {role.title: role.id for role in roles}


def stored(engine: Engine, role_ids: dict[str, int]) -> dict[str, Mapping]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(Mapping).where(Mapping.role_id.in_(role_ids.values())))
        by_role = {m.role_id: m for m in rows}
    return {title: by_role[role_id] for title, role_id in role_ids.items() if role_id in by_role}


def batches(engine: Engine) -> list[LlmBatch]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(LlmBatch).order_by(LlmBatch.id)))


def batch_creates(server: FakeLLMServer) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path.endswith("batches"))


def test_the_service_maps_through_the_batch_api_and_keeps_analyst_decisions(
    onet_engine: Engine, fake_llm_env: FakeLLMServer, llm_provider: str
) -> None:
    fake_llm_env.batch_polls_before_done = 2
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Batch", TITLES)
        confirmed_at = datetime.now(UTC)
        session.add(
            Mapping(
                role_id=ids["Registered Nurse"],
                onet_code="29-1141.00",
                tier="HIGH",
                score=0.95,
                source="analyst",
                status=MappingStatus.CONFIRMED,
                confirmed_by="alice",
                confirmed_at=confirmed_at,
            )
        )
        session.commit()
        reports: list[tuple[int, int, str]] = []

        summary = map_roles(
            session,
            project_id,
            provider=llm_provider,
            scope="all",
            batch_size=2,
            batch_api=True,
            progress=lambda *report: reports.append(report),
        )

    mapped = stored(onet_engine, ids)
    assert summary.mapped == 4 and summary.by_source == {"llm": 4}
    assert {title: m.source for title, m in mapped.items() if title != "Registered Nurse"} == dict.fromkeys(
        TITLES[:4], "llm"
    )
    nurse = mapped["Registered Nurse"]
    assert (nurse.status, nurse.onet_code, nurse.source) == (MappingStatus.CONFIRMED, "29-1141.00", "analyst")
    assert fake_llm_env.model_calls(batch=False) == []  # nothing went through direct calls
    assert len(fake_llm_env.model_calls(batch=True)) == 2  # ceil(4 roles / 2 per request)
    [batch] = batches(onet_engine)
    assert batch.provider == llm_provider and batch.status == "ended" and batch.finished_at is not None
    assert sorted(int(r) for role_ids in batch.request_map.values() for r in role_ids) == sorted(
        ids[t] for t in TITLES[:4]
    )
    waiting = [message for _, _, message in reports if message.startswith(WAITING_FOR_BATCH)]
    assert waiting and all(batch.batch_id in message for message in waiting)
    assert reports[-1][:2] == (4, 4)


def test_an_interrupted_job_resumes_polling_the_same_batch(onet_engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    fake_llm_env.batch_polls_before_done = 3  # the batch is still running when the worker dies
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Resume batch", TITLES)
        job_id = enqueue(session, "map", project_id, {"provider": "openai", "batch_api": True}, "tester").id

    def dies_while_waiting(done: int, total: int, message: str) -> None:
        if message.startswith(WAITING_FOR_BATCH):
            raise Interrupted(message)

    with session_factory(onet_engine)() as session, pytest.raises(Interrupted):
        run_map_job(onet_engine, session.get(Job, job_id), dies_while_waiting)

    [submitted] = batches(onet_engine)
    assert submitted.status == "in_progress" and submitted.job_id == job_id
    assert stored(onet_engine, ids) == {}
    with session_factory(onet_engine)() as session:
        job = session.get(Job, job_id)
        assert job.message.startswith(WAITING_FOR_BATCH) and submitted.batch_id in job.message

    reports: list[str] = []
    with session_factory(onet_engine)() as session:
        result = run_map_job(onet_engine, session.get(Job, job_id), lambda _d, _t, message: reports.append(message))

    assert batch_creates(fake_llm_env) == 1  # polled the same batch, never submitted again
    [finished] = batches(onet_engine)
    assert finished.batch_id == submitted.batch_id and finished.status == "ended"
    assert {m.source for m in stored(onet_engine, ids).values()} == {"llm"} and len(stored(onet_engine, ids)) == 5
    assert result["mapped"] == 5 and "batch API" in result["message"]
    assert any(submitted.batch_id in message for message in reports)
    assert fake_llm_env.model_calls(batch=False) == []


def test_the_batch_api_needs_an_llm_provider(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Offline batch", ["Line Cook"])
        with pytest.raises(ProviderUnavailable, match="batch API needs an LLM provider"):
            map_roles(session, project_id, provider="offline", batch_api=True)
        with pytest.raises(ProviderUnavailable, match="No ANTHROPIC_API_KEY or OPENAI_API_KEY"):
            map_roles(session, project_id, provider="auto", batch_api=True)  # auto resolves to offline here
    assert stored(onet_engine, ids) == {}


def test_the_batch_api_estimate_is_half_price(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, "Estimate batch", [f"Analyst {n}" for n in range(25)])
        direct = estimate_cost(session, project_id, "anthropic")
        via_batch = estimate_cost(session, project_id, "anthropic", batch_api=True)
    assert (via_batch.calls, via_batch.input_tokens) == (direct.calls, direct.input_tokens)
    assert via_batch.usd == pytest.approx(direct.usd / 2, abs=1e-4)


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI pointed at the test store."""
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def roles_file(tmp_path: Path) -> Path:
    source = tmp_path / "roles.csv"
    pd.DataFrame({"Job Title": [*TITLES, "Line Cook"]}).to_csv(source, index=False)
    return source


def test_map_with_batch_api(
    store: Engine, fake_llm_env: FakeLLMServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["map", str(roles_file(tmp_path)), "--provider", "anthropic", "--batch-api", "--batch-size", "3"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    [batch] = batches(store)
    assert captured.err.count(f"{WAITING_FOR_BATCH} {batch.batch_id}") == 1
    with session_factory(store)() as session:
        sources = session.execute(
            select(Role.title, Mapping.source).join(Mapping).join(Project).where(Project.name == "roles")
        ).all()
    assert sorted(sources) == sorted((title, "llm") for title in TITLES)
    assert batch.status == "ended" and sum(len(role_ids) for role_ids in batch.request_map.values()) == 5
    assert len(fake_llm_env.model_calls(batch=True)) == 2 and fake_llm_env.model_calls(batch=False) == []
    assert batch_creates(fake_llm_env) == 1


def test_map_with_batch_api_offline_is_a_clear_error(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = roles_file(tmp_path)
    assert main(["map", str(source), "--provider", "offline", "--batch-api"]) == 1
    assert capsys.readouterr().err.startswith("error: --batch-api needs an LLM provider (anthropic or openai)")
    assert main(["map", str(source), "--batch-api"]) == 1  # "auto" without a key is offline
    assert "No ANTHROPIC_API_KEY or OPENAI_API_KEY set" in capsys.readouterr().err
    with session_factory(store)() as session:
        assert session.scalar(select(Project).where(Project.name == "roles")) is None  # nothing was stored


def test_batch_api_is_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["map", "--help"])
    assert "--batch-api" in capsys.readouterr().out
