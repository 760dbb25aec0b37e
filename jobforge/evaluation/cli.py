"""`python -m jobforge eval [LABELS.csv]`: score the mapping pipeline on labelled titles."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from jobforge.evaluation.labels import LabelsError, read_labels, title_group
from jobforge.evaluation.predict import predict, write_predictions
from jobforge.evaluation.scoring import as_json, candidate_recall, markdown_table, score


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score the mapping pipeline on labelled titles (top-1/5/20, 2-digit, per-tier precision)",
        description="Score the pipeline on a labelled titles CSV exactly as ../shared/eval/README.md says.",
    )
    parser.add_argument("labels", nargs="?", help="labels CSV (default: the eval_labels setting)")
    parser.add_argument("--source", action="append", help="only titles of this source (repeatable)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown to FILE")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--predictions", metavar="FILE", help="write title,rank,code,tier CSV (up to 20 ranks)")
    parser.add_argument("--provider", default="offline", help="offline | anthropic | openai | auto (default offline)")
    parser.add_argument("--limit", type=int, help="only the first N distinct titles")
    parser.add_argument(
        "--no-decisions",
        action="store_true",
        help="leave the store's decisions and enabled codebooks out (measure retrieval alone); by default the "
        "nearest decided titles vote, as in `map`",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from jobforge.cli import CommandError, acting_user
    from jobforge.codebooks.decided import decided_index
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.onet.repository import NoActiveRelease, require_active_release
    from jobforge.retrieval.index import get_candidate_index

    settings = get_settings()
    path = args.labels or settings.resolved_eval_labels()
    if not path:
        raise CommandError("No labels file given and none configured (JOBFORGE_EVAL_LABELS).")
    try:
        labels = read_labels(path, set(args.source) if args.source else None)
    except LabelsError as exc:
        raise CommandError(str(exc)) from exc
    if args.limit is not None:
        labels = labels[: max(args.limit, 0)]
    if not labels:
        raise CommandError(f"No labelled titles in {path}" + (f" for source {args.source}" if args.source else ""))

    engine = get_engine()
    with session_factory(engine)() as session:
        try:
            release = require_active_release(session)
        except NoActiveRelease as exc:
            raise CommandError(str(exc)) from exc
        started = time.perf_counter()
        index = get_candidate_index(session)
        decided = None if args.no_decisions else decided_index(session, user=acting_user(args))
        if decided is not None:
            print(f"{decided.size:,} decided titles (decisions and enabled codebooks) vote", file=sys.stderr)
        tally = UsageTally()
        selector = _selector(args.provider, session, settings, tally)
        titles = [item.title for item in labels]
        with tqdm(total=len(titles), desc="eval", unit="title", file=sys.stderr) as bar:
            batch = 200 if selector.name == "offline" else settings.llm_batch_size
            predictions = predict(titles, index, selector, batch_size=batch, progress=bar.update, decided=decided)
        seconds = time.perf_counter() - started
        version = release.version

    by_group = {title_group(t): p for t, p in zip(titles, predictions, strict=True)}
    figures = score(labels, by_group)
    llm = llm_figures(selector.name, candidate_recall(labels, by_group), tally, len(titles), settings)
    table = markdown_table(figures)
    if args.predictions:
        write_predictions(args.predictions, titles, predictions)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n", encoding="utf-8")
    if args.json:
        print(
            json.dumps(
                as_json(figures, provider=selector.name, release=version, seconds=round(seconds, 2), **llm), indent=2
            )
        )
    else:
        print(f"Provider {selector.name}, O*NET {version}, {len(titles)} titles, {seconds:.1f} s")
        print(table)
        for line in llm_lines(llm):
            print(line)
    return 0


class _InMemory:
    """Where a tally "writes": nowhere, so a failed record is never the caller's transaction's."""

    callers_transaction = False


class UsageTally:
    """Counts the LLM calls of an eval run in memory (the agent's usage recorder; nothing is stored)."""

    store = _InMemory()

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str | None]] = []

    def record_many(self, calls: list[tuple[Any, str | None]]) -> None:
        self.calls.extend(calls)


def llm_figures(provider: str, recall: dict[str, float], tally: UsageTally, titles: int, settings: Any) -> dict:
    """Candidate recall@20 before/after readings, calls, tokens per title and cost ({} offline)."""
    from jobforge.llm.tokens import cost_usd

    if provider not in ("anthropic", "openai"):
        return {}
    tokens_in = sum(usage.input_tokens for usage, _ in tally.calls)
    tokens_out = sum(usage.output_tokens for usage, _ in tally.calls)
    readings = sum(1 for _, note in tally.calls if (note or "").startswith("readings"))
    return {
        "candidate_recall_at_20": recall,
        "llm": {
            "calls": len(tally.calls),
            "reading_calls": readings,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "input_tokens_per_title": round(tokens_in / titles, 1) if titles else 0.0,
            "output_tokens_per_title": round(tokens_out / titles, 1) if titles else 0.0,
            "usd": round(cost_usd(provider, tokens_in, tokens_out, settings), 4),
            "readings": settings.llm_readings,
        },
    }


def llm_lines(llm: dict) -> list[str]:
    """The LLM figures in words, for the table output."""
    if not llm:
        return []
    recall, spend = llm["candidate_recall_at_20"], llm["llm"]
    return [
        "",
        f"Candidate recall@20 (the labelled occupation is among the candidates the model chose from): "
        f"{100 * recall['before_readings']:.1f}% from retrieval alone, {100 * recall['after_readings']:.1f}% "
        f"after the model's readings (JOBFORGE_LLM_READINGS={spend['readings']}).",
        f"LLM: {spend['calls']:,} calls ({spend['reading_calls']:,} for readings), "
        f"{spend['input_tokens_per_title']:,} input and {spend['output_tokens_per_title']:,} output tokens per title, "
        f"about ${spend['usd']:,.2f} at list prices (cached answers cost nothing and are not counted).",
    ]


def _selector(provider: str, session, settings, usage: UsageTally | None = None):
    from jobforge.cli import CommandError
    from jobforge.mapping.factory import ProviderUnavailable, make_selector

    try:
        selector = make_selector(provider, session, settings, usage=usage)
    except ProviderUnavailable as exc:
        raise CommandError(str(exc)) from exc
    if selector.note:
        print(selector.note, file=sys.stderr)
    return selector
