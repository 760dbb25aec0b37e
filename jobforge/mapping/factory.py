"""Which selector maps the roles: offline, Claude, OpenAI, or "auto" (an LLM when a key is set).

A provider that cannot be used (no key, unknown name) is reported as ``ProviderUnavailable`` with
a message for the user, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from jobforge.config import Settings, get_settings
from jobforge.errors import JobForgeError
from jobforge.llm.cache import ResponseCache
from jobforge.llm.factory import available_providers, make_client
from jobforge.llm.store import OwnTransactions
from jobforge.llm.usage import UsageRecorder
from jobforge.mapping.agent import RoleMappingAgent
from jobforge.mapping.offline import OfflineSelector
from jobforge.mapping.selectors import Selector
from jobforge.onet.repository import OnetRepository, require_active_release
from jobforge.retrieval.index import get_candidate_index

OFFLINE = "offline"
LLM_PROVIDERS = ("anthropic", "openai")  # "auto" tries them in this order
PROVIDERS = (OFFLINE, *LLM_PROVIDERS, "auto")
CANDIDATES_PER_ROLE = 20


class ProviderUnavailable(JobForgeError, RuntimeError):
    """The provider asked for cannot be used (no key, unknown name); the message says why."""


@dataclass(frozen=True)
class ProviderChoice:
    provider: str  # offline | anthropic | openai
    note: str | None = None  # why "auto" chose what it chose, shown to the user

    @property
    def is_llm(self) -> bool:
        return self.provider in LLM_PROVIDERS


def resolve_provider(provider: str | None, settings: Settings | None = None) -> ProviderChoice:
    """Turn a provider name (or "auto") into the provider that will run, or raise ProviderUnavailable."""
    settings = settings or get_settings()
    name = (provider or settings.provider or "auto").strip().lower()
    if name not in PROVIDERS:
        raise ProviderUnavailable(f"Unknown provider '{provider}': choose one of {', '.join(PROVIDERS)}.")
    if name == OFFLINE:
        return ProviderChoice(OFFLINE)
    availability = available_providers(settings)
    if name in LLM_PROVIDERS:
        state = availability[name]
        if not state.available:
            raise ProviderUnavailable(f"The {name} provider cannot be used: {state.reason}")
        return ProviderChoice(name)
    for candidate in LLM_PROVIDERS:
        state = availability[candidate]
        if state.available:
            return ProviderChoice(candidate, note=f"Using {candidate} ({state.reason}).")
    return ProviderChoice(OFFLINE, note="No ANTHROPIC_API_KEY or OPENAI_API_KEY set: using the offline selector.")


def make_selector(
    provider: str,
    session: Session,
    settings: Settings | None = None,
    usage: UsageRecorder | None = None,
    batch_size: int | None = None,
) -> Selector:
    """The selector for ``provider``; ``selector.note`` says why "auto" chose it (or None).

    ``usage`` is a ``jobforge.llm.usage.UsageRecorder`` for LLM providers (ignored offline);
    ``batch_size`` is roles per LLM call (default: the ``llm_batch_size`` setting).
    """
    settings = settings or get_settings()
    choice = resolve_provider(provider, settings)
    if choice.provider == OFFLINE:
        release = require_active_release(session)
        selector: Selector = OfflineSelector(get_candidate_index(session), release_version=release.version)
    else:
        selector = RoleMappingAgent(
            make_client(choice.provider, settings),
            onet_repository=OnetRepository(session),
            batch_size=batch_size or settings.llm_batch_size,
            candidates_per_role=CANDIDATES_PER_ROLE,
            concurrency=settings.llm_concurrency,
            # Answers are cached in the store: re-running a mapping costs nothing.
            cache=ResponseCache(OwnTransactions(session.get_bind())),
            usage=usage,
            settings=settings,
            # Readings are searched in the same candidate index as the roles' own titles.
            reading_search=lambda text, k: get_candidate_index(session).candidates(text, k=k),
        )
    selector.note = choice.note
    return selector
