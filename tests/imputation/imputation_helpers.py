"""Small projects built directly in the store for the imputation tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, MappingStatus, Project, Role, RoleAttribute, SourceType, Upload
from jobforge.retrieval.normalize import title_key


@dataclass
class RoleSpec:
    title: str
    family: str | None = None
    function: str | None = None
    source: dict[str, str] = field(default_factory=dict)  # attribute -> value from the file
    mapping: tuple[str, str] | None = None  # (code, status)
    department: str | None = None
    unit_group: str | None = None


def build_project(
    engine: Engine, attributes: list[str], roles: list[RoleSpec], name: str = "Acme"
) -> tuple[int, dict[str, int]]:
    """A project with one upload declaring ``attributes`` and the given roles; returns ids."""
    with session_factory(engine)() as session:
        project = Project(name=name, created_by="tester")
        session.add(project)
        session.flush()
        upload = Upload(
            project_id=project.id,
            filename="roles.csv",
            title_column="Job Title",
            context_columns={"job_family": "Family", "job_function": "Function"},
            attribute_columns=attributes,
            row_count=len(roles),
        )
        session.add(upload)
        session.flush()
        ids: dict[str, int] = {}
        for spec in roles:
            role = Role(
                project_id=project.id,
                upload_id=upload.id,
                title=spec.title,
                title_key=title_key(spec.title),
                job_family=spec.family,
                job_function=spec.function,
                department=spec.department,
                unit_group=spec.unit_group,
            )
            session.add(role)
            session.flush()
            ids[spec.title] = role.id
            for attr, value in spec.source.items():
                session.add(RoleAttribute(role_id=role.id, name=attr, value=value, source_type=SourceType.SOURCE))
            if spec.mapping:
                code, status = spec.mapping
                session.add(
                    Mapping(
                        role_id=role.id,
                        onet_code=code,
                        onet_title=code,
                        tier="HIGH",
                        score=0.95,
                        source="offline",
                        status=status,
                    )
                )
        session.commit()
        return project.id, ids


def cell(session: Session, role_id: int, name: str) -> RoleAttribute | None:
    session.expire_all()
    return session.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name))


def cells(engine: Engine, role_id: int) -> dict[str, RoleAttribute]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(RoleAttribute).where(RoleAttribute.role_id == role_id)).all()
        return {row.name: row for row in rows}


CONFIRMED = MappingStatus.CONFIRMED
PROPOSED = MappingStatus.PROPOSED
NEEDS_INFO = MappingStatus.NEEDS_INFO
