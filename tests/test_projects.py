"""Projects: creation rules, listing, deletion and the statistics the home page shows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Role, Upload
from jobforge.projects import (
    ProjectError,
    archive_project,
    create_project,
    delete_project,
    get_project,
    list_projects,
    project_stats,
)
from jobforge.review.actions import choose_code, confirm, mark_needs_info
from tests.factories import make_review_project


def test_create_and_list_projects(engine):
    with session_factory(engine)() as session:
        first = create_project(session, "  Acme   2026 ", "ann")
        create_project(session, "Globex", "bob")
        assert first.name == "Acme 2026" and first.created_by == "ann"
        assert {project.name for project in list_projects(session)} == {"Acme 2026", "Globex"}
        assert get_project(session, first.id).name == "Acme 2026"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "create_project"))
        assert event.user == "ann"


@pytest.mark.parametrize(
    ("name", "message"), [("acme", "already exists"), ("  ", "Give the project a name"), ("x" * 201, "at most 200")]
)
def test_bad_project_names_are_refused(engine, name, message):
    with session_factory(engine)() as session:
        create_project(session, "Acme", "ann")
        with pytest.raises(ProjectError, match=message):
            create_project(session, name, "ann")
        assert len(list_projects(session)) == 1


def test_unknown_project_is_a_clear_error(engine):
    with session_factory(engine)() as session, pytest.raises(ProjectError, match="does not exist"):
        get_project(session, 999)


def test_stats_count_roles_rows_tiers_and_decisions(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        stats = project_stats(session, made.project_id)
        assert (stats.roles, stats.rows, stats.mapped, stats.unmapped, stats.confirmed) == (6, 7, 5, 1, 0)
        assert stats.tiers == {"HIGH": 2, "MEDIUM": 1, "LOW": 2}
        assert stats.major_groups == {"13": 1, "15": 1, "29": 1, "35": 1, "43": 1}
        assert stats.headcount == 23.0 and stats.uploads == 1

        confirm(session, made.role_ids["Staff Accountant"], "ann")
        choose_code(session, made.role_ids["Line Cook"], "53-3032.00", "ann")
        mark_needs_info(session, made.role_ids["ICU Nurse"], "ann")
        stats = project_stats(session, made.project_id)
        assert (stats.confirmed, stats.confirmed_unchanged, stats.overridden, stats.needs_info) == (2, 1, 1, 1)
        assert stats.share_confirmed == pytest.approx(2 / 6)
        assert stats.major_groups["53"] == 1 and "35" not in stats.major_groups


def test_delete_project_removes_its_data_and_keeps_the_audit_log(onet_engine):
    made = make_review_project(onet_engine)
    other = make_review_project(onet_engine, name="Other")
    with session_factory(onet_engine)() as session:
        archive_project(session, made.project_id, "ann")
        delete_project(session, made.project_id, "ann", confirmation="Acme")
    with session_factory(onet_engine)() as session:
        assert [project.name for project in list_projects(session)] == ["Other"]
        assert session.scalar(select(func.count()).select_from(Role)) == 6
        assert session.scalar(select(func.count()).select_from(Upload)) == 1
        assert session.scalar(select(func.count()).select_from(Mapping)) == 5
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "delete_project"))
        assert event.entity_id == made.project_id and event.before["roles"] == 6
        assert project_stats(session, other.project_id).roles == 6
