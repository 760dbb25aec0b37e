"""What both provider clients share: retries, timing, usage and parsing of the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from jobforge.llm.base import Availability, LLMError, Message, Usage
from jobforge.llm.retry import AttemptLog, RetryPolicy, TransientError, call_with_retries, retry_after_seconds
from jobforge.llm.structured import StructuredParseError, parse_structured
from jobforge.redaction import register_secret, scrub

T = TypeVar("T", bound=BaseModel)

# Status codes worth another attempt besides 429 and 5xx (the providers' own SDKs retry these too).
RETRYABLE_STATUS = {408, 409}


@dataclass
class RawAnswer:
    """One successful HTTP exchange: the answer text and what it cost."""

    text: str | None
    input_tokens: int
    output_tokens: int
    refusal: str | None = None
    truncated: bool = False  # stopped at the output-token cap


def classify_sdk_error(exc: Exception, sdk: Any) -> Exception:
    """Map an Anthropic/OpenAI SDK exception to TransientError (retry) or LLMError (give up).

    Both SDKs share the exception names used here. Messages are scrubbed of keys (jobforge.redaction).
    """
    if isinstance(exc, sdk.APITimeoutError):
        return TransientError("timeout", "the request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        return TransientError("connection", f"cannot reach the API ({exc.__class__.__name__})")
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        retry_after = retry_after_seconds(dict(exc.response.headers)) if exc.response is not None else None
        if status == 402 or (status in (400, 429) and _is_quota_error(exc)):
            return LLMError("quota", f"the account's quota or credit is exhausted (HTTP {status})")
        if status == 429:
            return TransientError("rate_limited", "rate limited (HTTP 429)", retry_after)
        if status >= 500 or status in RETRYABLE_STATUS:
            return TransientError("server_error", f"server error (HTTP {status})", retry_after)
        if status == 401:
            return LLMError("auth", "the API key was rejected (HTTP 401)")
        if status == 403:
            return LLMError("auth", "the API key is not permitted to use this model or API (HTTP 403)")
        if status == 404:
            return LLMError("model_not_found", f"the model or endpoint was not found (HTTP 404): {_short(exc, 160)}")
        return LLMError("error", f"the request was rejected (HTTP {status}): {_short(exc)}")
    return LLMError("error", f"{exc.__class__.__name__}: {_short(exc)}")


# How the providers name an exhausted quota or credit (OpenAI: 429 "insufficient_quota";
# Anthropic: "billing_error", or a 400/429 saying the credit balance is too low).
QUOTA_MARKERS = ("insufficient_quota", "billing", "credit balance", "exceeded your current quota")


def _is_quota_error(exc: Any) -> bool:
    text = " ".join(str(part) for part in (getattr(exc, "code", ""), getattr(exc, "body", ""), exc)).lower()
    return any(marker in text for marker in QUOTA_MARKERS)


def _short(exc: Exception, limit: int = 300) -> str:
    text = scrub(exc)  # before cutting: a key cut in half would no longer be recognised
    return text if len(text) <= limit else text[:limit] + "…"


class SDKClient:
    """Base of AnthropicClient and OpenAIClient. Subclasses implement ``_attempt`` (one HTTP call)."""

    provider = ""
    key_env = ""

    def __init__(
        self,
        model: str,
        api_key: str | None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        retry_policy: RetryPolicy | None = None,
        max_output_tokens: int = 4096,
        key_source: str = "",
        http_client: Any = None,
    ) -> None:
        self.model = model
        self._api_key = api_key  # kept private: never logged, never stored
        register_secret(api_key)  # and scrubbed from any error text that quotes it
        self.base_url = base_url
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.max_output_tokens = max_output_tokens
        self.key_source = key_source or self.key_env
        # Handed to the SDK as its ``http_client`` (None: the SDK's own). A client of the SDK's HTTP
        # library (httpx2 for anthropic 2.x / openai 3.x), e.g. one with tests' MockTransport.
        self._http_client = http_client
        self._sdk_client: Any = None

    def __repr__(self) -> str:  # no key in reprs, logs or tracebacks
        return f"{self.__class__.__name__}(model={self.model!r}, base_url={self.base_url!r})"

    # -- availability -----------------------------------------------------------------------
    def is_available(self) -> Availability:
        if not self._api_key:
            return Availability(False, f"{self.key_env} is not set")
        return Availability(True, f"{self.provider} {self.model} (key from {self.key_source})")

    @property
    def sdk(self) -> Any:
        """The official SDK client, created on first use (with the SDK's own retries off)."""
        if self._sdk_client is None:
            if not self._api_key:
                raise LLMError("unavailable", f"{self.key_env} is not set")
            self._sdk_client = self._make_sdk_client()
        return self._sdk_client

    def _make_sdk_client(self) -> Any:
        raise NotImplementedError

    def _attempt(self, messages: list[Message], response_format: type[BaseModel]) -> RawAnswer:
        raise NotImplementedError

    # -- the one call everything uses -------------------------------------------------------
    def parse(self, messages: list[Message], response_format: type[T]) -> tuple[T, Usage]:
        log = AttemptLog()
        started = time.monotonic()

        def usage(outcome: str, raw: RawAnswer | None = None) -> Usage:
            return Usage(
                provider=self.provider,
                model=self.model,
                input_tokens=raw.input_tokens if raw else 0,
                output_tokens=raw.output_tokens if raw else 0,
                latency_ms=int((time.monotonic() - started) * 1000),
                outcome=outcome,
                attempts=log.attempts,
                detail=", ".join(log.failures),
            )

        try:
            raw = call_with_retries(lambda: self._attempt(messages, response_format), self.retry_policy, log)
        except TransientError as exc:
            what = "retries exhausted" if log.attempts > 1 else "failed"
            raise LLMError(exc.kind, f"{exc} ({what} after {log.attempts} attempts)", usage(exc.kind)) from exc
        except LLMError as exc:
            exc.usage = exc.usage or usage(exc.kind)
            raise
        return self._parsed(raw, response_format, usage)

    @staticmethod
    def _parsed(raw: RawAnswer, response_format: type[T], usage: Any) -> tuple[T, Usage]:
        if raw.refusal is not None:
            raise LLMError("refused", f"the model refused: {raw.refusal[:200]}", usage("refused", raw))
        try:
            parsed = parse_structured(raw.text, response_format)
        except StructuredParseError as exc:
            cut = " (cut off at the output-token cap)" if raw.truncated else ""
            raise LLMError("malformed", f"malformed answer{cut}: {exc}", usage("malformed", raw)) from exc
        return parsed, usage("ok", raw)

    # -- provider batch APIs (half price; hours not seconds) ----------------------------------
    def _with_retries(self, call: Any) -> Any:
        """A non-model API call (batch create/poll/fetch) with the same retry policy."""
        log = AttemptLog()
        try:
            return call_with_retries(lambda: self._guarded(call), self.retry_policy, log)
        except TransientError as exc:
            raise LLMError(exc.kind, f"{exc} (after {log.attempts} attempts)") from exc

    def submit_batch(self, requests: list[tuple[str, list[Message], type[BaseModel]]]) -> str:
        """Submit (custom id, messages, response format) requests as one provider batch; its id."""
        raise NotImplementedError

    def batch_status(self, batch_id: str) -> str:
        """ "in_progress" | "ended" | "failed" (expired or cancelled)."""
        raise NotImplementedError

    def batch_results(self, batch_id: str, response_format: type[T]) -> dict[str, tuple[T, Usage] | LLMError]:
        """Each request's parsed answer and usage, or the LLMError it ended with, by custom id."""
        raise NotImplementedError

    def _batch_item(
        self, raw: RawAnswer | None, response_format: type[T], error: str = ""
    ) -> tuple[T, Usage] | LLMError:
        def usage(outcome: str, answer: RawAnswer | None = None) -> Usage:
            return Usage(
                provider=self.provider,
                model=self.model,
                input_tokens=answer.input_tokens if answer else 0,
                output_tokens=answer.output_tokens if answer else 0,
                outcome=outcome,
            )

        if raw is None:
            return LLMError("error", error or "the request failed in the batch", usage("error"))
        try:
            return self._parsed(raw, response_format, usage)
        except LLMError as exc:
            return exc

    def _guarded(self, call: Any) -> Any:
        """Run one SDK call, translating its exceptions."""
        try:
            return call()
        except (TransientError, LLMError):
            raise
        except Exception as exc:
            raise classify_sdk_error(exc, self._sdk_module()) from exc

    def _sdk_module(self) -> Any:
        raise NotImplementedError
