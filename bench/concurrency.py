"""Concurrent analysts and jobs against one store: are decisions ever lost or torn?

Three probes, on SQLite and Postgres (fresh stores, the tiny O*NET release of the tests):

- two-analyst race: per round, two analysts open the same role (same version and code), then at the
  same moment one confirms it and the other chooses another code. Counted: rounds where both writes
  succeeded (the later one was based on a stale read), rounds whose final state matches no audit
  event (torn), rounds whose final state equals the last audit event's "after", refusals that
  carried the "changed since you opened it" message.
- job-vs-analyst race: per round, a mapping run re-proposes a role while an analyst confirms the
  proposal they saw. Lost = the analyst's confirmation was accepted but the final state is not it.
- writers: N threads doing random review actions (with the version they read) for S seconds; errors
  (anything but a refusal of a stale action) and the p95 latency of one action.

Usage: .venv/bin/python bench/concurrency.py [--stores sqlite,postgres] [--rounds 200]
       [--job-rounds 50] [--writers 8] [--seconds 60]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from onet_fixture import write_release  # noqa: E402
from sqlalchemy import Engine, select  # noqa: E402
from stores import fresh_store  # noqa: E402

from jobforge.db.engine import session_factory  # noqa: E402
from jobforge.db.models import AuditEvent, Mapping, MappingStatus, Role  # noqa: E402
from jobforge.mapping.selectors import RoleRequest  # noqa: E402
from jobforge.mapping.service import map_roles  # noqa: E402
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult  # noqa: E402
from jobforge.onet.loader import load_release  # noqa: E402
from jobforge.projects import create_project  # noqa: E402
from jobforge.retrieval.normalize import title_key  # noqa: E402
from jobforge.review.actions import StaleDecision, choose_code, confirm, mark_needs_info, reopen  # noqa: E402

PROPOSED, OTHER = "29-1141.00", "29-1141.01"
STATE = ("onet_code", "status", "confirmed_by")


def make_roles(engine: Engine, name: str, count: int, mapped: bool = True) -> tuple[int, list[int]]:
    """A project with ``count`` roles, each with a proposal of PROPOSED when ``mapped``."""
    with session_factory(engine)() as session:
        project = create_project(session, name, "bench")
        roles = [
            Role(project_id=project.id, title=f"Nurse {n}", title_key=title_key(f"Nurse {n}")) for n in range(count)
        ]
        session.add_all(roles)
        session.flush()
        if mapped:
            for role in roles:
                session.add(
                    Mapping(
                        role_id=role.id,
                        onet_code=PROPOSED,
                        onet_title="Registered Nurses",
                        tier="MEDIUM",
                        score=0.75,
                        source="offline",
                        candidates=[],
                    )
                )
        session.commit()
        return project.id, [role.id for role in roles]


def seen(engine: Engine, role_id: int) -> tuple[int, str | None]:
    with session_factory(engine)() as session:
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
        return mapping.version, mapping.onet_code


def together(*calls: Any) -> list[Any]:
    """Run the calls in threads released by one barrier; each outcome is a value or the exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(position: int, call: Any) -> None:
        barrier.wait()
        try:
            outcomes[position] = call()
        except Exception as exc:  # the outcome is what is measured
            outcomes[position] = exc

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def final_and_events(engine: Engine, role_id: int) -> tuple[tuple[Any, ...], list[AuditEvent]]:
    with session_factory(engine)() as session:
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "mapping", AuditEvent.entity_id == role_id)
                .order_by(AuditEvent.id)
            )
        )
        return tuple(getattr(mapping, name) for name in STATE), events


def analyst_race(engine: Engine, rounds: int) -> dict[str, Any]:
    _, role_ids = make_roles(engine, "Analysts", rounds)
    counts: Counter[str] = Counter()
    for role_id in role_ids:
        version, code = seen(engine, role_id)

        def ann(role_id: int = role_id, version: int = version, code: str | None = code) -> Any:
            with session_factory(engine)() as session:
                return confirm(session, role_id, "ann", version=version, code=code)

        def bob(role_id: int = role_id, version: int = version, code: str | None = code) -> Any:
            with session_factory(engine)() as session:
                return choose_code(session, role_id, OTHER, "bob", version=version, seen_code=code)

        outcomes = together(ann, bob)
        _count_outcomes(counts, outcomes)
        final, events = final_and_events(engine, role_id)
        afters = [tuple(event.after.get(name) for name in STATE) for event in events]
        counts["stale-based writes"] += sum(not isinstance(o, Exception) for o in outcomes) > 1
        counts["torn"] += final not in afters
        counts["final = last audit"] += bool(afters) and final == afters[-1]
    return {"rounds": rounds, **counts}


