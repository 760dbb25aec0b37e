"""Roles and project access in the services, on SQLite and Postgres.

The store of every test starts empty: the first name that acts becomes its admin, and while it has
that one user everything passes. From the second user on: an admin does everything; an analyst
creates projects and works in the projects they belong to; a viewer reads and exports those; a
name that is not a user gets nothing; a non-member does not see a project.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from jobforge.access import Permission, PermissionDenied, UserRole, allowed, require, visible_project_ids
from jobforge.access.manage import add_member, add_user
from jobforge.db.engine import session_factory
from jobforge.db.models import AppUser, AuditEvent, Job, Mapping, Project, RoleAttribute, Upload
from jobforge.export.writers import export_roles
from jobforge.imputation.overrides import set_attribute
from jobforge.ingest.uploads import create_upload
from jobforge.jobs.queue import cancel, enqueue
from jobforge.projects import archive_project, create_project, delete_project, list_projects
from jobforge.review.actions import add_note, bulk_confirm, choose_code, confirm, mark_needs_info, reopen
from tests.factories import REVIEW_CSV, make_review_project

ADMIN, ANALYST, VIEWER, OUTSIDER = "ann", "Alan Analyst", "Vera Viewer", "Olga Outsider"
ADMIN_ONLY = [
    Permission.RELEASE_MANAGE,
    Permission.CODEBOOK_MANAGE,
    Permission.DELETE,
    Permission.USERS_MANAGE,
    Permission.SECOND_OPINION_SAMPLE,
]


@pytest.fixture
def team(onet_engine: Engine) -> tuple[Engine, int]:
    """ann (the first user: admin) owns project Acme; an analyst and a viewer are members; an outsider is not."""
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        add_user(s, ANALYST, UserRole.ANALYST, ADMIN)
        add_user(s, VIEWER, UserRole.VIEWER, ADMIN)
        add_user(s, OUTSIDER, UserRole.ANALYST, ADMIN)
        add_member(s, made.project_id, ANALYST, ADMIN)
        add_member(s, made.project_id, VIEWER, ADMIN)
    return onet_engine, made.project_id


def test_the_first_user_of_a_new_store_is_its_admin_and_alone_needs_no_set_up(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as s:
        project = create_project(s, "Solo", "Sam")  # the first name that acts
        s.commit()
        sam = s.scalar(select(AppUser))
        assert (sam.name, sam.role) == ("Sam", "admin")
        assert s.scalar(select(AuditEvent.user).where(AuditEvent.action == "first_admin")) == "Sam"
        # One user: any name may work (the same person from the CLI under their OS name, say).
        require(s, "sam-laptop", Permission.RELEASE_MANAGE)
        assert visible_project_ids(s, "sam-laptop") is None
        second = create_project(s, "Second", "sam-laptop")
        assert {p.name for p in list_projects(s, "sam-laptop")} == {"Solo", "Second"}
        assert s.scalar(select(func.count(AppUser.id))) == 1  # nobody else was registered
        assert second.created_by == "sam-laptop" and project.created_by == "Sam"


@pytest.mark.parametrize("permission", ADMIN_ONLY)
def test_admin_actions_are_refused_to_analysts_and_viewers(team: tuple[Engine, int], permission: Permission) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        require(s, ADMIN, permission, project_id)
        for name, role in ((ANALYST, "an analyst"), (VIEWER, "a viewer")):
            with pytest.raises(PermissionDenied) as refused:
                require(s, name, permission, project_id)
            assert f"{name} is {role} and may not" in refused.value.message
            assert "an admin (ann) can make you an admin" in refused.value.message


def test_what_each_role_may_do_in_a_project_it_belongs_to(team: tuple[Engine, int]) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        for permission in (Permission.PROJECT_WRITE, Permission.PROJECT_READ, Permission.CODEBOOK_IMPORT):
            assert allowed(s, ANALYST, permission, project_id)
        assert allowed(s, ANALYST, Permission.PROJECT_CREATE)
        assert allowed(s, VIEWER, Permission.PROJECT_READ, project_id)
        for permission in (Permission.PROJECT_WRITE, Permission.PROJECT_CREATE, Permission.CODEBOOK_IMPORT):
            assert not allowed(s, VIEWER, permission, project_id)
        with pytest.raises(PermissionDenied, match="is not a user of this JobForge store"):
            require(s, "Nobody", Permission.PROJECT_READ, project_id)


def test_a_viewer_cannot_write(team: tuple[Engine, int]) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        roles = dict(s.execute(select(Mapping.role_id, Mapping.status)).all())
        role_id = next(iter(roles))
        attempts = {
            "create a project": lambda: create_project(s, "Mine", VIEWER),
            "upload": lambda: create_upload(s, project_id, "more.csv", REVIEW_CSV, None, "Job Title", {}, [], VIEWER),
            "confirm": lambda: confirm(s, role_id, VIEWER),
            "choose a code": lambda: choose_code(s, role_id, "29-1141.01", VIEWER),
            "flag": lambda: mark_needs_info(s, role_id, VIEWER, "why?"),
            "reopen": lambda: reopen(s, role_id, VIEWER),
            "note": lambda: add_note(s, role_id, VIEWER, "hello"),
            "bulk confirm": lambda: bulk_confirm(s, project_id, list(roles), VIEWER),
            "override": lambda: set_attribute(s, role_id, "Education", "PhD", VIEWER),
            "map": lambda: enqueue(s, "map", project_id, {"provider": "offline"}, VIEWER),
            "impute": lambda: enqueue(s, "impute", project_id, {}, VIEWER),
        }
        for what, attempt in attempts.items():
            try:
                attempt()
            except PermissionDenied as refused:
                assert refused.message.startswith("Vera Viewer is a viewer and may not"), refused.message
            else:
                pytest.fail(f"a viewer could {what}")
            s.rollback()
        export_roles(s, project_id, "csv", user=VIEWER)  # reading and exporting is what viewers do
    with session_factory(engine)() as s:
        assert dict(s.execute(select(Mapping.role_id, Mapping.status)).all()) == roles
        assert s.scalar(select(func.count(Upload.id))) == 1 and s.scalar(select(func.count(Job.id))) == 0
        assert not s.scalar(select(func.count(RoleAttribute.id)).where(RoleAttribute.updated_by == VIEWER))
        assert not s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.user == VIEWER))


def test_an_analyst_writes_in_their_projects(team: tuple[Engine, int]) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        role_id = s.scalar(select(Mapping.role_id).limit(1))
        assert confirm(s, role_id, ANALYST).confirmed_by == ANALYST
        job = enqueue(s, "map", project_id, {"provider": "offline"}, ANALYST)
        with pytest.raises(PermissionDenied):
            cancel(s, job.id, VIEWER)
        assert cancel(s, job.id, ANALYST)


def test_a_non_member_cannot_see_a_project(team: tuple[Engine, int]) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        role_id = s.scalar(select(Mapping.role_id).limit(1))
        own = create_project(s, "Olga's", OUTSIDER)  # analysts create projects and are their members
        assert [p.name for p in list_projects(s, OUTSIDER)] == ["Olga's"]
        assert visible_project_ids(s, OUTSIDER) == {own.id}
        for attempt in (
            lambda: export_roles(s, project_id, "csv", user=OUTSIDER),
            lambda: confirm(s, role_id, OUTSIDER),
            lambda: enqueue(s, "map", project_id, {}, OUTSIDER),
        ):
            with pytest.raises(PermissionDenied) as refused:
                attempt()
            s.rollback()
            assert refused.value.message.startswith("Olga Outsider is not a member of this project")
            assert "Acme" not in refused.value.message  # not even the project's name
        # Members see it, admins see everything, a name that is not a user sees nothing.
        assert [p.name for p in list_projects(s, VIEWER)] == ["Acme"]
        assert {p.name for p in list_projects(s, ADMIN)} == {"Acme", "Olga's"}
        assert list_projects(s, "Nobody") == []


def test_deleting_a_project_is_for_admins(team: tuple[Engine, int]) -> None:
    engine, project_id = team
    with session_factory(engine)() as s:
        with pytest.raises(PermissionDenied, match="may not delete"):
            archive_project(s, project_id, ANALYST)
        with pytest.raises(PermissionDenied, match="may not delete"):
            delete_project(s, project_id, ANALYST, confirmation="Acme")
        archive_project(s, project_id, ADMIN)
        delete_project(s, project_id, ADMIN, confirmation="Acme")
        assert s.get(Project, project_id) is None
