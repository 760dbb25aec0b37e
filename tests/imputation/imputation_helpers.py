"""Small projects built directly in the store for the imputation tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

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


# --------------------------------------------------------------------------------------------
# Answering imputation prompts on the fake LLM server (tests/fakes/llm_server.py)
# --------------------------------------------------------------------------------------------

_ROLE_JSON = re.compile(r"```json\s*(.*?)```", re.DOTALL)


def imputation_role(call: Any) -> dict[str, Any] | None:
    """The role JSON of an imputation prompt, or None for other prompts."""
    if "missing attributes of job roles" not in call.system:
        return None
    match = _ROLE_JSON.search(call.user)
    return json.loads(match.group(1)) if match else None


class ImputationAnswerer:
    """Answers every missing attribute with "<attribute> for <title>" at ``confidence``.

    ``extra`` answers are appended (e.g. an attribute that was not asked); ``confidence_for``
    overrides the confidence per attribute name (e.g. 1.7 to test clamping).
    """

    def __init__(self, confidence: float = 0.35) -> None:
        self.confidence = confidence
        self.confidence_for: dict[str, float] = {}
        self.extra: list[dict[str, Any]] = []
        self.roles: list[dict[str, Any]] = []

    def __call__(self, call: Any) -> dict[str, Any] | None:
        role = imputation_role(call)
        if role is None:
            return None
        self.roles.append(role)
        answers = [
            {
                "attribute_name": name,
                "value": f"{name} for {role['job_title']}",
                "confidence": self.confidence_for.get(name, self.confidence),
                "rationale": f"Typical for a {role['job_title']}.",
            }
            for name in role["missing_attributes"]
        ]
        return {"imputations": answers + self.extra, "context_used": "title and family"}
