"""Test data built the same way everywhere: projects, uploads, roles, mappings, decisions.

Two ways in, both through the real store (SQLite or Postgres, whichever ``engine`` is):

- *as an analyst would*: :func:`make_project`, :func:`upload_file`, :func:`make_review_project`,
  :func:`upload_ward`, :func:`make_decided_project` call the services (permission checks, audit
  events, unique roles from a real file);
- *straight into the tables*: :func:`build_project` (roles from :class:`RoleSpec`) and
  :func:`add_mapping` / :func:`propose`, for a state the services would need many steps to reach.

Import with ``from tests.factories import ...`` (pytest puts the checkout on ``sys.path``:
``pythonpath`` in pyproject.toml). Users: projects are created by ``"ann"`` unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.access.manage import add_member, add_user
from jobforge.db import models
from jobforge.db.engine import session_factory
from jobforge.db.models import MappingStatus, Project, Role, RoleAttribute, SourceType, Upload
from jobforge.ingest.uploads import create_upload
from jobforge.onet.repository import OnetRepository, require_active_release
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key
from jobforge.review.actions import bulk_confirm, choose_code, confirm

USER = "ann"
CONFIRMED = MappingStatus.CONFIRMED
PROPOSED = MappingStatus.PROPOSED
NEEDS_INFO = MappingStatus.NEEDS_INFO
SCORES = {"HIGH": 0.95, "MEDIUM": 0.75, "LOW": 0.5}  # the stored score follows the tier


# -- projects, uploads, roles (through the services) --------------------------------------------


def make_project(engine: Engine, name: str = "Acme", user: str = USER) -> int:
    """A new, empty project created by ``user``; its id."""
    with session_factory(engine)() as session:
        project = create_project(session, name, user)
        session.commit()
        return project.id


def upload_file(
    engine: Engine,
    project_id: int,
    data: str | bytes,
    *,
    title_column: str = "Job Title",
    context: Mapping[str, str] | None = None,
    attributes: Iterable[str] = (),
    filename: str = "roles.csv",
    user: str = USER,
) -> int:
    """``data`` (CSV or XLSX bytes, or CSV text) uploaded to the project as the Upload page would
    (``context``: field -> column, ``attributes``: attribute columns); the upload's id."""
    content = data.encode() if isinstance(data, str) else data
    with session_factory(engine)() as session:
        upload = create_upload(
            session, project_id, filename, content, None, title_column, dict(context or {}), list(attributes), user
        )
        return upload.id


def role_ids(engine: Engine, project_id: int) -> dict[str, int]:
    """The project's roles: title -> role id."""
    with session_factory(engine)() as session:
        return dict(session.execute(select(Role.title, Role.id).where(Role.project_id == project_id)).all())


# -- mappings (straight into the table) ---------------------------------------------------------


def add_mapping(
    session: Session,
    role_id: int,
    code: str,
    *,
    title: str | None = None,
    tier: str = "HIGH",
    status: str = PROPOSED,
    rationale: str | None = None,
    candidates: list[dict[str, Any]] | None = None,
    release_id: int | None = None,
) -> models.Mapping:
    """Add a stored proposal (or, with ``status``, a decision) for the role to ``session``; the
    caller commits. ``title`` defaults to the code; the score follows the tier."""
    given = {"rationale": rationale, "candidates": candidates, "release_id": release_id}
    mapping = models.Mapping(
        role_id=role_id,
        onet_code=code,
        onet_title=title or code,
        tier=tier,
        score=SCORES[tier],
        source="offline",
        status=status,
        **{name: value for name, value in given.items() if value is not None},  # else the model's defaults
    )
    session.add(mapping)
    return mapping


def propose(engine: Engine, role_id: int, code: str, status: str = PROPOSED) -> None:
    """Store a HIGH proposal (or, with ``status``, a decision) of ``code`` for the role."""
    with session_factory(engine)() as session:
        add_mapping(session, role_id, code, status=status)
        session.commit()


# -- the review project: uploaded roles with proposals on the tiny O*NET release ---------------

REVIEW_CSV = (
    b"Job Title,Job Family,Department,Headcount,Education,SOC\n"
    b"Staff Accountant,Finance,Accounting,3,Bachelor,13-2011\n"
    b"staff accountant,Finance,Accounting,2,,13-2011\n"
    b"Java Developer,Technology,IT,5,Bachelor,\n"
    b"ICU Nurse,Health,Ward 3,4,,\n"
    b"Line Cook,Hospitality,Kitchen,6,,\n"
    b"Call Center Agent,Service,Support,2,High school,\n"
    b'=HYPERLINK("http://x"),Finance,Accounting,1,,\n'
)
REVIEW_CONTEXT = {"job_family": "Job Family", "department": "Department", "headcount": "Headcount", "unit_group": "SOC"}
# title -> (code, tier, candidate codes); the formula-looking role gets no proposal
PROPOSALS = {
    "Staff Accountant": ("13-2011.00", "HIGH", ["13-2011.00", "11-1011.00"]),
    "Java Developer": ("15-1252.00", "HIGH", ["15-1252.00", "43-4051.00"]),
    "ICU Nurse": ("29-1141.00", "MEDIUM", ["29-1141.00", "29-1141.01"]),
    "Line Cook": ("35-2014.00", "LOW", ["35-2014.00", "53-3032.00"]),
    "Call Center Agent": ("43-4051.00", "LOW", ["43-4051.00"]),
}


@dataclass
class ReviewProject:
    project_id: int
    role_ids: dict[str, int]  # title -> role id


