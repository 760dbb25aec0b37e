"""The Admin page's Users section: add users, give roles, remove them, and manage project members."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import select

from jobforge.access import UserRole, access_is_open
from jobforge.access.manage import add_member, add_user, remove_member, remove_user, set_role
from jobforge.access.membership import project_members
from jobforge.access.users import list_users, name_key
from jobforge.db.models import Project, ProjectMember
from jobforge.projects import list_projects
from jobforge.ui.errors import reported
from jobforge.ui.store import session
from jobforge.ui.text import md

ROLES = [role.value for role in UserRole]
FLASH = "users_flash"  # what the last change did, shown after its rerun
ROLE_HELP = (
    "**admin**: O*NET releases, codebooks, deletions, users and roles, second-opinion samples, every project · "
    "**analyst**: create projects; upload, review, export in the projects they belong to · "
    "**viewer**: read and export the projects they belong to"
)


def users_section(user: str) -> None:
    """Everything about who may do what; ``user`` is the admin making the changes."""
    with session() as s:
        users = [(u.name, u.role, u.created_at, u.created_by) for u in list_users(s)]
        open_store = access_is_open(s)
        memberships: dict[str, list[str]] = {}
        for key, name in s.execute(select(ProjectMember.user_key, Project.name).join(Project).order_by(Project.name)):
            memberships.setdefault(key, []).append(name)
    if open_store:
        st.info(
            "This store has one user, so every check passes (a single-user set-up). Add the people who work "
            "here with their role: from the second user on, each sees only their projects and their role's actions.",
            icon=":material/group_add:",
        )
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    st.caption(ROLE_HELP)
    if users:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "User": name,
                        "Role": role,
                        "Projects": "all" if role == UserRole.ADMIN else ", ".join(memberships.get(name_key(name), [])),
                        "Added": created.strftime("%Y-%m-%d") if created else "",
                        "Added by": by or "(first user)",
                    }
                    for name, role, created, by in users
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    left, right = st.columns(2)
    with left, st.container(border=True):
        _add_user_form(user)
    with right, st.container(border=True):
        _change_role(user, [name for name, *_ in users])
    with st.container(border=True):
        _project_members(user, [name for name, *_ in users])


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _add_user_form(user: str) -> None:
    st.markdown("**Add a user**")
    with st.form("users_add_form", clear_on_submit=True, border=False):
        name = st.text_input("Name (as they sign in: their name, or e-mail with OIDC)", key="users_new_name")
        role = st.selectbox("Role", ROLES, index=ROLES.index(UserRole.ANALYST), key="users_new_role")
        submitted = st.form_submit_button("Add user", type="primary", key="users_add")
    if submitted:
        with reported("Adding the user failed") as outcome, session() as s:
            added = add_user(s, name, role, user).name
        if outcome.ok:
            st.session_state[FLASH] = f"{md(added)} is now {_a(role)}."
            st.rerun()


def _change_role(user: str, names: list[str]) -> None:
    st.markdown("**Change a role or remove a user**")
    if not names:
        st.caption("No users yet.")
        return
    who = st.selectbox("User", names, key="users_pick")
    role = st.selectbox("New role", ROLES, key="users_role")
    c1, c2 = st.columns(2)
    if c1.button("Give this role", key="users_set_role", width="stretch"):
        with reported("Changing the role failed") as outcome, session() as s:
            set_role(s, who, role, user)
        if outcome.ok:
            st.session_state[FLASH] = f"{md(who)} is now {_a(role)}."
            st.rerun()
    if c2.button("Remove user", key="users_remove", width="stretch"):
        with reported("Removing the user failed") as outcome, session() as s:
            remove_user(s, who, user)
        if outcome.ok:
            st.session_state[FLASH] = f"{md(who)} is no longer a user."
            st.rerun()


def _project_members(user: str, names: list[str]) -> None:
    st.markdown("**Project members**")
    st.caption("Analysts and viewers see only the projects they are members of; a project's creator is one.")
    with session() as s:
        projects = {p.id: p.name for p in list_projects(s, user)}
    if not projects:
        st.caption("No project yet.")
        return
    project_id = st.selectbox("Project", list(projects), format_func=lambda p: projects[p], key="members_project")
    with session() as s:
        members = [m.user_name for m in project_members(s, project_id)]
    st.write("Members: " + (", ".join(md(m) for m in members) if members else "none yet"))
    c1, c2 = st.columns(2)
    candidates = [n for n in names if name_key(n) not in {name_key(m) for m in members}]
    with c1:
        new = st.selectbox("Add", candidates, index=None, placeholder="Choose a user", key="members_add_pick")
        if st.button("Add to the project", key="members_add", disabled=new is None):
            with reported("Adding the member failed") as outcome, session() as s:
                add_member(s, project_id, new, user)
            if outcome.ok:
                st.session_state[FLASH] = f"{md(new)} is now a member of “{md(projects[project_id])}”."
                st.rerun()
    with c2:
        gone = st.selectbox("Remove", members, index=None, placeholder="Choose a member", key="members_remove_pick")
        if st.button("Remove from the project", key="members_remove", disabled=gone is None):
            with reported("Removing the member failed") as outcome, session() as s:
                remove_member(s, project_id, gone, user)
            if outcome.ok:
                st.session_state[FLASH] = f"{md(gone)} is no longer a member of “{md(projects[project_id])}”."
                st.rerun()
