"""A small reviewed-to-be project on the tiny O*NET release: uploaded roles with stored proposals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from jobforge.ingest.uploads import create_upload
from jobforge.onet.repository import require_active_release
from jobforge.projects import create_project

CSV = (
    b"Job Title,Job Family,Department,Headcount,Education,SOC\n"
    b"Staff Accountant,Finance,Accounting,3,Bachelor,13-2011\n"
    b"staff accountant,Finance,Accounting,2,,13-2011\n"
    b"Java Developer,Technology,IT,5,Bachelor,\n"
    b"ICU Nurse,Health,Ward 3,4,,\n"
    b"Line Cook,Hospitality,Kitchen,6,,\n"
    b"Call Center Agent,Service,Support,2,High school,\n"
    b'=HYPERLINK("http://x"),Finance,Accounting,1,,\n'
)
# title -> (code, tier, candidate codes)
PROPOSALS = {
    "Staff Accountant": ("13-2011.00", "HIGH", ["13-2011.00", "11-1011.00"]),
    "Java Developer": ("15-1252.00", "HIGH", ["15-1252.00", "43-4051.00"]),
    "ICU Nurse": ("29-1141.00", "MEDIUM", ["29-1141.00", "29-1141.01"]),
    "Line Cook": ("35-2014.00", "LOW", ["35-2014.00", "53-3032.00"]),
    "Call Center Agent": ("43-4051.00", "LOW", ["43-4051.00"]),
}
SCORES = {"HIGH": 0.95, "MEDIUM": 0.75, "LOW": 0.5}


@dataclass
class ReviewProject:
    project_id: int
    role_ids: dict[str, int]  # title -> role id


def make_review_project(engine: Engine, name: str = "Acme", with_mappings: bool = True) -> ReviewProject:
    with session_factory(engine)() as session:
        project = create_project(session, name, "ann")
        create_upload(
            session,
            project.id,
            "roles.csv",
            CSV,
            None,
            "Job Title",
            {"job_family": "Job Family", "department": "Department", "headcount": "Headcount", "unit_group": "SOC"},
            ["Education"],
            "ann",
        )
        release = require_active_release(session)
        roles = {role.title: role.id for role in session.scalars(select(Role).where(Role.project_id == project.id))}
        if with_mappings:
            from jobforge.onet.repository import OnetRepository

            repo = OnetRepository(session)
            for title, (code, tier, candidate_codes) in PROPOSALS.items():
                candidates = [
                    {
                        "code": c,
                        "title": repo.get_by_code(c).title,
                        "score": 10.0 - rank,
                        "matched_on": "alternate_title",
                        "matched_text": title,
                        "exact": rank == 0,
                        "rank": rank + 1,
                    }
                    for rank, c in enumerate(candidate_codes)
                ]
                session.add(
                    Mapping(
                        role_id=roles[title],
                        onet_code=code,
                        onet_title=repo.get_by_code(code).title,
                        tier=tier,
                        score=SCORES[tier],
                        rationale=f"exact match on alternate title '{title}'",
                        source="offline",
                        candidates=candidates,
                        release_id=release.id,
                    )
                )
            session.commit()
        return ReviewProject(project_id=project.id, role_ids=roles)
