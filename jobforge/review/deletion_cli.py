"""`python -m jobforge uploads list | delete`, `roles delete`, `projects archive | restore | delete`."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.orm import Session


def register(subparsers: Any) -> None:
    uploads = subparsers.add_parser("uploads", help="a project's uploads; delete one with its rows")
    commands = uploads.add_subparsers(dest="uploads_command", required=True)
    listing = commands.add_parser("list", help="a project's uploads with their ids, rows and blank titles")
    listing.add_argument("project", help="the project's name")
    listing.set_defaults(handler=run_uploads_list)
    drop = commands.add_parser("delete", help="delete an upload: its rows, and the roles only it contributed (admins)")
    drop.add_argument("id", type=int, help="the upload's id (see `uploads list`)")
    drop.set_defaults(handler=run_upload_delete)

    roles = subparsers.add_parser("roles", help="delete a role with its mapping and attributes")
    role_commands = roles.add_subparsers(dest="roles_command", required=True)
    role_drop = role_commands.add_parser("delete", help="delete one role (admins)")
    role_drop.add_argument("id", type=int, help="the role's id (the `role_id` column of an export)")
    role_drop.set_defaults(handler=run_role_delete)

    # `projects` is registered by jobforge.export.cli and given sub-commands by jobforge.access.cli.
    projects = subparsers.choices["projects"]
    project_commands = next(a for a in projects._actions if isinstance(a, argparse._SubParsersAction))
    for name, handler, help_text in (
        ("archive", run_archive, "archive a project: hidden from the pickers, data kept (admins)"),
        ("restore", run_restore, "bring an archived project back"),
        ("delete", run_project_delete, "delete an archived project and all its data (admins)"),
    ):
        command = project_commands.add_parser(name, help=help_text)
        command.add_argument("project", help="the project's name")
        if name == "delete":
            command.add_argument("--confirm", required=True, help="the project's name again, typed exactly")
        command.set_defaults(handler=handler)
    project_commands.metavar = None  # list every sub-command in --help


def _session() -> Session:
    from jobforge.db.engine import get_engine, session_factory

    return session_factory(get_engine())()


def _project_id(name: str, user: str) -> int:
    from jobforge.access import visible_project_ids
    from jobforge.cli import CommandError
    from jobforge.projects import find_project

    with _session() as session:
        project = find_project(session, name)
        visible = visible_project_ids(session, user)
        if project is None or (visible is not None and project.id not in visible):
            raise CommandError(f"There is no project named '{name}'. See `python -m jobforge projects`.")
        return project.id


def run_uploads_list(args: argparse.Namespace) -> int:
    from jobforge.access import Permission, require
    from jobforge.cli import acting_user
    from jobforge.review.deletion import project_uploads

    user = acting_user(args)
    project_id = _project_id(args.project, user)
    with _session() as session:
        require(session, user, Permission.PROJECT_READ, project_id)
        uploads = project_uploads(session, project_id)
    if not uploads:
        print("No uploads yet.")
    for upload in uploads:
        sheet = f" [{upload.sheet}]" if upload.sheet else ""
        print(
            f"{upload.id}: {upload.filename}{sheet}: {upload.rows:,} rows, {upload.blank_titles:,} without a title "
            f"({upload.placeholder_titles:,} placeholders); by {upload.created_by or 'unknown'}"
        )
    return 0


def run_upload_delete(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.review.deletion import delete_upload

    with _session() as session:
        done = delete_upload(session, args.id, acting_user(args))
    print(
        f"Deleted upload {done.upload_id} ('{done.filename}', {done.rows:,} rows): "
        f"{done.roles_removed:,} roles only it contributed were deleted, "
        f"{done.roles_kept:,} shared roles keep the other uploads' rows."
    )
    return 0


def run_role_delete(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.review.deletion import delete_role

    with _session() as session:
        done = delete_role(session, args.id, acting_user(args))
    print(f"Deleted role {done.role_id} ('{done.title}', {done.rows:,} rows) with its mapping and attributes.")
    return 0


def run_archive(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.projects import archive_project

    user = acting_user(args)
    project_id = _project_id(args.project, user)
    with _session() as session:
        project = archive_project(session, project_id, user)
        print(f"Archived '{project.name}'. Delete it with `projects delete` (typed confirmation), or restore it.")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.projects import restore_project

    user = acting_user(args)
    project_id = _project_id(args.project, user)
    with _session() as session:
        project = restore_project(session, project_id, user)
        print(f"Restored '{project.name}'.")
    return 0


def run_project_delete(args: argparse.Namespace) -> int:
    from jobforge.cli import acting_user
    from jobforge.projects import delete_project

    user = acting_user(args)
    project_id = _project_id(args.project, user)
    with _session() as session:
        delete_project(session, project_id, user, confirmation=args.confirm)
    print(f"Deleted project '{args.project}' and all its data (the audit log keeps what it held).")
    return 0
