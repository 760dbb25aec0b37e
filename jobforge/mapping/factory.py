"""Which selector maps the roles: offline, Claude, OpenAI, or "auto" (an LLM when a key is set).

The LLM and retrieval modules are imported lazily so that the offline path never needs the LLM
SDKs to be importable and a missing provider is reported as a clear message, not a traceback.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from jobforge.config import Settings, get_settings
from jobforge.mapping.selectors import Selector

OFFLINE = "offline"
LLM_PROVIDERS = ("anthropic", "openai")  # "auto" tries them in this order
PROVIDERS = (OFFLINE, *LLM_PROVIDERS, "auto")
CANDIDATES_PER_ROLE = 20


class ProviderUnavailable(RuntimeError):
    """The provider asked for cannot be used (no key, unknown name); the message says why."""


@dataclass(frozen=True)
class ProviderChoice:
    provider: str  # offline | anthropic | openai
    note: str | None = None  # why "auto" chose what it chose, shown to the user

    @property
    def is_llm(self) -> bool:
        return self.provider in LLM_PROVIDERS


def _llm_availability(settings: Settings) -> dict[str, Any]:
    try:
        from jobforge.llm.factory import available_providers
    except ImportError:
        return {}
    return available_providers(settings)


def resolve_provider(provider: str | None, settings: Settings | None = None) -> ProviderChoice:
    """Turn a provider name (or "auto") into the provider that will run, or raise ProviderUnavailable."""
    settings = settings or get_settings()
    name = (provider or settings.provider or "auto").strip().lower()
    if name not in PROVIDERS:
        raise ProviderUnavailable(f"Unknown provider '{provider}': choose one of {', '.join(PROVIDERS)}.")
    if name == OFFLINE:
        return ProviderChoice(OFFLINE)
    availability = _llm_availability(settings)
    if name in LLM_PROVIDERS:
        state = availability.get(name)
        if state is None:
            raise ProviderUnavailable(f"The {name} provider is not installed in this build of JobForge.")
        if not state.available:
            raise ProviderUnavailable(f"The {name} provider cannot be used: {state.reason}")
        return ProviderChoice(name)
    for candidate in LLM_PROVIDERS:
        state = availability.get(candidate)
        if state is not None and state.available:
            return ProviderChoice(candidate, note=f"Using {candidate} ({state.reason}).")
    return ProviderChoice(OFFLINE, note="No ANTHROPIC_API_KEY or OPENAI_API_KEY set: using the offline selector.")


def make_selector(
    provider: str,
    session: Session,
    settings: Settings | None = None,
    usage: Any = None,
    batch_size: int | None = None,
) -> Selector:
    """The selector for ``provider``; ``selector.note`` says why "auto" chose it (or None).

    ``usage`` is a ``jobforge.llm.usage.UsageRecorder`` for LLM providers (ignored offline);
    ``batch_size`` is roles per LLM call (default: the ``llm_batch_size`` setting).
    """
    settings = settings or get_settings()
    choice = resolve_provider(provider, settings)
    if choice.provider == OFFLINE:
        from jobforge.mapping.offline import OfflineSelector
        from jobforge.retrieval.index import get_candidate_index

        selector: Any = OfflineSelector(get_candidate_index(session))
    else:
        from jobforge.llm.factory import make_client
        from jobforge.mapping.agent import RoleMappingAgent
        from jobforge.onet.repository import OnetRepository

        options: dict[str, Any] = {
            "onet_repository": OnetRepository(session),
            "batch_size": batch_size or settings.llm_batch_size,
            "candidates_per_role": CANDIDATES_PER_ROLE,
        }
        accepted = inspect.signature(RoleMappingAgent).parameters
        extras = [("usage", usage), ("settings", settings), ("concurrency", settings.llm_concurrency)]
        if "cache" in accepted:
            from jobforge.llm.cache import ResponseCache

            # Answers are cached in the store: re-running a mapping costs nothing.
            extras.append(("cache", ResponseCache(session.get_bind())))
        # Optional extras the agent may take; passed only when it declares them.
        for name, value in extras:
            if name in accepted and value is not None:
                options[name] = value
        selector = RoleMappingAgent(make_client(choice.provider, settings), **options)
    with contextlib.suppress(AttributeError):  # a selector with __slots__: resolve_provider still has it
        selector.note = choice.note
    return selector
