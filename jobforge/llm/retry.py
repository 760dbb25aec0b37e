"""Our own retry loop: exponential backoff with jitter, honouring Retry-After.

The SDKs' built-in retries are switched off (``max_retries=0``) so that every attempt is ours to
count, record and bound.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

R = TypeVar("R")

# Never wait longer than this for one Retry-After, whatever the server says.
MAX_RETRY_AFTER_SECONDS = 300.0


class TransientError(Exception):
    """One attempt failed in a way worth retrying (429, 5xx, timeout, connection)."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_SECONDS)
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        # "Equal jitter": half fixed, half random, so concurrent callers spread out.
        return backoff / 2 + backoff / 2 * self.jitter()


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After (seconds or HTTP date) or retry-after-ms, if the response carried one."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return float(lowered["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass
class AttemptLog:
    attempts: int = 0
    failures: list[str] = field(default_factory=list)


def call_with_retries(attempt: Callable[[], R], policy: RetryPolicy, log: AttemptLog) -> R:
    """Run ``attempt`` until it succeeds, raises a non-transient error, or retries run out.

    Re-raises the last TransientError when the budget is exhausted.
    """
    while True:
        log.attempts += 1
        try:
            return attempt()
        except TransientError as exc:
            log.failures.append(exc.kind)
            if log.attempts > policy.max_retries:
                raise
            policy.sleep(policy.delay(log.attempts, exc.retry_after))
