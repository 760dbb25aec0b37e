"""Projects: create, list, open, delete, and the figures the home page shows.

Statistics are SQL aggregates (a handful of GROUP BY queries), fast for projects of 20,000 roles.
Every function that changes something commits and writes an audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from jobforge.access import Permission, require, visible_project_ids
from jobforge.access.membership import put_member
from jobforge.db.models import Mapping, MappingStatus, Project, Role, Upload, utcnow
from jobforge.errors import JobForgeError
from jobforge.review import audit

TIERS = ("HIGH", "MEDIUM", "LOW")
MAX_NAME_LENGTH = 200


class ProjectError(JobForgeError, ValueError):
    """A project cannot be created or found; the message says why."""


@dataclass
class ProjectStats:
    roles: int  # unique roles
    rows: int  # spreadsheet rows behind them
    mapped: int  # roles with a proposal
    confirmed: int  # roles an analyst decided: confirmed unchanged or overridden
    tiers: dict[str, int] = field(default_factory=dict)  # HIGH/MEDIUM/LOW -> roles (current tier)
    needs_info: int = 0
    confirmed_unchanged: int = 0
    overridden: int = 0
    uploads: int = 0
    headcount: float | None = None
    major_groups: dict[str, int] = field(default_factory=dict)  # "15" -> roles proposed in 15-xxxx

    @property
    def unmapped(self) -> int:
        return self.roles - self.mapped

    @property
    def share_mapped(self) -> float:
        return self.mapped / self.roles if self.roles else 0.0

    @property
    def share_confirmed(self) -> float:
        return self.confirmed / self.roles if self.roles else 0.0


def create_project(session: Session, name: str, user: str, description: str = "") -> Project:
    """A new project with ``user`` as its first member.

    :class:`ProjectError` when the name is empty or already used (any case); PermissionDenied when
    ``user`` may not create projects (a viewer).
    """
    require(session, user, Permission.PROJECT_CREATE)
    clean = " ".join((name or "").split())
    if not clean:
        raise ProjectError("Give the project a name.")
    if len(clean) > MAX_NAME_LENGTH:
        raise ProjectError(f"A project name can have at most {MAX_NAME_LENGTH} characters.")
    clash = session.scalar(select(Project.name).where(func.lower(Project.name) == clean.lower()))
    if clash is not None:
        raise ProjectError(f"A project named '{clash}' already exists. Choose another name or open that project.")
    project = Project(name=clean, description=description or "", created_by=user)
    session.add(project)
    try:
        session.flush()
        put_member(session, project.id, user, user)
        audit.record(session, user, "create_project", "project", project.id, project.id, after={"name": clean})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return project


def list_projects(session: Session, user: str | None = None, *, archived: bool | None = False) -> Sequence[Project]:
    """The projects ``user`` may see (every project when ``user`` is None), newest first.

    ``archived``: False (default) lists the open projects, True only the archived ones, None both.
    """
    query = select(Project).order_by(Project.created_at.desc(), Project.id.desc())
    if archived is not None:
        query = query.where(Project.archived_at.is_not(None) if archived else Project.archived_at.is_(None))
    visible = visible_project_ids(session, user) if user is not None else None
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    return session.scalars(query).all()


def role_titles(session: Session, project_id: int) -> list[tuple[int, str]]:
    """(role id, original title) of a project's roles, by title: for pickers."""
    rows = session.execute(select(Role.id, Role.title).where(Role.project_id == project_id).order_by(Role.title))
    return [(role_id, title) for role_id, title in rows.all()]


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectError(f"Project {project_id} does not exist.")
    return project


def find_project(session: Session, name: str) -> Project | None:
    """The project with this name (any case), if any."""
    clean = " ".join((name or "").split()).lower()
    return session.scalar(select(Project).where(func.lower(Project.name) == clean))


