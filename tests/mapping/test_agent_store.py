"""The agent with the store: cached answers, recorded usage, and the providers' batch APIs.

Runs on SQLite and Postgres (the ``engine`` fixture) with the real SDKs against the fake server.
"""

from __future__ import annotations

import pytest
from agent_helpers import first_code, make_role, make_roles
from fakes.llm_server import FakeLLMServer, rate_limit
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jobforge.db.models import Job, LlmBatch, LlmCache, LlmUsage
from jobforge.llm.cache import ResponseCache
from jobforge.llm.factory import make_client
from jobforge.llm.retry import RetryPolicy
from jobforge.llm.store import CallersSession, OwnTransactions, Store
from jobforge.llm.usage import UsageRecorder, usage_summary
from jobforge.mapping.agent import RoleMappingAgent
from jobforge.mapping.tiers import MappingSource


def _agent(
    provider: str, engine: Engine, job_id: int | None = None, store: Store | None = None, **kwargs
) -> RoleMappingAgent:
    """An agent recording in transactions of its own, or into ``store`` when given."""
    policy = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.002, sleep=lambda _s: None)
    store = store or OwnTransactions(engine)
    return RoleMappingAgent(
        make_client(provider, retry_policy=policy),
        cache=ResponseCache(store),
        usage=UsageRecorder(store, job_id=job_id, purpose="mapping"),
        **kwargs,
    )


def _job(engine: Engine) -> int:
    with Session(engine) as session:
        job = Job(kind="map", params={})
        session.add(job)
        session.commit()
        return job.id


