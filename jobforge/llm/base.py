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