def _count_outcomes(counts: Counter[str], outcomes: list[Any]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, StaleDecision):
            counts["refused"] += 1
            counts["refusal told"] += "changed since you opened it: now" in outcome.message
        elif isinstance(outcome, Exception):
            counts["errors"] += 1
            counts[f"error {type(outcome).__name__}"] += 1


class Reproposes:
    """A mapping run's selector: proposes OTHER for every role, as a re-map would."""

    name = "bench"

    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        return [
            RoleMappingResult(
                source_role=role.title,
                onet_code=OTHER,
                onet_title="Acute Care Nurses",
                confidence=ConfidenceTier.MEDIUM,
                reasoning="re-proposed by the bench",
                source=MappingSource.LLM,
                role_id=role.role_id,
                candidates=[],
            )
            for role in roles
        ]


def job_race(engine: Engine, rounds: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    rng = random.Random(14)
    for round_no in range(rounds):
        delay = rng.uniform(0, 0.3)  # the analyst acts at a random moment of the run (either may win)

        project_id, (role_id,) = make_roles(engine, f"Job {round_no}", 1)
        version, code = seen(engine, role_id)

        def job(project_id: int = project_id) -> Any:
            with session_factory(engine)() as session:
                return map_roles(session, project_id, scope="all", selector=Reproposes())

        def analyst(
            role_id: int = role_id, version: int = version, code: str | None = code, delay: float = delay
        ) -> Any:
            time.sleep(delay)
            with session_factory(engine)() as session:
                return confirm(session, role_id, "ann", version=version, code=code)

        outcomes = together(job, analyst)
        _count_outcomes(counts, outcomes)
        final, events = final_and_events(engine, role_id)
        accepted = not isinstance(outcomes[1], Exception)
        counts["analyst first"] += accepted
        counts["lost decisions"] += accepted and final != (PROPOSED, MappingStatus.CONFIRMED, "ann")
        counts["torn"] += accepted and final[0] != PROPOSED
        # Refused: the job's proposal stands, undecided (its code may come from a precedent).
        job_state = final[1:] == (MappingStatus.PROPOSED, None)
        counts["lost decisions"] += not accepted and not job_state
        last = tuple(events[-1].after.get(n) for n in STATE) if events else None
        counts["final = last audit"] += final == last if accepted else job_state and not events
    return {"rounds": rounds, **counts}


def writers(engine: Engine, threads: int, seconds: float) -> dict[str, Any]:
    _, role_ids = make_roles(engine, "Writers", 400)
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop:
            role_id = rng.choice(role_ids)
            version, code = seen(engine, role_id)
            action = rng.choice(("confirm", "choose", "needs_info", "reopen"))
            started = time.perf_counter()
            try:
                with session_factory(engine)() as session:
                    if action == "confirm":
                        confirm(session, role_id, f"w{seed}", version=version, code=code)
                    elif action == "choose":
                        choose_code(session, role_id, rng.choice((PROPOSED, OTHER)), f"w{seed}", version=version)
                    elif action == "needs_info":
                        mark_needs_info(session, role_id, f"w{seed}", "bench", version=version)
                    else:
                        reopen(session, role_id, f"w{seed}", version=version)
                outcome = "ok"
            except StaleDecision:
                outcome = "refused"
            except Exception as exc:  # counted, not raised: the figure is how many
                outcome = f"error {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
            with lock:
                latencies.append(time.perf_counter() - started)
                counts[outcome] += 1

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    errors = sum(n for key, n in counts.items() if key.startswith("error"))
    return {
        "actions": len(latencies),
        "per_s": len(latencies) / seconds,
        "p95_ms": p95 * 1000,
        "errors": errors,
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=200, help="two-analyst race rounds")
    parser.add_argument("--job-rounds", type=int, default=50, help="job-vs-analyst race rounds")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    for kind in args.stores.split(","):
        with fresh_store(kind) as engine, tempfile.TemporaryDirectory() as folder:
            load_release(engine, write_release(Path(folder)))
            print(f"[{kind}] two analysts: {analyst_race(engine, args.rounds)}", flush=True)
            print(f"[{kind}] job vs analyst: {job_race(engine, args.job_rounds)}", flush=True)
            print(
                f"[{kind}] {args.writers} writers x {args.seconds:.0f} s: {writers(engine, args.writers, args.seconds)}"
            )


if __name__ == "__main__":
    main()