def make_review_project(engine: Engine, name: str = "Acme", with_mappings: bool = True) -> ReviewProject:
    """REVIEW_CSV uploaded by ann (Education as an attribute column) and, with ``with_mappings``,
    the PROPOSALS stored as offline proposals with their candidates. Needs the tiny release loaded."""
    project_id = make_project(engine, name)
    upload_file(engine, project_id, REVIEW_CSV, context=REVIEW_CONTEXT, attributes=["Education"])
    roles = role_ids(engine, project_id)
    if with_mappings:
        with session_factory(engine)() as session:
            release = require_active_release(session)
            repo = OnetRepository(session)
            for title, (code, tier, candidate_codes) in PROPOSALS.items():
                add_mapping(
                    session,
                    roles[title],
                    code,
                    title=repo.get_by_code(code).title,
                    tier=tier,
                    rationale=f"exact match on alternate title '{title}'",
                    candidates=_candidates(repo, title, candidate_codes),
                    release_id=release.id,
                )
            session.commit()
    return ReviewProject(project_id=project_id, role_ids=roles)


def _candidates(repo: OnetRepository, title: str, codes: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "title": repo.get_by_code(code).title,
            "score": 10.0 - rank,
            "matched_on": "alternate_title",
            "matched_text": title,
            "exact": rank == 0,
            "rank": rank + 1,
        }
        for rank, code in enumerate(codes)
    ]


# -- decisions: a team and a decided review project --------------------------------------------

ADMIN, FIRST, SECOND, THIRD, VIEWER = "Ada", "Ann", "Bob", "Cy", "Vi"
ONE_BY_ONE = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.01"}


def make_team(engine: Engine) -> None:
    """Ada (admin), Ann, Bob, Cy (analysts) and Vi (viewer), added once per store."""
    team = ((ADMIN, "admin"), (FIRST, "analyst"), (SECOND, "analyst"), (THIRD, "analyst"), (VIEWER, "viewer"))
    for name, role in team:
        with session_factory(engine)() as session:
            add_user(session, name, role, ADMIN)


def add_members(engine: Engine, project_id: int) -> None:
    for name in (FIRST, SECOND, THIRD, VIEWER):
        with session_factory(engine)() as session:
            add_member(session, project_id, name, ADMIN)


def make_decided_project(engine: Engine, name: str = "Acme") -> ReviewProject:
    """The review project with the team as its members and these decisions: Ann confirms Staff
    Accountant and Java Developer and overrides ICU Nurse to 29-1141.01; Bob confirms Line Cook;
    Ann bulk-confirms Call Center Agent; the formula-looking role has no proposal."""
    make_team(engine)
    made = make_review_project(engine, name)
    add_members(engine, made.project_id)
    ids = made.role_ids
    with session_factory(engine)() as session:
        confirm(session, ids["Staff Accountant"], FIRST)
        confirm(session, ids["Java Developer"], FIRST)
        choose_code(session, ids["ICU Nurse"], "29-1141.01", FIRST)
        confirm(session, ids["Line Cook"], SECOND)
        bulk_confirm(session, made.project_id, [ids["Call Center Agent"]], FIRST)
    return made


# -- a ward's staff list: person-level and role-level attribute columns -------------------------

WARD_ATTRIBUTES = ["Years Experience", "Education", "Shift"]
# "Years Experience" varies by person (and says so in its name); "Shift" varies without saying so;
# "Education" is the same for every row of a role (a requirement). The nurse rows disagree on years
# (3, 3, 6.5, empty, 1), so the role's value is "3 · 2 of 4 rows", never "SOURCE 100%".
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


def upload_ward(engine: Engine, data: str | bytes = WARD_CSV, name: str = "Ward", filename: str = "ward.csv") -> int:
    """A project with the ward uploaded (Job Family as context, the three attribute columns); its id."""
    project_id = make_project(engine, name)
    context = {"job_family": "Job Family"}
    upload_file(engine, project_id, data, context=context, attributes=WARD_ATTRIBUTES, filename=filename)
    return project_id


# -- projects built straight in the store (the imputation tests) --------------------------------


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
    """A project with one upload declaring ``attributes`` and the given roles, written straight
    into the tables (no file, no audit); returns (project id, title -> role id)."""
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
        ids = {spec.title: _add_role(session, project.id, upload.id, spec) for spec in roles}
        session.commit()
        return project.id, ids


def _add_role(session: Session, project_id: int, upload_id: int, spec: RoleSpec) -> int:
    role = Role(
        project_id=project_id,
        upload_id=upload_id,
        title=spec.title,
        title_key=title_key(spec.title),
        job_family=spec.family,
        job_function=spec.function,
        department=spec.department,
        unit_group=spec.unit_group,
    )
    session.add(role)
    session.flush()
    for name, value in spec.source.items():
        session.add(RoleAttribute(role_id=role.id, name=name, value=value, source_type=SourceType.SOURCE))
    if spec.mapping:
        code, status = spec.mapping
        add_mapping(session, role.id, code, status=status)
    return role.id


# -- reading attribute values back ---------------------------------------------------------------


def cell(session: Session, role_id: int, name: str) -> RoleAttribute | None:
    """The role's current value of attribute ``name`` (re-read from the store)."""
    session.expire_all()
    return session.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name))


def cells(engine: Engine, role_id: int) -> dict[str, RoleAttribute]:
    """The role's attribute values by name."""
    with session_factory(engine)() as session:
        rows = session.scalars(select(RoleAttribute).where(RoleAttribute.role_id == role_id)).all()
        return {row.name: row for row in rows}
