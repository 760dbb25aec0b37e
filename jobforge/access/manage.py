"""Managing access (admins only): add users, give roles, remove users, add and remove project members.

Every change is audited (entity "user" or "project") and committed by the function, one transaction
each. A store always keeps at least one admin.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from jobforge.access.checks import require
from jobforge.access.membership import put_member
from jobforge.access.permissions import Permission, UserRole
from jobforge.access.users import UserError, create_user, find_user, name_key, user_count
from jobforge.db.models import AppUser, Project, ProjectMember
from jobforge.review import audit


def add_user(session: Session, name: str, role: UserRole | str, by: str) -> AppUser:
    """Add a user with ``role``; returns it. Adding an existing user with the same role changes nothing.

    In a store without users this is the set-up: the user added must be an admin and ``by`` needs no
    rights. Raises PermissionDenied (``by`` is not an admin) or UserError (name taken with another role).
    """
    role = UserRole(role)
    if user_count(session) == 0:
        if role != UserRole.ADMIN:
            raise UserError("The first user of a store is its admin: add yourself (or another admin) first.")
    else:
        require(session, by, Permission.USERS_MANAGE)
        existing = find_user(session, name)
        if existing is not None and existing.role == role:
            return existing
    user = create_user(session, name, role, by)
    audit.record(session, by, "add_user", "user", user.id, None, after={"name": user.name, "role": user.role})
    session.commit()
    return user


def set_role(session: Session, name: str, role: UserRole | str, by: str) -> AppUser:
    """Give user ``name`` another role; UserError for an unknown user or the last admin's demotion."""
    role = UserRole(role)
    require(session, by, Permission.USERS_MANAGE)
    user = _existing(session, name)
    if user.role == role:
        return user
    if user.role == UserRole.ADMIN:
        _keep_an_admin(session, user, f"make {user.name} {role.value}")
    before = {"name": user.name, "role": user.role}
    user.role = role.value
    audit.record(session, by, "set_role", "user", user.id, None, before=before, after={"name": user.name, "role": role})
    session.commit()
    return user


def remove_user(session: Session, name: str, by: str) -> None:
    """Remove a user and their project memberships (their audit events stay)."""
    require(session, by, Permission.USERS_MANAGE)
    user = _existing(session, name)
    if user.role == UserRole.ADMIN:
        _keep_an_admin(session, user, f"remove {user.name}")
    projects = list(session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_key == user.name_key)))
    audit.record(
        session,
        by,
        "remove_user",
        "user",
        user.id,
        None,
        before={"name": user.name, "role": user.role, "projects": projects},
    )
    session.execute(delete(ProjectMember).where(ProjectMember.user_key == user.name_key))
    session.delete(user)
    session.commit()


def add_member(session: Session, project_id: int, name: str, by: str) -> bool:
    """Make user ``name`` a member of the project; False when they already were. UserError for an unknown user."""
    require(session, by, Permission.USERS_MANAGE)
    project = _project(session, project_id)
    user = _existing(session, name)
    if put_member(session, project.id, user.name, by) is None:
        return False
    audit.record(session, by, "add_member", "project", project.id, project.id, after={"member": user.name})
    session.commit()
    return True


def remove_member(session: Session, project_id: int, name: str, by: str) -> bool:
    """Take ``name`` out of the project's members; False when they were not one."""
    require(session, by, Permission.USERS_MANAGE)
    project = _project(session, project_id)
    removed = session.execute(
        delete(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_key == name_key(name))
    ).rowcount
    if not removed:
        return False
    audit.record(
        session, by, "remove_member", "project", project.id, project.id, before={"member": " ".join(name.split())}
    )
    session.commit()
    return True


def _existing(session: Session, name: str) -> AppUser:
    user = find_user(session, name)
    if user is None:
        raise UserError(f"'{name}' is not a user of this store: add them first.")
    return user


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise UserError(f"Project {project_id} does not exist.")
    return project


def _keep_an_admin(session: Session, user: AppUser, change: str) -> None:
    admins = session.scalar(select(func.count(AppUser.id)).where(AppUser.role == UserRole.ADMIN.value)) or 0
    if admins <= 1:
        raise UserError(f"Cannot {change}: the store needs at least one admin. Make someone else admin first.")
