"""The real SDK clients against the fake server: structured answers, retries, faults, usage.

Tests about the answer itself (structured output, refusal, truncation, the request body) run
without a socket through :class:`fakes.transport.FakeLLMTransport`; HTTP faults keep the server.
"""

from __future__ import annotations

import pytest
from fakes.llm_server import FakeLLMServer, rate_limit, server_error, timeout
from fakes.transport import FakeLLMTransport
from pydantic import BaseModel

from jobforge.llm.base import LLMError, Message
from jobforge.llm.factory import available_providers, check_connection, make_client
from jobforge.llm.retry import RetryPolicy


class Answer(BaseModel):
    colour: str
    count: int
    sure: bool


MESSAGES = [Message("system", "Answer in JSON."), Message("user", "What colour is the sky?")]


def _client_recording_sleeps(provider: str, max_retries: int = 4) -> tuple[object, list[float]]:
    slept: list[float] = []
    policy = RetryPolicy(max_retries=max_retries, base_delay=0.001, max_delay=0.002, sleep=slept.append)
    return make_client(provider, retry_policy=policy), slept


def _socket_free_client(provider: str, fake: FakeLLMTransport) -> object:
    """A real SDK client answered by ``fake`` in process (no retries needed: answer faults are final)."""
    return make_client(provider, api_key="test-key", http_client=fake.http_client())


def test_structured_answer_parses_into_the_model(llm_provider: str) -> None:
    fake = FakeLLMTransport()
    answer, usage = _socket_free_client(llm_provider, fake).parse(MESSAGES, Answer)

    assert answer == Answer(colour="x", count=0, sure=True)
    assert usage.outcome == "ok" and usage.attempts == 1
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    [call] = fake.calls
    assert call.api == llm_provider
    assert call.schema is not None and set(call.schema["properties"]) == {"colour", "count", "sure"}
    assert "What colour is the sky?" in call.user and "Answer in JSON." in call.system


def test_rate_limit_waits_as_long_as_retry_after_says(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    client, slept = _client_recording_sleeps(llm_provider)
    fake_llm_env.fail_next(rate_limit(retry_after=7), rate_limit(retry_after=3))

    _answer, usage = client.parse(MESSAGES, Answer)

    assert len(fake_llm_env.model_calls()) == 3
    assert slept == [7.0, 3.0]
    assert usage.outcome == "ok" and usage.attempts == 3 and usage.detail == "rate_limited, rate_limited"


def test_server_errors_back_off_then_succeed(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    client, slept = _client_recording_sleeps(llm_provider)
    fake_llm_env.fail_next(server_error(500), server_error(503))

    _answer, usage = client.parse(MESSAGES, Answer)

    assert usage.attempts == 3 and len(slept) == 2 and all(0 < s <= 0.002 for s in slept)


def test_exhausted_retries_raise_with_the_kind(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    client, _slept = _client_recording_sleeps(llm_provider, max_retries=2)
    fake_llm_env.fail_next(*[rate_limit(retry_after=1)] * 5)

    with pytest.raises(LLMError) as caught:
        client.parse(MESSAGES, Answer)

    assert caught.value.kind == "rate_limited"
    assert caught.value.usage is not None and caught.value.usage.attempts == 3
    assert len(fake_llm_env.model_calls()) == 3


def test_timeout_is_retried(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    client, _slept = _client_recording_sleeps(llm_provider)
    fake_llm_env.fail_next(timeout(seconds=5))

    _answer, usage = client.parse(MESSAGES, Answer)

    assert usage.attempts == 2 and usage.detail == "timeout"


@pytest.mark.parametrize("fault, kind", [("malformed", "malformed"), ("refusal", "refused")])
def test_bad_answers_are_not_retried(llm_provider: str, fault: str, kind: str) -> None:
    fake = FakeLLMTransport()
    fake.fail_next(fault)

    with pytest.raises(LLMError) as caught:
        _socket_free_client(llm_provider, fake).parse(MESSAGES, Answer)

    assert caught.value.kind == kind and len(fake.calls) == 1


def test_a_rejected_key_is_not_retried(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    client, _slept = _client_recording_sleeps(llm_provider)
    fake_llm_env.fail_next("auth")  # an HTTP fault: through the socket

    with pytest.raises(LLMError) as caught:
        client.parse(MESSAGES, Answer)

    assert caught.value.kind == "auth" and len(fake_llm_env.model_calls()) == 1


def test_availability_follows_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobforge.config import get_settings

    providers = available_providers()
    assert not providers["anthropic"].available and "ANTHROPIC_API_KEY" in providers["anthropic"].reason
    assert not providers["openai"].available

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    get_settings.cache_clear()
    providers = available_providers()
    assert providers["openai"].available and "sk-secret-value" not in providers["openai"].reason
    assert "sk-secret-value" not in repr(make_client("openai"))
    assert available_providers(api_keys={"anthropic": "from-secrets"})["anthropic"].available


def test_check_connection_makes_one_real_call(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    result = check_connection(llm_provider)

    assert result.available and "answered" in result.reason
    assert len(fake_llm_env.model_calls()) == 1


def test_check_connection_reports_a_failure(fake_llm_env: FakeLLMServer, llm_provider: str) -> None:
    fake_llm_env.fail_next("auth")

    result = check_connection(llm_provider)

    assert not result.available and "rejected" in result.reason


def test_check_connection_can_record_its_cost(engine, fake_llm_env: FakeLLMServer) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from jobforge.db.models import LlmUsage
    from jobforge.llm.store import OwnTransactions
    from jobforge.llm.usage import UsageRecorder

    check_connection("openai", usage=UsageRecorder(OwnTransactions(engine), purpose="test"))

    with Session(engine) as session:
        [row] = session.scalars(select(LlmUsage)).all()
    assert row.purpose == "test" and row.provider == "openai" and row.outcome == "ok" and row.input_tokens > 0


def test_an_answer_cut_off_at_the_token_cap_says_so(llm_provider: str) -> None:
    fake = FakeLLMTransport()
    fake.fail_next("truncated")

    with pytest.raises(LLMError) as caught:
        _socket_free_client(llm_provider, fake).parse(MESSAGES, Answer)

    assert caught.value.kind == "malformed" and "cut off" in str(caught.value)


@pytest.mark.parametrize(
    "model, setting, sent",
    [("gpt-5-mini", "auto", "low"), ("o4-mini", "auto", "low"), ("gpt-4.1", "auto", None), ("gpt-5", "high", "high")],
)
def test_openai_reasoning_effort_is_sent_only_to_reasoning_models(
    monkeypatch: pytest.MonkeyPatch, model: str, setting: str, sent: str | None
) -> None:
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_OPENAI_MODEL", model)
    monkeypatch.setenv("JOBFORGE_OPENAI_REASONING_EFFORT", setting)
    get_settings.cache_clear()

    fake = FakeLLMTransport()
    _socket_free_client("openai", fake).parse(MESSAGES, Answer)

    body = fake.calls[0].body
    assert body.get("reasoning_effort") == sent and body["model"] == model
