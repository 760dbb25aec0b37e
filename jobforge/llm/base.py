"""The provider interface shared by role mapping and attribute imputation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import BaseModel

from jobforge.errors import JobForgeError
from jobforge.redaction import scrub

T = TypeVar("T", bound=BaseModel)


@dataclass
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class Usage:
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    outcome: str = "ok"  # ok | rate_limited | server_error | timeout | malformed | refused | error
    attempts: int = 1  # HTTP attempts this call took (retries included)
    detail: str = ""  # what went wrong on failed attempts, e.g. "rate_limited, server_error"


@dataclass
class Availability:
    available: bool
    reason: str  # why not, or which model/key source is used


class LLMError(JobForgeError, RuntimeError):
    """A call failed after its retries; ``kind`` is the Usage.outcome it was recorded with."""

    def __init__(self, kind: str, message: str, usage: Usage | None = None) -> None:
        super().__init__(scrub(message))  # provider text may quote the request's key
        self.kind = kind
        self.usage = usage


# Failures that concern the whole run, not one role: every further call would fail the same way,
# so a run stops at the first one (roles stay unmapped for a re-run) instead of falling back.
FATAL_KINDS = {"auth", "model_not_found", "quota", "connection", "unavailable"}


class RunAborted(JobForgeError, RuntimeError):
    """A run stopped at a fault that concerns every call (``kind`` in FATAL_KINDS); nothing was
    proposed for the roles not yet done. The message says what to fix."""

    def __init__(self, error: LLMError, provider: str = "", done: str = "") -> None:
        advice = RUN_FAULT_ADVICE.get(error.kind, "")
        text = f"The {provider or 'LLM'} run stopped: {str(error).rstrip('.')}."
        super().__init__(" ".join(part for part in (text, advice, done) if part))
        self.kind = error.kind
        self.error = error


RUN_FAULT_ADVICE = {
    "auth": "Check the API key (Admin page or the provider's key variable) and its permissions.",
    "model_not_found": "Check the model name in the settings.",
    "quota": "The account's quota or credit is used up: add credit or raise the limit.",
    "connection": "Check the base URL and the network.",
    "unavailable": "Set the provider's API key.",
}


def is_fatal(error: BaseException) -> bool:
    """Whether ``error`` is an LLMError that concerns the whole run (see FATAL_KINDS)."""
    return isinstance(error, LLMError) and error.kind in FATAL_KINDS


class LLMClient(Protocol):
    provider: str
    model: str

    def is_available(self) -> Availability: ...

    def parse(self, messages: list[Message], response_format: type[T]) -> tuple[T, Usage]:
        """Send ``messages`` and parse the answer into ``response_format``.

        Raises LLMError (with kind) when the call fails or the answer does not parse.
        """
        ...


class BatchLLMClient(LLMClient, Protocol):
    """A client that can also use its provider's batch API (both SDK clients implement it)."""

    def submit_batch(self, requests: list[tuple[str, list[Message], type[BaseModel]]]) -> str:
        """Submit (custom id, messages, response format) requests as one provider batch; its id."""
        ...

    def batch_status(self, batch_id: str) -> str:
        """ "in_progress" | "ended" | "failed"."""
        ...

    def batch_results(self, batch_id: str, response_format: type[T]) -> dict[str, tuple[T, Usage] | LLMError]:
        """Each request's parsed answer and usage, or the LLMError it ended with, by custom id."""
        ...
