"""`python -m jobforge export` and `python -m jobforge projects`: a project's results without a browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a project's roles (or original rows) with their mappings as CSV or XLSX",
        description="Write a project's roles with code, O*NET title, tier, score, status, who confirmed and when, "
        "and attributes with their sources, as CSV or XLSX (XLSX keeps text, numbers and dates as such; CSV "
        "neutralises formula-like text).",
    )
    parser.add_argument("project", help="the project's name (see `python -m jobforge projects`)")
    parser.add_argument("--out", type=Path, required=True, help="the .csv or .xlsx file to write")
    parser.add_argument(
        "--rows",
        choices=("roles", "original"),
        default="roles",
        help="one row per unique role (default) or every original row of the uploads with its role's mapping",
    )
    parser.set_defaults(handler=run_export)

    projects = subparsers.add_parser("projects", help="list the projects you can see with their progress")
    projects.set_defaults(handler=run_projects)


def run_export(args: argparse.Namespace) -> int:
    from jobforge.access import visible_project_ids
    from jobforge.cli import CommandError, acting_user
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.export.writers import ExportError, export_roles
    from jobforge.projects import find_project

    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise CommandError(f"--out must end in .csv or .xlsx, not '{args.out.name}'.")
    user = acting_user(args)
    with session_factory(get_engine())() as session:
        project = find_project(session, args.project)
        visible = visible_project_ids(session, user)
        if project is None or (visible is not None and project.id not in visible):
            raise CommandError(f"There is no project named '{args.project}'. See `python -m jobforge projects`.")
        try:
            data = export_roles(session, project.id, fmt=fmt, rows=args.rows, user=user)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    args.out.write_bytes(data)
    print(f"Wrote {args.out} ({len(data):,} bytes).", file=sys.stderr)
    return 0


def run_projects(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.projects import list_projects, project_stats

    with session_factory(get_engine())() as session:
        projects = list_projects(session, acting_user(args), archived=None)  # archived ones too, marked
        if not projects:
            print("No projects yet.")
        for project in projects:
            stats = project_stats(session, project.id)
            tiers = ", ".join(f"{tier} {count}" for tier, count in stats.tiers.items())
            print(
                f"{project.name}{' (archived)' if project.archived_at else ''}: "
                f"{stats.roles:,} roles from {stats.rows:,} rows; mapped {stats.mapped:,} ({tiers}); "
                f"confirmed {stats.confirmed:,}; needs info {stats.needs_info:,}"
            )
    return 0
