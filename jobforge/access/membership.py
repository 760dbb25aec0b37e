"""Who belongs to which project: members may work in (analysts) or read (viewers) it; admins see all."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.access.users import clean_name, name_key
from jobforge.db.models import ProjectMember


def is_member(session: Session, user: str, project_id: int) -> bool:
    key = name_key(user)
    found = session.scalar(
        select(ProjectMember.project_id).where(ProjectMember.project_id == project_id, ProjectMember.user_key == key)
    )
    return found is not None


def member_project_ids(session: Session, user: str) -> set[int]:
    """Ids of the projects ``user`` is a member of."""
    return set(session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_key == name_key(user))))


def project_members(session: Session, project_id: int) -> Sequence[ProjectMember]:
    """The project's members by name."""
    return session.scalars(
        select(ProjectMember).where(ProjectMember.project_id == project_id).order_by(ProjectMember.user_key)
    ).all()


def put_member(session: Session, project_id: int, user: str, by: str | None) -> ProjectMember | None:
    """Make ``user`` a member of the project (no permission check: callers check).

    Returns the new membership, or None when ``user`` already was a member. The caller commits.
    """
    clean = clean_name(user)
    if is_member(session, clean, project_id):
        return None
    member = ProjectMember(project_id=project_id, user_key=name_key(clean), user_name=clean, added_by=by)
    session.add(member)
    session.flush()
    return member
