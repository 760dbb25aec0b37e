"""`python -m jobforge eval [LABELS.csv]`: score the mapping pipeline on labelled titles."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from jobforge.evaluation.labels import LabelsError, read_labels, title_group
from jobforge.evaluation.predict import predict, write_predictions
from jobforge.evaluation.scoring import as_json, markdown_table, score


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
        selector = _selector(args.provider, session, settings)
        titles = [item.title for item in labels]
        with tqdm(total=len(titles), desc="eval", unit="title", file=sys.stderr) as bar:
            batch = 200 if selector.name == "offline" else settings.llm_batch_size
            predictions = predict(titles, index, selector, batch_size=batch, progress=bar.update, decided=decided)
        seconds = time.perf_counter() - started
        version = release.version

    figures = score(labels, {title_group(t): p for t, p in zip(titles, predictions, strict=True)})
    table = markdown_table(figures)
    if args.predictions:
        write_predictions(args.predictions, titles, predictions)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n", encoding="utf-8")
    if args.json:
        print(
            json.dumps(as_json(figures, provider=selector.name, release=version, seconds=round(seconds, 2)), indent=2)
        )
    else:
        print(f"Provider {selector.name}, O*NET {version}, {len(titles)} titles, {seconds:.1f} s")
        print(table)
    return 0


def _selector(provider: str, session, settings):
    from jobforge.cli import CommandError
    from jobforge.mapping.factory import ProviderUnavailable, make_selector

    try:
        selector = make_selector(provider, session, settings)
    except ProviderUnavailable as exc:
        raise CommandError(str(exc)) from exc
    if selector.note:
        print(selector.note, file=sys.stderr)
    return selector
