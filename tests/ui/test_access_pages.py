"""Roles in the app (AppTest, SQLite then Postgres): admin actions for admins only, viewers read, non-members see nothing.

The project of ``mapped_project`` was created by Ana Analyst, the store's first user and so its
admin. Each test then adds people and opens the app as one of them: without OIDC or JOBFORGE_USER,
the name belongs to the browser session (``st.session_state``), as when typed on the sign-in page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from jobforge.access.manage import add_member, add_user
from jobforge.access.users import find_user
from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Role
from tests.ui.conftest import APP, ROOT, USER, texts

ANALYST, VIEWER = "Alan Analyst", "Vera Viewer"
# The Admin page's controls that change something: load (default / file) or sync a release, roles, members.
# ("admin_load_zip" and "admin_activate" appear once a file is chosen / another release is loaded.)
ADMIN_CONTROLS = {
    "admin_load_default",
    "admin_sync",
    "admin_zip",
    "users_set_role",
    "users_remove",
    "members_add",
    "members_remove",
}


@pytest.fixture
def team(ui_engine: Engine, mapped_project: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Alan (analyst, not a member of Acme) and Vera (viewer, a member); the app asks who is working."""
    from jobforge.config import get_settings

    with session_factory(ui_engine)() as s:
        add_user(s, ANALYST, "analyst", USER)
        add_user(s, VIEWER, "viewer", USER)
        add_member(s, mapped_project, VIEWER, USER)
    monkeypatch.delenv("JOBFORGE_USER")
    get_settings.cache_clear()
    return mapped_project


def _as(name: str, page: str | None = None, project_id: int | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["jobforge_user"] = name
    if project_id is not None:
        at.session_state["project_id"] = project_id
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _keys(at: AppTest) -> set[str]:
    return {w.key for kind in ("button", "selectbox", "file_uploader", "text_input") for w in at.get(kind) if w.key}


def test_the_admin_page_and_its_actions_are_for_admins_only(team: int) -> None:
    admin = _as(USER, "admin")
    assert _keys(admin) >= ADMIN_CONTROLS
    assert any(b.label == "Add user" for b in admin.get("form_submit_button"))
    for name, role in ((ANALYST, "an analyst"), (VIEWER, "a viewer")):
        at = _as(name)
        assert f"Signed in as **{name}** · {role.split()[1]}" in texts(at)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/admin.py")  # not in their navigation
        # Reached anyway (an old link), the page stops before any control.
        page = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
        page.session_state["jobforge_user"] = name
        page.run()
        assert f"{name} is {role} and may not add users" in texts(page)
        assert not (_keys(page) & ADMIN_CONTROLS) and not page.get("form_submit_button") and not page.dataframe


def test_an_admin_manages_users_roles_and_members_in_the_app(team: int, ui_engine: Engine) -> None:
    at = _as(USER, "admin")
    at.text_input(key="users_new_name").input("Vic Viewer")
    at.selectbox(key="users_new_role").set_value("viewer")
    next(b for b in at.get("form_submit_button") if b.label == "Add user").click().run()
    assert "Vic Viewer is now a viewer." in texts(at)
    at.selectbox(key="users_pick").set_value("Vic Viewer")
    at.selectbox(key="users_role").set_value("analyst")
    at.button(key="users_set_role").click().run()
    assert "Vic Viewer is now an analyst." in texts(at)
    at.selectbox(key="members_add_pick").set_value("Vic Viewer").run()
    at.button(key="members_add").click().run()
    assert "Vic Viewer is now a member of “Acme”." in texts(at)
    at.selectbox(key="members_remove_pick").set_value("Vic Viewer").run()
    at.button(key="members_remove").click().run()
    # The store keeps an admin: demoting the only one is refused with the reason.
    at.selectbox(key="users_pick").set_value(USER)
    at.selectbox(key="users_role").set_value("viewer")
    at.button(key="users_set_role").click().run()
    assert any("at least one admin" in e.value for e in at.error)
    with session_factory(ui_engine)() as s:
        assert find_user(s, "Vic Viewer").role == "analyst" and find_user(s, USER).role == "admin"
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.user == USER).order_by(AuditEvent.id)).all()
    assert actions[-4:] == ["add_user", "set_role", "add_member", "remove_member"]


def test_a_viewer_reads_and_exports_but_cannot_change_a_project(team: int, ui_engine: Engine) -> None:
    review = _as(VIEWER, "review", team)
    assert review.title[0].value == "Review"
    role_id = review.session_state["review_selected"]
    review.button(key=f"confirm_{role_id}").click().run()
    assert "Vera Viewer is a viewer and may not upload, map, review or change attributes" in texts(review)
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(Mapping.status).where(Mapping.role_id == role_id)) == "proposed"
    upload = _as(VIEWER, "upload", team)
    assert "Vera Viewer is a viewer and may not" in texts(upload) and not upload.get("file_uploader")
    export = _as(VIEWER, "export", team)
    export.button(key="export_prepare").click().run()
    assert b"Registered Nurse" in export.session_state["export_ready"][1]


def test_a_non_member_does_not_see_a_project(team: int, ui_engine: Engine) -> None:
    home = _as(ANALYST)
    assert "Create your first project" in texts(home) and not home.dataframe  # analysts may create their own
    home.text_input[0].input("acme")
    home.get("form_submit_button")[0].click().run()
    assert any("already exists" in e.value for e in home.error)  # names are unique, so this much is told
    for page in ("review", "attributes", "export", "upload"):
        at = _as(ANALYST, page, team)  # as if following a link with ?project=<id>
        assert "Open a project in the sidebar" in texts(at) or "There is no project yet" in texts(at), page
        assert "Acme" not in texts(at)
    with session_factory(ui_engine)() as s:
        titles = set(s.scalars(select(Role.title).where(Role.project_id == team)))
    assert not any(title in texts(_as(ANALYST, "review", team)) for title in titles)


def test_a_name_that_is_not_a_user_is_told_to_ask_an_admin(team: int) -> None:
    at = _as("Mallory")
    assert any("not a user of this store yet" in w.value for w in at.sidebar.warning)
    assert "You are not a member of any project yet" in texts(at)  # sees no project, may create none
    assert not at.get("form_submit_button")


def test_only_admins_are_offered_to_load_o_net(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobforge.config import get_settings
    from tests.ui.conftest import store_url

    with session_factory(engine)() as s:
        add_user(s, "Ada", "admin", "setup")
        add_user(s, VIEWER, "viewer", "Ada")
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", store_url(engine))
    monkeypatch.setenv("JOBFORGE_APP_WORKER", "false")
    get_settings.cache_clear()
    viewer = _as(VIEWER)
    assert "An admin can load the O*NET release." in texts(viewer)
    assert not {"home_load_onet", "sidebar_load_onet"} & _keys(viewer)
    assert {"home_load_onet", "sidebar_load_onet"} <= _keys(_as("Ada"))
