"""Recording every LLM call in ``llm_usage`` and summing it per job."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from jobforge.config import Settings
from jobforge.db.models import LlmUsage
from jobforge.llm.base import Usage
from jobforge.llm.store import Store
from jobforge.llm.tokens import cost_usd

# Calls made through a provider's batch API carry this in their detail (they cost half).
BATCH_API_NOTE = "batch API"


class UsageRecorder:
    """Writes one ``llm_usage`` row per call (retries are counted in its detail).

    ``purpose`` says what the calls were for: "mapping" | "imputation" | "test". Safe to share
    between threads with :class:`~jobforge.llm.store.OwnTransactions`; with
    :class:`~jobforge.llm.store.CallersSession`, record from the thread that owns the session.
    """

    def __init__(self, store: Store, job_id: int | None = None, purpose: str = "mapping") -> None:
        self.store = store
        self.job_id = job_id
        self.purpose = purpose
        self._lock = threading.Lock()
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def record(self, usage: Usage, detail: str | None = None) -> None:
        self.record_many([(usage, detail)])

    def record_many(self, calls: list[tuple[Usage, str | None]]) -> None:
        """Several calls in one transaction (the agent flushes its finished batches together)."""
        if not calls:
            return
        with self._lock, self.store.writing() as session:
            for usage, detail in calls:
                session.add(self._row(usage, detail))
                self.calls += 1
                self.input_tokens += usage.input_tokens
                self.output_tokens += usage.output_tokens

    def _row(self, usage: Usage, detail: str | None) -> LlmUsage:
        notes = [
            f"{usage.attempts} attempts" if usage.attempts > 1 else "",
            f"retried after: {usage.detail}" if usage.detail else "",
            detail or "",
        ]
        return LlmUsage(
            job_id=self.job_id,
            purpose=self.purpose,
            provider=usage.provider,
            model=usage.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            latency_ms=usage.latency_ms,
            outcome=usage.outcome,
            detail="; ".join(n for n in notes if n) or None,
        )


@dataclass
class UsageSummary:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    usd: float = 0.0
    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def failed_calls(self) -> int:
        return sum(count for outcome, count in self.by_outcome.items() if outcome != "ok")


def usage_summary(
    session: Session, job_id: int | None = None, purpose: str | None = None, settings: Settings | None = None
) -> UsageSummary:
    """Calls, tokens, latency and estimated USD (list prices from settings, halved for batch-API
    calls), for one job or overall."""
    via_batch_api = case((LlmUsage.detail.like(f"%{BATCH_API_NOTE}%"), True), else_=False)
    query = select(
        LlmUsage.provider,
        LlmUsage.outcome,
        via_batch_api,
        func.count(),
        func.coalesce(func.sum(LlmUsage.input_tokens), 0),
        func.coalesce(func.sum(LlmUsage.output_tokens), 0),
        func.coalesce(func.sum(LlmUsage.latency_ms), 0),
    ).group_by(LlmUsage.provider, LlmUsage.outcome, via_batch_api)
    if job_id is not None:
        query = query.where(LlmUsage.job_id == job_id)
    if purpose is not None:
        query = query.where(LlmUsage.purpose == purpose)
    summary = UsageSummary()
    for provider, outcome, batch_api, calls, tokens_in, tokens_out, latency in session.execute(query):
        summary.calls += calls
        summary.input_tokens += int(tokens_in)
        summary.output_tokens += int(tokens_out)
        summary.latency_ms += int(latency)
        summary.usd += cost_usd(provider, int(tokens_in), int(tokens_out), settings, batch_api=bool(batch_api))
        summary.by_outcome[outcome] = summary.by_outcome.get(outcome, 0) + calls
    return summary
