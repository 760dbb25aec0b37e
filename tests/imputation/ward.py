"""A ward's staff list: one row per person, with person-level and role-level attribute columns.

"Years Experience" varies by person (and says so in its name); "Shift" varies without saying so;
"Education" is the same for every row of a role (a requirement). The nurse rows disagree on years
(3, 3, 6.5, empty, 1), so the role's value is "3 · 2 of 4 rows", never "SOURCE 100%".
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from jobforge.ingest.uploads import create_upload
from jobforge.projects import create_project

ATTRIBUTES = ["Years Experience", "Education", "Shift"]
WARD_CSV = (
    "Employee,Job Title,Job Family,Years Experience,Education,Shift\n"
    "E1,Registered Nurse,Clinical,3,Bachelor's Degree,Day\n"
    "E2,registered nurse,Clinical,3,Bachelor's Degree,Night\n"
    "E3,Registered Nurse,Clinical,6.5,Bachelor's Degree,Day\n"
    "E4,Registered Nurse,Clinical,,Bachelor's Degree,Night\n"
    "E5,Registered Nurse,Clinical,1,,Day\n"
    "E6,Line Cook,Hospitality,2,High school,Day\n"
    "E7,Line Cook,Hospitality,2,High school,Day\n"
    "E8,Staff Nurse,Clinical,,,\n"
)


def upload_ward(engine: Engine, data: str = WARD_CSV, name: str = "Ward", filename: str = "ward.csv") -> int:
    """A project with the ward uploaded (Job Family as context, the three attribute columns); its id."""
    with session_factory(engine)() as session:
        project = create_project(session, name, "ann")
        session.commit()
        create_upload(
            session,
            project.id,
            filename,
            data.encode() if isinstance(data, str) else data,
            None,
            "Job Title",
            {"job_family": "Job Family"},
            ATTRIBUTES,
            "ann",
        )
        return project.id


def role_ids(engine: Engine, project_id: int) -> dict[str, int]:
    with session_factory(engine)() as session:
        return dict(session.execute(select(Role.title, Role.id).where(Role.project_id == project_id)).all())


def propose(engine: Engine, role_id: int, code: str, status: str = "proposed") -> None:
    """Store a proposal (or, with ``status``, a decision) for the role."""
    with session_factory(engine)() as session:
        session.add(
            Mapping(
                role_id=role_id,
                onet_code=code,
                onet_title=code,
                tier="HIGH",
                score=0.95,
                source="offline",
                status=status,
            )
        )
        session.commit()
