"""The LLM sees the evidence: each role's prompt carries its nearest decided titles and codes
(at most 5, only similar enough), and the token estimate counts them (real SDKs, fake server)."""

from __future__ import annotations

import pytest
from fakes.llm_server import FakeLLMServer

from jobforge.codebooks.vote import DecidedIndex, DecidedTitle, add_voted
from jobforge.llm.factory import make_client
from jobforge.llm.retry import RetryPolicy
from jobforge.mapping.agent import RoleMappingAgent
from tests.mapping.agent_helpers import make_role

DECIDED = [
    DecidedTitle("Python Developer", ("15-1252.00",), "confirmed", "Acme 2026", "A. Analyst"),
    DecidedTitle("Java Developer", ("15-1252.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Go Developer", ("15-1252.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Ruby Developer", ("15-1252.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Scala Developer", ("15-1252.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Kotlin Developer", ("15-1254.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Web Developer", ("15-1254.00",), "codebook", "Mapping 2025"),
    DecidedTitle("Pastry Chef", ("35-1011.00",), "codebook", "Mapping 2025"),
]


def _agent(provider: str) -> RoleMappingAgent:
    policy = RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.002, sleep=lambda _s: None)
    return RoleMappingAgent(make_client(provider, retry_policy=policy), batch_size=12)


def _lookup(code: str) -> tuple[str, str] | None:
    return {"15-1252.00": ("Software Developers", "Develop software."), "15-1254.00": ("Web Developers", "")}.get(code)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_the_prompt_carries_at_most_five_similar_decided_titles(fake_llm_env: FakeLLMServer, provider: str) -> None:
    index = DecidedIndex(DECIDED)
    with_evidence = make_role(1, "Lead Python Developer")
    with_evidence.vote = index.votes([with_evidence.title])[0]
    with_evidence.candidates = add_voted(with_evidence.candidates, with_evidence.vote, _lookup)
    without = make_role(2, "Forklift Operator")
    without.vote = index.votes([without.title])[0]
    agent = _agent(provider)
    estimate_with = agent.estimate([with_evidence]).input_tokens

    agent.select([with_evidence, without])

    sent = {role["title"]: role for role in fake_llm_env.model_calls()[0].roles}
    decided = sent["Lead Python Developer"]["decided"]
    assert 1 <= len(decided) <= 5
    assert all(code in ("15-1252.00", "15-1254.00") for _, code in decided)
    assert "Pastry Chef" not in str(decided)
    assert "decided" not in sent["Forklift Operator"]  # nothing similar enough
    # Voted codes retrieval missed are among the candidates the model may pick.
    assert "15-1252.00" in [row[0] for row in sent["Lead Python Developer"]["candidates"]]
    with_evidence.vote = None
    assert agent.estimate([with_evidence]).input_tokens < estimate_with  # the examples are counted
