"""Faults that concern the whole run stop it (issue 14 item 2): a rejected key (401), a key without
permission (403), an unknown model (404), an exhausted quota, an unreachable endpoint.

Real SDKs against the fake server, on SQLite and Postgres. The run stops after the first failed
call with a clear message (service, job, CLI), stores no proposal for the roles not done (a re-run
maps them) and records what was spent. Per-role faults keep today's fallback (see test_agent.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fakes.llm_server import FakeLLMServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Job, JobStatus, LlmUsage, Mapping, Project, Role
from jobforge.jobs.queue import enqueue
from jobforge.jobs.worker import Worker
from jobforge.llm.base import RunAborted
from jobforge.mapping.service import map_roles
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

TITLES = ["Staff Accountant", "Software Engineer", "Line Cook", "Truck Driver", "Registered Nurse"]
FAULTS = {
    "auth": ("auth", "API key was rejected (HTTP 401)"),
    "forbidden": ("auth", "not permitted to use this model or API (HTTP 403)"),
    "unknown_model": ("model_not_found", "model or endpoint was not found (HTTP 404)"),
    "quota": ("quota", "quota or credit is exhausted"),
}


def add_project(session: Session, titles: list[str]) -> tuple[int, list[int]]:
    project = create_project(session, "Faults", "tester")
    roles = [Role(project_id=project.id, title=title, title_key=title_key(title)) for title in titles]
    session.add_all(roles)
    session.commit()
    return project.id, [role.id for role in roles]


def mapped_role_ids(engine: Engine) -> set[int]:
    with session_factory(engine)() as session:
        return set(session.scalars(select(Mapping.role_id)))


def usage_outcomes(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(LlmUsage.outcome).order_by(LlmUsage.id)))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_run_wide_fault_stops_the_run_and_a_rerun_maps_the_roles(
    onet_engine: Engine, fake_llm_env: FakeLLMServer, llm_provider: str, fault: str
) -> None:
    kind, words = FAULTS[fault]
    fake_llm_env.fail_when(lambda call: True, fault)
    with session_factory(onet_engine)() as session:
        project_id, role_ids = add_project(session, TITLES)
        with pytest.raises(RunAborted) as caught:
            map_roles(session, project_id, provider=llm_provider, batch_size=1)

    assert caught.value.kind == kind and words in caught.value.message
    assert caught.value.message.startswith(f"The {llm_provider} run stopped:")
    assert mapped_role_ids(onet_engine) == set()  # no fallback stored: the roles are still unmapped
    calls = len(fake_llm_env.model_calls())
    assert 1 <= calls <= get_settings().llm_concurrency  # only the calls already in flight, no retries
    assert usage_outcomes(onet_engine) == [kind] * calls  # what was spent is recorded

    fake_llm_env.reset()
    with session_factory(onet_engine)() as session:
        summary = map_roles(session, project_id, provider=llm_provider, batch_size=2)
    assert summary.mapped == len(TITLES) and summary.by_source == {"llm": len(TITLES)}
    assert mapped_role_ids(onet_engine) == set(role_ids)


def test_a_map_job_fails_with_the_message_and_maps_nothing(onet_engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    fake_llm_env.fail_when(lambda call: True, "auth")
    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, TITLES)
        job = enqueue(session, "map", project_id, {"provider": "openai", "batch_size": 2}, "alice")

    assert Worker(onet_engine, worker_id="test-worker").run_once() is True

    with session_factory(onet_engine)() as session:
        failed = session.get(Job, job.id)
        assert failed.status == JobStatus.FAILED
        assert failed.error.startswith("The openai run stopped: the API key was rejected (HTTP 401).")
        assert "Check the API key" in failed.error
    assert mapped_role_ids(onet_engine) == set()


def test_the_batch_api_run_stops_on_a_revoked_key(
    onet_engine: Engine, fake_llm_env: FakeLLMServer, llm_provider: str
) -> None:
    fake_llm_env.rejected_keys.add(f"test-{llm_provider}-key")  # the batch submission itself is refused
    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, TITLES)
        with pytest.raises(RunAborted) as caught:
            map_roles(session, project_id, provider=llm_provider, batch_api=True)

    assert caught.value.kind == "auth" and "HTTP 401" in caught.value.message
    assert mapped_role_ids(onet_engine) == set()


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI pointed at the test store."""
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_endpoint_stops_the_cli_with_one_error_line(
    store: Engine, fake_llm_env: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("JOBFORGE_OPENAI_BASE_URL", closed_port_url() + "/v1")
    monkeypatch.setenv("JOBFORGE_LLM_MAX_RETRIES", "1")
    get_settings.cache_clear()
    source = tmp_path / "roles.csv"
    pd.DataFrame({"Job Title": TITLES}).to_csv(source, index=False)

    code = main(["map", str(source), "--provider", "openai"])

    err = capsys.readouterr().err
    assert code == 1
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: The openai run stopped: cannot reach the API")
    assert "Check the base URL" in line
    with session_factory(store)() as session:
        project = session.scalar(select(Project).where(Project.name == "roles"))
        role_count = len(list(session.scalars(select(Role.id).where(Role.project_id == project.id))))
    assert role_count == len(TITLES) and mapped_role_ids(store) == set()  # kept for a re-run