def test_a_second_run_is_answered_from_the_cache(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    roles = make_roles(14)
    first = _agent("anthropic", engine).select(roles)
    calls_after_first = len(fake_llm_env.model_calls())

    second = _agent("anthropic", engine, batch_size=5).select(roles)

    assert calls_after_first == 2
    assert len(fake_llm_env.model_calls()) == calls_after_first  # no new call
    assert [(r.onet_code, r.confidence, r.reasoning) for r in second] == [
        (r.onet_code, r.confidence, r.reasoning) for r in first
    ]
    assert all(r.source == MappingSource.LLM for r in second)


def test_the_cache_misses_when_what_the_model_sees_changes(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    role = make_role(1, job_family="Finance")
    _agent("openai", engine).select([role])

    changed_context = make_role(1, job_family="Legal")
    fewer_candidates = make_role(1, candidates=5, job_family="Finance")
    _agent("openai", engine).select([changed_context, fewer_candidates])
    _agent("anthropic", engine).select([role])  # another provider/model

    assert len(fake_llm_env.model_calls()) == 3


def test_fallbacks_are_not_cached(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    fake_llm_env.fail_next("malformed")
    [failed] = _agent("openai", engine).select([make_role(1)])
    [retried] = _agent("openai", engine).select([make_role(1)])

    assert failed.source == MappingSource.FALLBACK and retried.source == MappingSource.LLM
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(LlmCache)) == 1


def test_every_call_is_recorded_with_tokens_outcome_and_job(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    job_id = _job(engine)
    fake_llm_env.fail_next(rate_limit(retry_after=0))
    _agent("anthropic", engine, job_id=job_id, batch_size=4).select(make_roles(8))
    fake_llm_env.fail_next("refusal")
    _agent("anthropic", engine, job_id=job_id, batch_size=4).select(make_roles(1, start=20))

    with Session(engine) as session:
        rows = session.scalars(select(LlmUsage).order_by(LlmUsage.id)).all()
        summary = usage_summary(session, job_id=job_id)
    assert len(rows) == 3
    assert {r.provider for r in rows} == {"anthropic"} and {r.job_id for r in rows} == {job_id}
    assert all(r.input_tokens > 0 and r.purpose == "mapping" for r in rows)
    assert sorted(r.outcome for r in rows) == ["ok", "ok", "refused"]
    assert any("rate_limited" in (r.detail or "") for r in rows)  # the retry is visible
    assert summary.calls == 3 and summary.failed_calls == 1 and summary.by_outcome["ok"] == 2
    assert summary.input_tokens == sum(r.input_tokens for r in rows) and summary.usd > 0


def test_recording_into_the_callers_session(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    with Session(engine) as session:
        _agent("openai", engine, store=CallersSession(session)).select(make_roles(2))
        session.commit()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(LlmUsage)) == 1
        assert session.scalar(select(func.count()).select_from(LlmCache)) == 2


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_batch_api_creates_polls_and_fetches(engine: Engine, fake_llm_env: FakeLLMServer, provider: str) -> None:
    job_id = _job(engine)
    fake_llm_env.batch_polls_before_done = 2
    roles = make_roles(25)
    slept: list[float] = []

    results = _agent(provider, engine, job_id=job_id).select_with_batch_api(
        roles, OwnTransactions(engine), job_id=job_id, poll_interval=5, sleep=slept.append
    )

    assert [r.onet_code for r in results] == [first_code(r) for r in roles]
    assert all(r.source == MappingSource.LLM for r in results)
    assert fake_llm_env.model_calls(batch=False) == []  # nothing went through direct calls
    assert len(fake_llm_env.model_calls(batch=True)) == 3  # ceil(25 / 12) requests in the batch
    assert slept == [5, 5]
    with Session(engine) as session:
        [batch] = session.scalars(select(LlmBatch)).all()
        usage_rows = session.scalar(select(func.count()).select_from(LlmUsage).where(LlmUsage.job_id == job_id))
    assert batch.status == "ended" and batch.finished_at is not None and batch.job_id == job_id
    assert sorted(batch.request_map) == ["map-1", "map-2", "map-3"]
    assert batch.request_map["map-1"] == [str(n) for n in range(1, 13)]
    assert usage_rows == 3
    with Session(engine) as session:
        summary = usage_summary(session, job_id=job_id)
        rows = session.scalars(select(LlmUsage)).all()
    assert all(r.detail.startswith("batch API") for r in rows)
    from jobforge.llm.tokens import cost_usd

    full_price = cost_usd(provider, summary.input_tokens, summary.output_tokens)
    assert summary.usd == pytest.approx(full_price / 2)  # batch APIs cost half


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_batch_api_resumes_by_batch_id_after_a_restart(
    engine: Engine, fake_llm_env: FakeLLMServer, provider: str
) -> None:
    job_id = _job(engine)
    fake_llm_env.batch_polls_before_done = 3
    roles = make_roles(6)

    # The worker submits, sees the batch running, and "crashes" (returns without results).
    assert (
        _agent(provider, engine, job_id=job_id).select_with_batch_api(
            roles, OwnTransactions(engine), job_id=job_id, wait=False
        )
        is None
    )
    with Session(engine) as session:
        [submitted] = session.scalars(select(LlmBatch)).all()
    assert submitted.status == "in_progress" and submitted.finished_at is None

    # A new process picks the job up: it polls the same batch instead of submitting again.
    results = _agent(provider, engine, job_id=job_id).select_with_batch_api(
        roles, OwnTransactions(engine), job_id=job_id, poll_interval=0, sleep=lambda _s: None
    )

    creates = [r for r in fake_llm_env.requests if r.method == "POST" and r.path.endswith("batches")]
    assert len(creates) == 1
    assert [r.onet_code for r in results] == [first_code(r) for r in roles]
    with Session(engine) as session:
        [finished] = session.scalars(select(LlmBatch)).all()
    assert finished.batch_id == submitted.batch_id and finished.status == "ended"


def test_batch_api_applies_the_same_validation(engine: Engine, fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    roles = make_roles(4)
    fake_llm_env.fail_next("invented_code")

    results = _agent(llm_provider, engine, batch_size=2).select_with_batch_api(
        roles, OwnTransactions(engine), poll_interval=0
    )

    fallbacks = [r for r in results if r.source == MappingSource.FALLBACK]
    assert len(fallbacks) == 1 and fallbacks[0].reasoning.startswith("Fallback match – ")
    assert [r.onet_code for r in results] == [first_code(r) for r in roles]  # fallback = best candidate


def test_a_failed_request_inside_a_batch_falls_back(
    engine: Engine, fake_llm_env: FakeLLMServer, llm_provider: str
) -> None:
    roles = make_roles(4)
    fake_llm_env.fail_next("server_error")

    results = _agent(llm_provider, engine, batch_size=2).select_with_batch_api(
        roles, OwnTransactions(engine), poll_interval=0
    )

    assert [r.source for r in results].count(MappingSource.FALLBACK) == 2
    assert all(r.confidence.value == "LOW" for r in results if r.source == MappingSource.FALLBACK)


def test_answers_are_cached_in_the_onet_store_by_default(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    from jobforge.onet.repository import OnetRepository

    with Session(engine) as session:
        for _run in range(2):
            RoleMappingAgent(make_client("anthropic"), onet_repository=OnetRepository(session)).select(make_roles(3))
        RoleMappingAgent(make_client("anthropic"), onet_repository=OnetRepository(session), cache=False).select(
            make_roles(3)
        )

    assert len(fake_llm_env.model_calls()) == 2  # first run, then the uncached one