def archive_project(session: Session, project_id: int, user: str) -> Project:
    """Archive a project: hidden from the project pickers (its data kept), and from then on deletable.

    One transaction (pass a session with no transaction in progress), audited; PermissionDenied
    unless ``user`` may delete in the project, ProjectError when it is unknown or already archived.
    """
    with session.begin():
        require(session, user, Permission.DELETE, project_id)
        project = get_project(session, project_id)
        if project.archived_at is not None:
            raise ProjectError(f"'{project.name}' is already archived.")
        project.archived_at = utcnow()
        project.archived_by = user
        audit.record(session, user, "archive_project", "project", project_id, project_id, after={"name": project.name})
    return project


def restore_project(session: Session, project_id: int, user: str) -> Project:
    """Bring an archived project back to the pickers (one transaction, audited)."""
    with session.begin():
        require(session, user, Permission.DELETE, project_id)
        project = get_project(session, project_id)
        if project.archived_at is None:
            raise ProjectError(f"'{project.name}' is not archived.")
        project.archived_at = None
        project.archived_by = None
        audit.record(session, user, "restore_project", "project", project_id, project_id, after={"name": project.name})
    return project


def delete_project(session: Session, project_id: int, user: str, *, confirmation: str) -> None:
    """Delete an archived project with its uploads, roles, mappings and attributes (the audit log stays).

    ``confirmation`` must be the project's name as typed by the user (case and spacing as shown).
    One transaction; PermissionDenied unless ``user`` may delete (admins), ProjectError when the
    project is unknown, not archived yet or the confirmation does not match.
    """
    with session.begin():
        require(session, user, Permission.DELETE, project_id)
        project = get_project(session, project_id)
        if project.archived_at is None:
            raise ProjectError(f"Archive '{project.name}' first: only an archived project can be deleted.")
        if " ".join((confirmation or "").split()) != project.name:
            raise ProjectError(f"Type the project's name, '{project.name}', exactly to delete it.")
        stats = project_stats(session, project_id)
        audit.record(
            session,
            user,
            "delete_project",
            "project",
            project_id,
            None,
            before={"name": project.name, "roles": stats.roles, "rows": stats.rows, "confirmed": stats.confirmed},
        )
        session.flush()
        # The database cascades to uploads, roles, mappings and attributes in one statement.
        session.expunge(project)
        session.execute(delete(Project).where(Project.id == project_id))


def project_stats(session: Session, project_id: int) -> ProjectStats:
    """Counts for the home page and the review progress bar."""
    roles, rows, headcount = session.execute(
        select(func.count(Role.id), func.coalesce(func.sum(Role.row_count), 0), func.sum(Role.headcount)).where(
            Role.project_id == project_id
        )
    ).one()
    in_project = select(Role.id).where(Role.project_id == project_id).scalar_subquery()
    mapped_rows = session.execute(
        select(Mapping.status, Mapping.tier, func.count())
        .where(Mapping.role_id.in_(in_project))
        .group_by(Mapping.status, Mapping.tier)
    ).all()
    statuses: dict[str, int] = {}
    tiers: dict[str, int] = dict.fromkeys(TIERS, 0)
    for status, tier, count in mapped_rows:
        statuses[status] = statuses.get(status, 0) + count
        tiers[tier] = tiers.get(tier, 0) + count
    major = func.substr(Mapping.onet_code, 1, 2)
    groups = session.execute(
        select(major, func.count())
        .where(Mapping.role_id.in_(in_project), Mapping.onet_code.is_not(None))
        .group_by(major)
        .order_by(major)
    ).all()
    uploads = session.scalar(select(func.count(Upload.id)).where(Upload.project_id == project_id)) or 0
    confirmed_unchanged = statuses.get(MappingStatus.CONFIRMED, 0)
    overridden = statuses.get(MappingStatus.OVERRIDDEN, 0)
    return ProjectStats(
        roles=int(roles or 0),
        rows=int(rows or 0),
        mapped=sum(statuses.values()),
        confirmed=confirmed_unchanged + overridden,
        tiers=tiers,
        needs_info=statuses.get(MappingStatus.NEEDS_INFO, 0),
        confirmed_unchanged=confirmed_unchanged,
        overridden=overridden,
        uploads=int(uploads),
        headcount=float(headcount) if headcount is not None else None,
        major_groups={str(group): int(count) for group, count in groups},
    )
