"""`python -m jobforge users …` and `python -m jobforge projects members | add-member | remove-member`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from jobforge.access.permissions import UserRole

ROLES = [role.value for role in UserRole]


def register(subparsers: Any) -> None:
    users = subparsers.add_parser(
        "users",
        help="users of the store and their roles (admin, analyst, viewer)",
        description="Admins add users, give them a role and remove them. The first user of a store is its admin.",
    )
    commands = users.add_subparsers(dest="users_command", required=True)
    commands.add_parser("list", help="every user with their role and projects").set_defaults(handler=run_list)
    add = commands.add_parser("add", help="add a user with a role")
    add.add_argument("name", help="the name (or, with OIDC, the e-mail address) they sign in with")
    add.add_argument("--role", choices=ROLES, required=True)
    add.set_defaults(handler=run_add)
    role = commands.add_parser("role", help="give a user another role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=run_role)
    remove = commands.add_parser("remove", help="remove a user and their project memberships")
    remove.add_argument("name")
    remove.set_defaults(handler=run_remove)

    # `projects` (a list) is registered by jobforge.export.cli; membership commands hang under it.
    projects = subparsers.choices["projects"]
    members = projects.add_subparsers(dest="projects_command", metavar="{members,add-member,remove-member}")
    show = members.add_parser("members", help="a project's members")
    show.add_argument("project", help="the project's name")
    show.set_defaults(handler=run_members)
    for name, handler, help_text in (
        ("add-member", run_add_member, "let a user work in (analyst) or read (viewer) a project"),
        ("remove-member", run_remove_member, "take a user out of a project"),
    ):
        command = members.add_parser(name, help=help_text)
        command.add_argument("project", help="the project's name")
        command.add_argument("member", help="the user's name")
        command.set_defaults(handler=handler)


@contextmanager
def _session() -> Iterator[Session]:
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_scope

    with session_scope(get_engine(get_settings().resolved_database_url())) as session:
        yield session


def run_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from jobforge.access import Permission, access_is_open, require
    from jobforge.access.users import list_users, user_count
    from jobforge.cli import acting_user
    from jobforge.db.models import Project, ProjectMember

    with _session() as session:
        if user_count(session) == 0:  # before require(), which would make the caller the first admin
            print("No users yet: the first name that uses the store becomes its admin.")
            return 0
        require(session, acting_user(args), Permission.USERS_MANAGE)
        users = list_users(session)
        memberships: dict[str, list[str]] = {}
        rows = session.execute(select(ProjectMember.user_key, Project.name).join(Project).order_by(Project.name)).all()
        for key, project in rows:
            memberships.setdefault(key, []).append(project)
        width = max(len(user.name) for user in users)
        for user in users:
            projects = "all projects" if user.role == UserRole.ADMIN else ", ".join(memberships.get(user.name_key, []))
            print(f"{user.name.ljust(width)}  {user.role:<8} {projects or 'no project yet'}")
        if access_is_open(session):
            print("Only one user: every check passes until an admin adds a second user.")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from jobforge.access.manage import add_user
    from jobforge.cli import acting_user

    with _session() as session:
        user = add_user(session, args.name, args.role, acting_user(args))
        print(f"{user.name} is {user.role}.")
    return 0


def run_role(args: argparse.Namespace) -> int:
    from jobforge.access.manage import set_role
    from jobforge.cli import acting_user

    with _session() as session:
        user = set_role(session, args.name, args.role, acting_user(args))
        print(f"{user.name} is {user.role}.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from jobforge.access.manage import remove_user
    from jobforge.cli import acting_user

    with _session() as session:
        remove_user(session, args.name, acting_user(args))
    print(f"{' '.join(args.name.split())} is no longer a user.")
    return 0


def _visible_project(session: Session, name: str, user: str) -> Any:
    """The project called ``name`` that ``user`` may see; CommandError otherwise (not saying whether it exists)."""
    from jobforge.access import visible_project_ids
    from jobforge.cli import CommandError
    from jobforge.projects import find_project

    project = find_project(session, name)
    visible = visible_project_ids(session, user)
    if project is None or (visible is not None and project.id not in visible):
        raise CommandError(f"There is no project named '{name}' that you can see. See `python -m jobforge projects`.")
    return project


def run_members(args: argparse.Namespace) -> int:
    from jobforge.access.membership import project_members
    from jobforge.access.users import find_user
    from jobforge.cli import acting_user

    with _session() as session:
        project = _visible_project(session, args.project, acting_user(args))
        members = project_members(session, project.id)
        if not members:
            print(f"'{project.name}' has no members (admins see every project).")
        for member in members:
            user = find_user(session, member.user_name)
            role = user.role if user is not None else "not a user yet"
            print(f"{member.user_name}  ({role}; added by {member.added_by or '-'})")
    return 0


def run_add_member(args: argparse.Namespace) -> int:
    from jobforge.access.manage import add_member
    from jobforge.cli import acting_user

    user = acting_user(args)
    with _session() as session:
        project = _visible_project(session, args.project, user)
        added = add_member(session, project.id, args.member, user)
        print(f"{args.member} {'is now' if added else 'already was'} a member of '{project.name}'.")
    return 0


def run_remove_member(args: argparse.Namespace) -> int:
    from jobforge.access.manage import remove_member
    from jobforge.cli import acting_user

    user = acting_user(args)
    with _session() as session:
        project = _visible_project(session, args.project, user)
        removed = remove_member(session, project.id, args.member, user)
        print(f"{args.member} {'is no longer' if removed else 'was not'} a member of '{project.name}'.")
    return 0
