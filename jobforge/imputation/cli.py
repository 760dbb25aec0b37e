"""`python -m jobforge impute PROJECT`: complete a project's attributes with provenance.

Runs inheritance, the O*NET profile and (unless ``--no-llm``) LLM imputation with a progress bar
on stderr, then prints how many cells each source type now holds.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from jobforge.cli import CommandError

STEP_CHOICES = ("hierarchy", "onet", "llm")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "impute",
        help="fill a project's empty attribute cells (inherit, O*NET, LLM) with provenance",
        description="Fill the empty attribute cells of a project's roles in precedence order: values the "
        "role's job family/function agree on (HIERARCHY), the mapped occupation's O*NET profile (ONET), then "
        "an LLM (LLM). Values from the file (SOURCE) and analysts (ANALYST) are never changed.",
    )
    parser.add_argument("project", help="the project's name or id")
    parser.add_argument(
        "--provider",
        choices=("auto", "anthropic", "openai", "offline"),
        default="auto",
        help="the LLM for the last step (default: auto = an available provider, else the step is skipped)",
    )
    parser.add_argument("--no-llm", action="store_true", help="skip the LLM step (no calls, no cost)")
    parser.add_argument(
        "--steps",
        help=f"comma-separated steps to run, from {','.join(STEP_CHOICES)} (default: all; --no-llm drops llm)",
    )
    parser.add_argument("--batch-size", type=int, help="roles per committed batch (default: the setting, 25)")
    parser.set_defaults(handler=run_impute)


def parse_steps(args: argparse.Namespace) -> tuple[str, ...]:
    steps = [step.strip() for step in (args.steps or ",".join(STEP_CHOICES)).split(",") if step.strip()]
    unknown = [step for step in steps if step not in STEP_CHOICES]
    if unknown or not steps:
        raise CommandError(f"--steps {args.steps!r}: choose from {', '.join(STEP_CHOICES)}.")
    if args.no_llm:
        steps = [step for step in steps if step != "llm"]
    return tuple(steps)


def find_project_id(session: Any, ref: str) -> int:
    from sqlalchemy import func, select

    from jobforge.db.models import Project

    project = None
    if ref.strip().isdigit():
        project = session.get(Project, int(ref))
    if project is None:
        project = session.scalar(select(Project).where(func.lower(Project.name) == ref.strip().lower()))
    if project is None:
        raise CommandError(f"No project named {ref!r} (give its name or id, as listed in the app).")
    return project.id


def format_summary(summary: Any) -> str:
    from jobforge.db.models import SourceType
    from jobforge.imputation.service import EMPTY

    lines = [
        f"{summary.roles} roles x {len(summary.attributes)} attributes = {summary.cells} cells",
        f"{'source':<10} {'cells':>8} {'share':>7} {'this run':>9}",
    ]
    for source in (*SourceType.PRECEDENCE, EMPTY):
        count = summary.counts.get(source, 0)
        share = count / summary.cells if summary.cells else 0.0
        written = summary.written.get(source, 0) if source != EMPTY else ""
        lines.append(f"{source:<10} {count:>8} {share:>7.1%} {written!s:>9}")
    lines.append('("this run": values this run set or changed; a re-run that finds nothing new shows 0.)')
    if summary.cleared:
        lines.append(f"{summary.cleared} computed values were withdrawn (their evidence is gone).")
    if summary.llm_provider:
        lines.append(f"LLM: {summary.llm_provider}, {summary.llm_calls} calls")
    for note in summary.notes[:20]:
        lines.append(f"note: {note}")
    if len(summary.notes) > 20:
        lines.append(f"note: ... and {len(summary.notes) - 20} more")
    for error in summary.errors[:20]:
        lines.append(f"error: {error}")
    if summary.error_count > len(summary.errors[:20]):
        more = summary.error_count - len(summary.errors[:20])
        lines.append(f"error: ... and {more} more (cells left empty, reason stored)")
    return "\n".join(lines)


def run_impute(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from jobforge.access import Permission, require
    from jobforge.cli import acting_user
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.imputation.service import ProviderUnavailable, impute_project

    steps = parse_steps(args)
    if args.batch_size is not None and args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1.")
    engine = get_engine()
    with session_factory(engine)() as session:
        project_id = find_project_id(session, args.project)
        require(session, acting_user(args), Permission.PROJECT_WRITE, project_id)
        session.commit()  # the first user of a new store becomes its admin in require()
        bar = tqdm(total=0, unit="role", file=sys.stderr, desc="impute", disable=None)

        def progress(done: int, total: int, _message: str) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            summary = impute_project(
                session, project_id, provider=args.provider, steps=steps, progress=progress, batch_size=args.batch_size
            )
        except ProviderUnavailable as exc:
            raise CommandError(f"{exc} Use --provider auto or --no-llm.") from exc
        finally:
            bar.close()
    print(format_summary(summary))
    return 0
