"""LLM agent: tokens per role for the default prompt, and throughput against the fake server.

    .venv/bin/python bench/llm_agent.py                      # 500 real titles for tokens, 10,000 roles for speed
    .venv/bin/python bench/llm_agent.py --roles 2000 --providers openai

With readings (issue 12): the same real titles once more with JOBFORGE_LLM_READINGS=weak, the fake
model reading each weak title as two occupation titles; calls and input tokens per role, readings
included. The throughput run keeps readings off (it measures the mapping calls).

Real roles: a seeded sample of the labelled dev titles (their labels are not used), with their
20 candidates from the candidate index over O*NET 30.1 (bench store, default
``/tmp/jobforge_bench_llm.db``; the configured release is loaded into it when it has none).
Tokens are counted with the project's rule (chars / 3.5, see jobforge/llm/tokens.py) as the fake
server reports them, i.e. what the usage table would record. Throughput: the roles go through
``RoleMappingAgent.select`` with the real SDK clients, the default batch size and concurrency,
usage recording and the answer cache in the bench store, against the fake server answering
instantly; candidate retrieval is not included (see the retrieval benchmark).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DEFAULT_STORE = "sqlite:////tmp/jobforge_bench_llm.db"


def real_roles(store: str, sample: int, seed: int = 7):
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.mapping.selectors import RoleRequest
    from jobforge.onet.repository import active_release
    from jobforge.retrieval.index import get_candidate_index
    from jobforge.retrieval.normalize import title_key

    engine = get_engine(store)
    with session_factory(engine)() as session:
        if active_release(session) is None:
            from jobforge.onet.loader import load_release

            print(f"loading O*NET into {store} ...", file=sys.stderr)
            load_release(engine, get_settings().resolved_onet_source())
    with session_factory(engine)() as session:
        index = get_candidate_index(session)
    with open(get_settings().resolved_eval_labels(), newline="", encoding="utf-8") as handle:
        titles = sorted({row["title"] for row in csv.DictReader(handle)})
    random.Random(seed).shuffle(titles)
    roles = []
    for n, title in enumerate(titles[:sample], start=1):
        roles.append(RoleRequest(n, title, title_key(title), {}, index.candidates(title, k=20)))
    return engine, roles, index


def with_readings(provider: str, settings, fake, roles, index) -> None:
    """Calls and tokens per role with readings on (weak titles read first), on real titles.

    The fake model reads every weak title as two occupation titles (the title itself and the title
    of its first candidate, a realistic length); readings are searched in the real index.
    """
    from fakes.llm_server import input_tokens

    from jobforge.mapping.agent import RoleMappingAgent
    from jobforge.mapping.readings import READING_BATCH_SIZE, weak_reason

    def reads(call):
        if "readings" not in ((call.schema or {}).get("properties") or {}):
            return None
        by_title = {r.title: r for r in roles}
        return {
            "readings": [
                {
                    "id": item["id"],
                    "titles": [item["title"], *[c.title for c in by_title[item["title"]].candidates[:1]]],
                }
                for item in call.roles
            ]
        }

    fake.reset()
    fake.answerers.insert(0, reads)
    agent = RoleMappingAgent(
        make_client_for(provider, settings),
        batch_size=settings.llm_batch_size,
        cache=False,
        reading_search=lambda text, k: index.candidates(text, k=k),
        readings="weak",
    )
    estimate = agent.estimate(roles)
    agent.select(roles)
    fake.answerers.remove(reads)
    calls = fake.model_calls()
    reading = [c for c in calls if "readings" in ((c.schema or {}).get("properties") or {})]
    weak = sum(1 for r in roles if weak_reason(r))
    budget = math.ceil(len(roles) / settings.llm_batch_size) + math.ceil(weak / READING_BATCH_SIZE)
    tokens_in = sum(input_tokens(c) for c in calls)
    reading_in = sum(input_tokens(c) for c in reading)
    print(
        f"[{provider}] readings on (weak): {len(roles)} real titles, {weak} weak; {len(calls)} calls "
        f"({len(reading)} reading calls; budget ceil(roles/12) + ceil(weak/25) = {budget}); "
        f"{tokens_in / len(roles):.0f} input tokens/role incl. readings ({reading_in / len(roles):.0f} for readings); "
        f"estimate said {estimate.calls} calls, {estimate.input_tokens / len(roles):.0f} input tokens/role"
    )


def make_client_for(provider: str, settings):
    from jobforge.llm.factory import make_client

    return make_client(provider, settings)


def many_roles(roles, count: int):
    """``count`` distinct roles reusing the real roles' candidates."""
    from jobforge.mapping.selectors import RoleRequest

    out = []
    for n in range(count):
        base = roles[n % len(roles)]
        title = f"{base.title} {n // len(roles) + 1}"
        out.append(RoleRequest(n + 1, title, title.casefold(), base.context, base.candidates))
    return out


