"""`python -m jobforge opinions sample | agreement`: second opinions without a browser."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.orm import Session


def register(subparsers: Any) -> None:
    opinions = subparsers.add_parser(
        "opinions",
        help="second opinions: sample decided roles for blind re-coding, and inter-coder agreement",
        description="Admins draw a random sample of a project's decided roles for a second analyst to code again "
        "blind (in the app, page 'Second opinions'); `agreement` prints share agreeing and Cohen's κ at 2, 3, 6 "
        "and 8 digits of O*NET-SOC, and the adjudication counts.",
    )
    commands = opinions.add_subparsers(dest="opinions_command", required=True)
    sample = commands.add_parser("sample", help="draw a random sample of decided roles for a second coder (admins)")
    sample.add_argument("project", help="the project's name")
    sample.add_argument("--size", type=int, required=True, help="how many roles to draw")
    sample.add_argument("--coder", required=True, help="the second analyst, who codes them blind")
    sample.add_argument("--seed", type=int, default=None, help="draw reproducibly (default: a new seed, printed)")
    sample.add_argument(
        "--include-bulk", action="store_true", help="also draw roles decided in bulk (default: one by one only)"
    )
    sample.set_defaults(handler=run_sample)
    agreement = commands.add_parser("agreement", help="inter-coder agreement per digit level, and adjudication")
    agreement.add_argument("project", help="the project's name")
    agreement.add_argument("--sample", type=int, default=None, help="one sample's id (default: all samples)")
    agreement.set_defaults(handler=run_agreement)


def _visible_project(session: Session, name: str, user: str) -> Any:
    from jobforge.access import visible_project_ids
    from jobforge.cli import CommandError
    from jobforge.projects import find_project

    project = find_project(session, name)
    visible = visible_project_ids(session, user)
    if project is None or (visible is not None and project.id not in visible):
        raise CommandError(f"There is no project named '{name}' that you can see. See `python -m jobforge projects`.")
    return project


def run_sample(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.review.second_opinion import draw_sample

    user = acting_user(args)
    with session_factory(get_engine())() as session:
        project_id, project_name = _project_id_and_name(session, args.project, user)
    with session_factory(get_engine())() as session:
        drawn = draw_sample(
            session, project_id, args.size, args.coder, user, seed=args.seed, include_bulk=args.include_bulk
        )
    print(
        f"Sample {drawn.sample_id} of '{project_name}': {drawn.drawn:,} of {drawn.eligible:,} eligible decided roles "
        f"for {drawn.coder} to code blind (seed {drawn.seed})."
    )
    if drawn.drawn < drawn.requested:
        print(f"Only {drawn.eligible:,} roles could be drawn, fewer than the {drawn.requested:,} asked for.")
    left_out = [
        (drawn.decided_by_coder, f"decided by {drawn.coder} (nobody gives a second opinion on their own decision)"),
        (drawn.decided_in_bulk, "decided in bulk (--include-bulk draws them too)"),
        (drawn.already_sampled, "in an earlier sample"),
    ]
    for count, why in left_out:
        if count:
            print(f"Left out: {count:,} {why}.")
    print(f"{drawn.coder} codes them on the app's 'Second opinions' page.")
    return 0


def _project_id_and_name(session: Session, name: str, user: str) -> tuple[int, str]:
    project = _visible_project(session, name, user)
    return project.id, project.name


def run_agreement(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.review.agreement import agreement_report

    with session_factory(get_engine())() as session:
        project_id, project_name = _project_id_and_name(session, args.project, acting_user(args))
        report = agreement_report(session, project_id, args.sample)
    for line in agreement_lines(report, project_name, args.sample):
        print(line)
    return 0


def agreement_lines(report: Any, project_name: str, sample_id: int | None = None) -> list[str]:
    """The agreement report as printed text: a summary, the table per digit level, the adjudication counts."""
    which = f"sample {sample_id} of '{project_name}'" if sample_id else f"'{project_name}' (all samples)"
    if report.sampled == 0:
        return [f"No second opinions for {which} yet: draw a sample with `python -m jobforge opinions sample`."]
    lines = [
        f"Inter-coder agreement, {which}: {report.sampled:,} roles sampled, {report.answered:,} coded again blind "
        f"({report.cannot_code:,} 'cannot code'), {report.unanswered:,} waiting for the second coder.",
        "",
        f"{'Level':<9} {'Compares':<36} {'Roles':>5} {'Agree':>5} {'Share':>12} {'Cohen κ':>12}",
    ]
    notes = []
    for row in report.levels:
        compares = f"{row.level.name}, e.g. {row.level.example}"
        lines.append(
            f"{f'{row.level.digits} digits':<9} {compares:<36} {row.compared:>5} {row.agreeing:>5} "
            f"{row.share_text:>12} {row.kappa_text:>12}"
        )
        if row.kappa is None and row.note:
            notes.append(f"κ at {row.level.digits} digits is not defined: {row.note}.")
    lines += ["", *notes] if notes else [""]
    lines.append(
        f"Adjudication of the {report.disagreements:,} disagreements at 8 digits: {report.adjudicated:,} settled "
        f"(first code kept {report.kept_first:,}, second taken {report.took_second:,}, another chosen "
        f"{report.chose_other:,}), {report.waiting:,} waiting."
    )
    lines.append(f"First decisions standing so far: {report.first_standing:,} of {report.answered:,} coded again.")
    return lines
