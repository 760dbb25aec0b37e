"""Token and cost estimates without a tokenizer.

No provider tokenizer can be downloaded here, so tokens are approximated as one token per
3.5 characters (rounded up). For English prose and compact JSON this slightly over-counts
compared with both providers' tokenizers, which is the safe side for a cost estimate. The fake
LLM server in the tests reports usage with the same rule, so the benchmark measures this rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jobforge.config import Settings, get_settings

CHARS_PER_TOKEN = 3.5
# Providers' batch APIs (Anthropic Message Batches, OpenAI Batch) cost half the normal price.
BATCH_API_DISCOUNT = 0.5


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text or "") / CHARS_PER_TOKEN)


@dataclass
class CostEstimate:
    """What an LLM run would cost, shown before it starts (mapping and imputation alike)."""

    calls: int
    input_tokens: int
    output_tokens: int
    usd: float
    roles: int = 0  # roles that would go to the LLM
    provider: str = ""
    note: str | None = None
    reading_roles: int = 0  # roles the model would read first (mapping; included in calls and tokens)


def prices(provider: str, settings: Settings | None = None) -> tuple[float, float]:
    """USD per million (input, output) tokens for ``provider``; (0, 0) for offline."""
    settings = settings or get_settings()
    if provider == "anthropic":
        return settings.anthropic_price_in, settings.anthropic_price_out
    if provider == "openai":
        return settings.openai_price_in, settings.openai_price_out
    return 0.0, 0.0


def cost_usd(
    provider: str, input_tokens: int, output_tokens: int, settings: Settings | None = None, batch_api: bool = False
) -> float:
    price_in, price_out = prices(provider, settings)
    usd = (input_tokens * price_in + output_tokens * price_out) / 1_000_000
    return usd * BATCH_API_DISCOUNT if batch_api else usd
