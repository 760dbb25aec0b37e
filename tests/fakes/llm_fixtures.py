"""Pytest fixtures for the fake LLM server (registered in tests/conftest.py via pytest_plugins).

- ``fake_llm``: a running :class:`FakeLLMServer` on a free port of 127.0.0.1.
- ``fake_llm_env``: settings pointed at it (both keys set, short timeout, near-zero backoff).
- ``fake_llm_client``: a real SDK client against it, once per provider ([anthropic], [openai]).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm_env(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    from jobforge.config import get_settings

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-anthropic-key")
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai-key")
    monkeypatch.setenv("JOBFORGE_ANTHROPIC_BASE_URL", fake_llm.anthropic_base_url)
    monkeypatch.setenv("JOBFORGE_OPENAI_BASE_URL", fake_llm.openai_base_url)
    monkeypatch.setenv("JOBFORGE_LLM_TIMEOUT", "1.5")
    monkeypatch.setenv("JOBFORGE_LLM_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("JOBFORGE_LLM_RETRY_MAX_DELAY", "0.01")
    monkeypatch.setenv("JOBFORGE_LLM_BATCH_POLL_INTERVAL", "0")
    get_settings.cache_clear()
    return fake_llm


@pytest.fixture(params=["anthropic", "openai"])
def llm_provider(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fake_llm_client(fake_llm_env: FakeLLMServer, llm_provider: str):
    from jobforge.llm.factory import make_client

    return make_client(llm_provider)
