"""What the fake LLM vendors share: a model call as the fake understood it, and a provider batch.

Vendor modules (:mod:`fakes.anthropic_api`, :mod:`fakes.openai_api`) turn requests into
:class:`LLMCall` and answers into their API's JSON; :mod:`fakes.llm_server` decides the answers
and faults.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobforge.llm.tokens import estimate_tokens

ROLES_BLOCK = re.compile(r"<roles>\s*(.*?)\s*</roles>", re.DOTALL)


@dataclass
class LLMCall:
    """One model call as the fake understood it."""

    api: str  # "anthropic" | "openai"
    model: str
    system: str
    user: str
    schema: dict[str, Any] | None
    body: dict[str, Any]
    batch: bool = False  # came through a batch API

    @property
    def roles(self) -> list[dict[str, Any]]:
        """The roles of a mapping prompt (empty for other prompts)."""
        match = ROLES_BLOCK.search(self.user)
        if not match:
            return []
        try:
            return json.loads(match.group(1))
        except json.JSONDecodeError:
            return []

    @property
    def prompt_text(self) -> str:
        return self.system + "\n" + self.user


@dataclass
class FakeBatch:
    """A provider batch held by the fake server (either API)."""

    api: str
    id: str
    created: datetime
    items: list[tuple[str, dict[str, Any]]]  # custom id -> request params / body
    polls_left: int
    input_file_id: str | None = None
    output_file_id: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    expired: bool = False  # ended without answers (the provider's 24-hour window passed)


def text_of(content: Any) -> str:
    """The text of a message's content (a string, or a list of text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def input_tokens(call: LLMCall) -> int:
    """Input tokens by the product's own rule (system, user and schema text)."""
    schema = json.dumps(call.schema) if call.schema else ""
    return estimate_tokens(call.system) + estimate_tokens(call.user) + estimate_tokens(schema)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
