"""Deleting from the pages: an upload and a project on Projects, a role on Review (SQLite and Postgres)."""

from __future__ import annotations

from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Project, Role, Upload
from jobforge.ingest.uploads import create_upload
from jobforge.projects import project_stats
from tests.ui.conftest import USER, texts

MORE_CSV = (
    "Employee ID,Job Title,Job Family,Department,Education\n"
    "20,Line Cook,Hospitality,Kitchen,\n"
    "21,Line Cook,Hospitality,Kitchen,\n"
    "22,Pastry Chef,Hospitality,Kitchen,\n"
    "23,TBD,Hospitality,Kitchen,\n"
    "24,,Hospitality,Kitchen,\n"
)


def _add_more(engine, project_id: int) -> int:
    with session_factory(engine)() as s:
        return create_upload(
            s, project_id, "more.csv", MORE_CSV.encode(), None, "Job Title", {}, ["Education"], USER
        ).id


def test_delete_an_upload_from_the_projects_page(open_app, ui_engine, mapped_project):
    more = _add_more(ui_engine, mapped_project)
    at = open_app(None, mapped_project)
    shown = texts(at)
    assert "**more\\.csv** · 5 rows · 2 without a title" in shown
    assert "2 row(s) have no title (1 of them placeholders such as 'TBD' or 'Vacant')" in shown
    with session_factory(ui_engine)() as s:
        cook = s.scalar(select(Role).where(Role.project_id == mapped_project, Role.title == "Line Cook"))
        assert cook.row_count == 3

    at.button(key=f"delete_upload_{more}").click().run()
    assert "Delete “more\\.csv”?" in texts(at)
    with session_factory(ui_engine)() as s:
        assert s.get(Upload, more) is not None  # nothing goes before the second click
    at.button(key=f"confirm_delete_upload_{more}").click().run()
    assert "1 roles only it contributed were deleted, 1 shared roles keep the other uploads' rows" in texts(at)
    with session_factory(ui_engine)() as s:
        assert s.get(Upload, more) is None
        assert s.scalar(select(Role.row_count).where(Role.title == "Line Cook")) == 1
        assert s.scalar(select(Role.id).where(Role.title == "Pastry Chef")) is None
        assert project_stats(s, mapped_project).rows == 13
    assert "**more\\.csv**" not in texts(at) and "have no title" not in texts(at)


def test_archive_then_delete_a_project_by_typing_its_name(open_app, ui_engine, mapped_project):
    at = open_app(None, mapped_project)
    at.button(key="archive_project").click().run()
    assert "Archived “Acme”" in texts(at)
    with session_factory(ui_engine)() as s:
        assert s.get(Project, mapped_project).archived_at is not None
    assert at.button(key=f"delete_project_{mapped_project}").disabled
    at.text_input(key=f"delete_confirm_{mapped_project}").input("acme").run()
    assert at.button(key=f"delete_project_{mapped_project}").disabled
    at.text_input(key=f"delete_confirm_{mapped_project}").input("Acme").run()
    at.button(key=f"delete_project_{mapped_project}").click().run()
    assert "Deleted project “Acme” and all its data" in texts(at)
    with session_factory(ui_engine)() as s:
        assert s.get(Project, mapped_project) is None
        assert s.scalar(select(func.count()).select_from(Role)) == 0
        assert s.scalar(select(AuditEvent.before).where(AuditEvent.action == "delete_project"))["name"] == "Acme"


def test_delete_a_role_from_the_review_panel(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    with session_factory(ui_engine)() as s:
        role_id = s.scalar(select(Role.id).where(Role.title == "Line Cook"))
    at.session_state["review_selected"] = role_id
    at.run()
    at.button(key=f"delete_role_{role_id}").click().run()
    at.button(key=f"confirm_delete_role_{role_id}").click().run()
    assert not at.exception
    with session_factory(ui_engine)() as s:
        assert s.get(Role, role_id) is None
    assert role_id not in [rid for rid, _ in at.session_state["review_order"]]
    assert at.session_state["review_selected"] != role_id
    assert "0 of 11 roles confirmed" in at.get("progress")[0].proto.text
