"""A team and a decided project for second-opinion tests (on the tiny O*NET release).

Users: Ada (admin), Ann, Bob, Cy (analysts, members), Vi (viewer, member). Decisions:
Ann confirms Staff Accountant and Java Developer and overrides ICU Nurse to 29-1141.01; Bob
confirms Line Cook; Ann bulk-confirms Call Center Agent; the formula-looking role has no proposal.
"""

from __future__ import annotations

from sqlalchemy import Engine

from jobforge.access.manage import add_member, add_user
from jobforge.db.engine import session_factory
from jobforge.review.actions import bulk_confirm, choose_code, confirm
from tests.review.review_helpers import ReviewProject, make_review_project

ADMIN, FIRST, SECOND, THIRD, VIEWER = "Ada", "Ann", "Bob", "Cy", "Vi"
ONE_BY_ONE = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.01"}


def make_team(engine: Engine) -> None:
    """The users (added once; the project helper creates projects as "ann", an analyst)."""
    for name, role in (
        (ADMIN, "admin"),
        (FIRST, "analyst"),
        (SECOND, "analyst"),
        (THIRD, "analyst"),
        (VIEWER, "viewer"),
    ):
        with session_factory(engine)() as s:
            add_user(s, name, role, ADMIN)


def add_members(engine: Engine, project_id: int) -> None:
    for name in (FIRST, SECOND, THIRD, VIEWER):
        with session_factory(engine)() as s:
            add_member(s, project_id, name, ADMIN)


def make_decided_project(engine: Engine, name: str = "Acme") -> ReviewProject:
    """The review project with the team as its members and the decisions above."""
    make_team(engine)
    made = make_review_project(engine, name)
    add_members(engine, made.project_id)
    ids = made.role_ids
    with session_factory(engine)() as s:
        confirm(s, ids["Staff Accountant"], FIRST)
        confirm(s, ids["Java Developer"], FIRST)
        choose_code(s, ids["ICU Nurse"], "29-1141.01", FIRST)
        confirm(s, ids["Line Cook"], SECOND)
        bulk_confirm(s, made.project_id, [ids["Call Center Agent"]], FIRST)
    return made
