"""Admin "Test connection" against a provider whose error repeats the request headers: no key shown."""

from __future__ import annotations

import pytest
from fakes.llm_server import FakeLLMServer, echo_headers

from jobforge.config import get_settings
from tests.ui.conftest import texts

KEY = "sk-ant-api03-AdminPageKeyThatMustNeverShow0123"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_test_connection_shows_the_failure_without_the_key(
    open_app, ui_engine, fake_llm_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv(f"{provider.upper()}_API_KEY", KEY)
    get_settings.cache_clear()
    fake_llm_env.fail_when(lambda call: True, echo_headers(400))
    at = open_app("admin")
    at.button(key=f"test_{provider}").click().run()
    shown = [e.value for e in at.error]
    assert any("HTTP 400" in message and "[redacted]" in message for message in shown), texts(at)
    assert KEY[:12] not in texts(at) and all(KEY[:12] not in message for message in shown)
    assert any(KEY in value for request in fake_llm_env.requests for value in request.headers.values())