def _serve(conn) -> None:
    """Child process: a fake server answering instantly, until told to stop."""
    from fakes.llm_server import FakeLLMServer

    with FakeLLMServer() as fake:
        conn.send(fake.url)
        conn.recv()


class ServerProcess:
    """The fake server in a process of its own, so its CPU time is not charged to the agent."""

    def __enter__(self) -> ServerProcess:
        import multiprocessing

        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.url = self._conn.recv()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._conn.send("stop")
        self._process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--sample", type=int, default=500, help="real titles for the token figures")
    parser.add_argument("--roles", type=int, default=10_000, help="roles for the throughput run")
    parser.add_argument("--providers", default="anthropic,openai")
    args = parser.parse_args()

    import os

    from fakes.llm_server import FakeLLMServer

    from jobforge.config import get_settings
    from jobforge.db.models import LlmCache, LlmUsage
    from jobforge.llm.cache import ResponseCache
    from jobforge.llm.factory import make_client
    from jobforge.llm.store import OwnTransactions
    from jobforge.llm.usage import UsageRecorder
    from jobforge.mapping.agent import RoleMappingAgent, tokens_per_role

    engine, roles, index = real_roles(args.store, args.sample)
    settings = get_settings()
    print(f"default prompt, typical roles (jobforge.mapping.agent.tokens_per_role): {tokens_per_role()} (in, out)")

    with FakeLLMServer() as fake:
        os.environ.update(
            ANTHROPIC_API_KEY="bench",
            OPENAI_API_KEY="bench",
            JOBFORGE_ANTHROPIC_BASE_URL=fake.anthropic_base_url,
            JOBFORGE_OPENAI_BASE_URL=fake.openai_base_url,
        )
        get_settings.cache_clear()
        settings = get_settings()
        for provider in args.providers.split(","):
            with engine.begin() as conn:  # a fresh cache and usage table for each run
                conn.execute(LlmCache.__table__.delete())
                conn.execute(LlmUsage.__table__.delete())
            # Tokens per role on real titles and candidates.
            fake.reset()
            agent = RoleMappingAgent(
                make_client(provider, settings), batch_size=settings.llm_batch_size, cache=False, readings="off"
            )
            agent.select(roles)
            calls = fake.model_calls()
            from fakes.llm_server import input_tokens

            tokens_in = sum(input_tokens(c) for c in calls)
            with_candidates = sum(1 for r in roles if r.candidates)
            print(
                f"[{provider}] {len(roles)} real titles ({with_candidates} with candidates, "
                f"{sum(len(r.candidates) for r in roles) / len(roles):.1f} candidates/role): "
                f"{len(calls)} calls, {tokens_in / with_candidates:.0f} input tokens/role, "
                f"estimate said {agent.estimate(roles).input_tokens / len(roles):.0f}"
            )
            with_readings(provider, settings, fake, roles, index)
            # Throughput, against a fake server in its own process.
            workload = many_roles(roles, args.roles)
            with ServerProcess() as server:
                base_url = server.url if provider == "anthropic" else server.url + "/v1"
                client = make_client(provider, settings.model_copy(update={f"{provider}_base_url": base_url}))
                store = OwnTransactions(engine)
                usage = UsageRecorder(store, purpose="mapping")
                agent = RoleMappingAgent(
                    client, batch_size=settings.llm_batch_size, cache=ResponseCache(store), usage=usage, readings="off"
                )
                started = time.perf_counter()
                results = agent.select(workload)
                elapsed = time.perf_counter() - started
                calls = usage.calls
                started = time.perf_counter()
                again = agent.select(workload)
                cached_elapsed = time.perf_counter() - started
            fallbacks = sum(1 for r in results if r.source == "fallback")
            print(
                f"[{provider}] {len(workload):,} roles in {elapsed:.1f} s ({len(workload) / elapsed:,.0f} roles/s), "
                f"{calls} calls (ceil(n/{settings.llm_batch_size}) = {math.ceil(len(workload) / settings.llm_batch_size)}), "
                f"concurrency {settings.llm_concurrency}, {fallbacks} fallbacks"
            )
            print(
                f"[{provider}] re-run from the cache: {cached_elapsed:.1f} s, "
                f"{usage.calls - calls} new calls, {sum(1 for r in again if r.source == 'llm'):,} answers"
            )


if __name__ == "__main__":
    main()
