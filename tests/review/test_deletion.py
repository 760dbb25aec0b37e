"""Deleting an upload, a role, a project: what goes, what stays, and the counts agreeing afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobforge.access.manage import add_user
from jobforge.access.permissions import PermissionDenied, UserRole
from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Project, Role, RoleAttribute, RowValueCount, Upload
from jobforge.export.writers import export_frame
from jobforge.ingest.uploads import create_upload
from jobforge.projects import (
    ProjectError,
    archive_project,
    delete_project,
    list_projects,
    project_stats,
    restore_project,
)
from jobforge.review.deletion import DeletionError, delete_role, delete_upload, project_uploads
from tests.review.review_helpers import make_review_project

SECOND = (
    b"Job Title,Job Family,Department,Headcount,Education,SOC\n"
    b"Staff Accountant,Finance,Accounting,4,Master,\n"
    b"Staff Accountant,Finance,Accounting,1,Master,\n"
    b"Staff Accountant,Finance,Accounting,1,Master,\n"
    b"Truck Driver,Logistics,Fleet,7,,\n"
    b"TBD,Logistics,Fleet,1,,\n"
    b",Logistics,Fleet,1,,\n"
)


def _second_upload(engine, project_id: int) -> int:
    with session_factory(engine)() as s:
        upload = create_upload(
            s,
            project_id,
            "more.csv",
            SECOND,
            None,
            "Job Title",
            {"job_family": "Job Family", "department": "Department", "headcount": "Headcount"},
            ["Education"],
            "ann",
        )
        return upload.id


def _role(s, project_id: int, title: str) -> Role | None:
    return s.scalar(select(Role).where(Role.project_id == project_id, Role.title == title))


def _education(s, role_id: int) -> RoleAttribute | None:
    return s.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == "Education"))


def _agree(s, project_id: int) -> None:
    """Upload list, review grid and per-row export tell the same row count."""
    uploads = project_uploads(s, project_id)
    stats = project_stats(s, project_id)
    titled = sum(upload.rows - upload.blank_titles for upload in uploads)
    assert stats.rows == titled
    rows = export_frame(s, project_id, rows="original")
    assert len(rows) == sum(upload.rows for upload in uploads)
    assert int(rows["role_id"].notna().sum()) == stats.rows


def test_deleting_the_second_upload_gives_back_the_first_ones_figures(onet_engine):
    made = make_review_project(onet_engine)
    second = _second_upload(onet_engine, made.project_id)
    with session_factory(onet_engine)() as s:
        accountant = _role(s, made.project_id, "Staff Accountant")
        assert accountant.row_count == 5 and accountant.headcount == 11
        assert _education(s, accountant.id).value == "Master"  # 3 of 4 rows with a value
        listed = {u.filename: u for u in project_uploads(s, made.project_id)}
        assert (listed["more.csv"].rows, listed["more.csv"].blank_titles, listed["more.csv"].placeholder_titles) == (
            6,
            2,
            1,
        )
        _agree(s, made.project_id)

    with session_factory(onet_engine)() as s:
        result = delete_upload(s, second, "ann")
    assert (result.roles_removed, result.roles_kept, result.removed_titles) == (1, 1, ["Truck Driver"])
    with session_factory(onet_engine)() as s:
        assert s.get(Upload, second) is None
        assert _role(s, made.project_id, "Truck Driver") is None
        accountant = _role(s, made.project_id, "Staff Accountant")
        assert accountant.row_count == 2 and accountant.headcount == 5
        education = _education(s, accountant.id)
        assert (education.value, education.source_type) == ("Bachelor", "SOURCE")
        assert s.scalar(select(func.count()).select_from(RowValueCount).where(RowValueCount.upload_id == second)) == 0
        assert project_stats(s, made.project_id).rows == 7
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "delete_upload"))
        assert event.user == "ann" and event.before["filename"] == "more.csv" and event.after["roles_removed"] == 1
        _agree(s, made.project_id)


def test_deleting_the_first_upload_keeps_the_roles_the_second_shares(onet_engine):
    made = make_review_project(onet_engine)
    _second_upload(onet_engine, made.project_id)
    with session_factory(onet_engine)() as s:
        first = s.scalar(select(Upload.id).where(Upload.filename == "roles.csv"))
        mapped_before = s.scalar(select(func.count()).select_from(Mapping))
    with session_factory(onet_engine)() as s:
        result = delete_upload(s, first, "ann")
    assert result.roles_kept == 1 and result.roles_removed == 5  # all but Staff Accountant
    with session_factory(onet_engine)() as s:
        titles = {role.title for role in s.scalars(select(Role).where(Role.project_id == made.project_id))}
        assert titles == {"Staff Accountant", "Truck Driver"}
        accountant = _role(s, made.project_id, "Staff Accountant")
        assert accountant.row_count == 3 and accountant.headcount == 6
        assert accountant.mapping is not None  # the decision about a kept role stays
        assert s.scalar(select(func.count()).select_from(Mapping)) == mapped_before - 4
        assert _education(s, accountant.id).value == "Master"
        _agree(s, made.project_id)


def test_deleting_a_role_takes_it_out_of_every_count(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Line Cook"]
    with session_factory(onet_engine)() as s:
        before = project_stats(s, made.project_id)
    with session_factory(onet_engine)() as s:
        result = delete_role(s, role_id, "ann")
    assert (result.title, result.rows) == ("Line Cook", 1)
    with session_factory(onet_engine)() as s:
        assert s.get(Role, role_id) is None
        assert s.scalar(select(Mapping).where(Mapping.role_id == role_id)) is None
        stats = project_stats(s, made.project_id)
        assert (stats.roles, stats.rows) == (before.roles - 1, before.rows - 1)
        rows = export_frame(s, made.project_id, rows="original")
        assert "Line Cook" not in set(rows["Job Title"]) and len(rows) == stats.rows
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "delete_role"))
        assert event.before["title"] == "Line Cook" and event.before["mapping"]["onet_code"] == "35-2014.00"


def test_deleting_needs_the_delete_permission_and_an_existing_target(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        add_user(s, "Alex Analyst", UserRole.ANALYST, "ann")
    with session_factory(onet_engine)() as s, pytest.raises(PermissionDenied):
        delete_role(s, made.role_ids["Line Cook"], "Alex Analyst")
    with session_factory(onet_engine)() as s:
        with pytest.raises(DeletionError, match="no upload with id 999"):
            delete_upload(s, 999, "ann")
        assert s.get(Role, made.role_ids["Line Cook"]) is not None


def test_a_project_is_archived_then_deleted_with_its_name_typed(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s, pytest.raises(ProjectError, match="Archive 'Acme' first"):
        delete_project(s, made.project_id, "ann", confirmation="Acme")
    with session_factory(onet_engine)() as s:
        archive_project(s, made.project_id, "ann")
    with session_factory(onet_engine)() as s:
        assert list_projects(s) == []
        assert [p.name for p in list_projects(s, archived=True)] == ["Acme"]
    with session_factory(onet_engine)() as s:
        restore_project(s, made.project_id, "ann")
        assert [p.name for p in list_projects(s)] == ["Acme"]
    with session_factory(onet_engine)() as s:
        archive_project(s, made.project_id, "ann")
    with session_factory(onet_engine)() as s, pytest.raises(ProjectError, match="Type the project's name"):
        delete_project(s, made.project_id, "ann", confirmation="acme")
    with session_factory(onet_engine)() as s:
        delete_project(s, made.project_id, "ann", confirmation="Acme")
    with session_factory(onet_engine)() as s:
        assert s.get(Project, made.project_id) is None
        assert s.scalar(select(func.count()).select_from(Role)) == 0
        actions = set(s.scalars(select(AuditEvent.action)))
        assert {"archive_project", "restore_project", "delete_project"} <= actions
