"""Managing access and auditing admin actions, on SQLite and Postgres: users, roles, members, O*NET releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from jobforge.access import PermissionDenied, UserRole, visible_project_ids
from jobforge.access.manage import add_member, add_user, remove_member, remove_user, set_role
from jobforge.access.users import UserError, find_user
from jobforge.db.engine import make_engine, session_factory
from jobforge.db.migrate import upgrade
from jobforge.db.models import AuditEvent, OnetRelease, OnetSyncLog, ProjectMember
from jobforge.onet.loader import load_release
from jobforge.onet.releases import activate_release
from jobforge.onet.sync import OnetSyncService
from jobforge.projects import create_project


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_first_user_added_is_the_admin_and_the_store_keeps_one(engine: Engine) -> None:
    with session_factory(engine)() as s:
        with pytest.raises(UserError, match="first user of a store is its admin"):
            add_user(s, "Bob", UserRole.ANALYST, "root")
        add_user(s, "Ada  Lovelace", UserRole.ADMIN, "root")  # set-up: "root" needs no rights, is not added
        assert find_user(s, "ada lovelace").name == "Ada Lovelace"  # case and spacing do not make another user
        assert find_user(s, "root") is None
        add_user(s, "Bob", "analyst", "Ada Lovelace")
        assert add_user(s, "BOB", "analyst", "Ada Lovelace").name == "Bob"  # again, same role: nothing changes
        with pytest.raises(UserError, match="already a user"):
            add_user(s, "bob", "viewer", "Ada Lovelace")
        with pytest.raises(PermissionDenied, match="Bob is an analyst and may not add users"):
            add_user(s, "Eve", "admin", "Bob")
        s.rollback()
        with pytest.raises(UserError, match="at least one admin"):
            set_role(s, "Ada Lovelace", "analyst", "Ada Lovelace")
        with pytest.raises(UserError, match="at least one admin"):
            remove_user(s, "Ada Lovelace", "Ada Lovelace")
        s.rollback()
        set_role(s, "Bob", "admin", "Ada Lovelace")
        set_role(s, "Ada Lovelace", "viewer", "Bob")  # another admin exists now
        assert find_user(s, "Ada Lovelace").role == "viewer"
    assert [e.after for e in _events(engine, "set_role")] == [
        {"name": "Bob", "role": "admin"},
        {"name": "Ada Lovelace", "role": "viewer"},
    ]
    assert [e.user for e in _events(engine, "add_user")] == ["root", "Ada Lovelace"]


def test_members_are_added_and_removed_by_admins_and_audited(engine: Engine) -> None:
    with session_factory(engine)() as s:
        add_user(s, "Ada", "admin", "setup")
        add_user(s, "Bob", "analyst", "Ada")
        add_user(s, "Cy", "viewer", "Ada")
        project = create_project(s, "Acme", "Bob")  # the creator is a member
        assert visible_project_ids(s, "Bob") == {project.id} and visible_project_ids(s, "Cy") == set()
        with pytest.raises(UserError, match="not a user of this store"):
            add_member(s, project.id, "Nobody", "Ada")
        with pytest.raises(PermissionDenied):
            add_member(s, project.id, "Cy", "Bob")  # analysts do not manage members, even of their own project
        s.rollback()
        assert add_member(s, project.id, "cy", "Ada") and not add_member(s, project.id, "Cy", "Ada")
        assert visible_project_ids(s, "Cy") == {project.id}
        assert remove_member(s, project.id, "Bob", "Ada") and not remove_member(s, project.id, "Bob", "Ada")
        assert visible_project_ids(s, "Bob") == set()
        remove_user(s, "Cy", "Ada")
        assert find_user(s, "Cy") is None
        assert not s.scalars(select(ProjectMember).where(ProjectMember.user_key == "cy")).all()
    assert [(e.user, e.after) for e in _events(engine, "add_member")] == [("Ada", {"member": "Cy"})]
    assert [(e.user, e.before) for e in _events(engine, "remove_member")] == [("Ada", {"member": "Bob"})]
    assert _events(engine, "remove_user")[0].before == {"name": "Cy", "role": "viewer", "projects": [project.id]}


def test_o_net_releases_are_loaded_and_activated_by_admins_only_and_audited(engine: Engine, tiny_release: Path) -> None:
    with session_factory(engine)() as s:
        add_user(s, "Ada", "admin", "setup")
        add_user(s, "Bob", "analyst", "Ada")
    with pytest.raises(PermissionDenied, match="Bob is an analyst and may not load, sync or activate"):
        load_release(engine, tiny_release, user="Bob")
    with pytest.raises(PermissionDenied):
        # Refused before anything is downloaded: the URL does not even resolve.
        _sync_unreachable(engine, "Bob")
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count(OnetSyncLog.id))) == 0  # refused before even logging an attempt
    load_release(engine, tiny_release, user="Ada")
    load_release(engine, tiny_release, version="28_0", activate=False, user="Ada")
    with pytest.raises(PermissionDenied):
        activate_release(engine, "28_0", user="Bob")
    activate_release(engine, "28_0", user="Ada")
    with session_factory(engine)() as s:
        assert s.scalar(select(OnetRelease.version).where(OnetRelease.is_active.is_(True))) == "28_0"
    loads = _events(engine, "load_onet_release")
    assert [(e.user, e.after["version"], e.after["activated"]) for e in loads] == [
        ("Ada", "29_9", True),
        ("Ada", "28_0", False),
    ]
    assert loads[0].after["counts"]["occupations"] == 8
    (activation,) = _events(engine, "activate_onet_release")
    assert (activation.user, activation.before, activation.after) == ("Ada", {"active": "29_9"}, {"active": "28_0"})


def _sync_unreachable(engine: Engine, user: str) -> None:
    from jobforge.config import Settings

    settings = Settings(onet_download_url="http://127.0.0.1:9/db_{version}_text.zip", onet_download_timeout=2)
    OnetSyncService(engine, settings).sync("30_1", user=user)


def test_a_load_without_a_user_is_the_set_up_and_recorded_as_system(engine: Engine, tiny_release: Path) -> None:
    load_release(engine, tiny_release)
    assert [e.user for e in _events(engine, "load_onet_release")] == ["system"]


def test_the_migration_makes_each_project_creator_a_member(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO project (id, name, description, created_at, created_by) VALUES "
                "(1, 'A', '', '2026-11-01 10:00:00', 'Ada  Lovelace'), (2, 'B', '', '2026-11-01 10:00:00', NULL)"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        members = conn.execute(text("SELECT project_id, user_key, user_name FROM project_member")).all()
    assert members == [(1, "ada lovelace", "Ada Lovelace")]
