"""Making provider clients from settings, and telling the UI which providers can be used."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from jobforge.config import Settings, get_settings
from jobforge.llm.base import Availability, LLMClient, LLMError, Message
from jobforge.llm.client_base import SDKClient
from jobforge.llm.retry import RetryPolicy
from jobforge.redaction import scrub

PROVIDERS = ("anthropic", "openai")


def _client_class(provider: str) -> type[SDKClient]:
    if provider == "anthropic":
        from jobforge.llm.anthropic_client import AnthropicClient

        return AnthropicClient
    if provider == "openai":
        from jobforge.llm.openai_client import OpenAIClient

        return OpenAIClient
    raise ValueError(f"Unknown LLM provider {provider!r}; expected one of {', '.join(PROVIDERS)}")


def _key(provider: str, settings: Settings) -> str | None:
    secret = settings.anthropic_api_key if provider == "anthropic" else settings.openai_api_key
    return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


def make_client(
    provider: str,
    settings: Settings | None = None,
    api_key: str | None = None,
    retry_policy: RetryPolicy | None = None,
    http_client: Any = None,
) -> SDKClient:
    """A client for ``provider`` ("anthropic" | "openai").

    ``api_key`` overrides the environment/settings key (the app passes Streamlit secrets here);
    without either, the client exists but ``is_available()`` says why it cannot be used.
    ``http_client`` is handed to the SDK (its ``http_client`` argument): a client of the SDK's HTTP
    library (``httpx2.Client`` for anthropic 2.x / openai 3.x) with a proxy or a custom transport,
    e.g. tests' ``httpx2.MockTransport``; None uses the SDK's own.
    """
    settings = settings or get_settings()
    cls = _client_class(provider)
    key = api_key or _key(provider, settings)
    source = "the app's secrets" if api_key else cls.key_env
    policy = retry_policy or RetryPolicy(
        max_retries=settings.llm_max_retries,
        base_delay=settings.llm_retry_base_delay,
        max_delay=settings.llm_retry_max_delay,
    )
    extra = {"reasoning_effort": settings.openai_reasoning_effort} if provider == "openai" else {}
    return cls(
        model=settings.anthropic_model if provider == "anthropic" else settings.openai_model,
        api_key=key,
        base_url=settings.anthropic_base_url if provider == "anthropic" else settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        retry_policy=policy,
        max_output_tokens=settings.llm_max_output_tokens,
        key_source=source,
        http_client=http_client,
        **extra,
    )


def available_providers(
    settings: Settings | None = None, api_keys: dict[str, str] | None = None
) -> dict[str, Availability]:
    """Whether each provider has what it needs (a key) — without calling it."""
    api_keys = api_keys or {}
    return {name: make_client(name, settings, api_key=api_keys.get(name)).is_available() for name in PROVIDERS}


class ConnectionCheck(BaseModel):
    ok: bool


def check_connection(
    provider: str, settings: Settings | None = None, api_key: str | None = None, usage: Any = None
) -> Availability:
    """A tiny real call (a few tokens) to prove the key, model and URL work: the "test connection" button.

    ``usage``: a UsageRecorder (purpose "test", say) to record the call's cost, failed or not.
    """
    client = make_client(provider, settings, api_key=api_key, retry_policy=RetryPolicy(max_retries=0))
    availability = client.is_available()
    if not availability.available:
        return availability
    started = time.monotonic()
    messages = [
        Message("system", "You check connectivity. Answer with JSON only."),
        Message("user", 'Reply with {"ok": true}.'),
    ]
    try:
        _answer, spent = client.parse(messages, ConnectionCheck)
    except LLMError as exc:
        if usage is not None and exc.usage is not None:
            usage.record(exc.usage, "connection check")
        return Availability(False, scrub(f"{provider} {client.model}: {exc}"))
    if usage is not None:
        usage.record(spent, "connection check")
    elapsed = int((time.monotonic() - started) * 1000)
    return Availability(True, f"{provider} {client.model} answered in {elapsed} ms ({spent.input_tokens} tokens in)")


__all__ = ["PROVIDERS", "LLMClient", "available_providers", "check_connection", "make_client"]
