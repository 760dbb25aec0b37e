"""JobForge: Streamlit entry point (page config, navigation, sidebar status)."""

from __future__ import annotations

import streamlit as st

from jobforge.access import Permission, PermissionDenied
from jobforge.db.engine import StoreError
from jobforge.ui.access import can, sign_in
from jobforge.ui.project import current_project_id, open_project
from jobforge.ui.status import load_default_release_button, release_summary, show_providers
from jobforge.ui.store import apply_secrets, session, store_engine, store_label
from jobforge.ui.user import current_user, sign_in_page, sign_out_control

st.set_page_config(page_title="JobForge", page_icon="🧭", layout="wide")
apply_secrets()

try:
    store_engine()
except StoreError as exc:
    st.title("JobForge")
    st.error(f"The store cannot be opened. {exc}")
    st.caption("Check JOBFORGE_DATABASE_URL (or the data directory) and reload this page.")
    st.stop()

PAGES = [
    st.Page("pages/home.py", title="Projects", icon=":material/home:", default=True),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:"),
    st.Page("pages/review.py", title="Review", icon=":material/fact_check:"),
    st.Page("pages/attributes.py", title="Attributes", icon=":material/tune:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
    st.Page("pages/second_opinion.py", title="Second opinions", icon=":material/rate_review:"),
    st.Page("pages/admin.py", title="Admin", icon=":material/settings:"),
]
# Until we know who is working, the only page is the sign-in (or name) page: every change is recorded
# under this name. (Its own st.Page, so its form belongs to one page across reruns.)
user = current_user()
if not user:
    st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")], position="hidden").run()
    st.stop()
role = sign_in(user)  # the first user of a new store becomes its admin
if not can(Permission.USERS_MANAGE):
    PAGES = [page for page in PAGES if page.title != "Admin"]  # admins only (releases, users, audit log)
navigation = st.navigation(PAGES)

with st.sidebar:
    from jobforge.projects import list_projects

    with session() as s:
        projects = {p.id: p.name for p in list_projects(s, user)}
        release = release_summary(s)
    if projects:
        ids = list(projects)
        chosen = current_project_id()
        picked = st.selectbox(
            "Project",
            ids,
            index=ids.index(chosen) if chosen in projects else None,
            format_func=lambda pid: projects[pid],
            placeholder="Choose a project",
        )
        if picked != chosen and picked is not None:
            open_project(picked)
    elif can(Permission.PROJECT_CREATE):
        st.caption("No project yet: create one on the Projects page.")
    else:
        st.caption("No project yet: an admin can add you to one.")
    st.divider()
    st.caption(f"Signed in as **{user}**" + (f" · {role}" if role else ""))
    if role is None and not can(Permission.PROJECT_READ):
        st.warning("You are not a user of this store yet: ask an admin to add you.", icon=":material/lock:")
    sign_out_control()
    with st.expander("Store and O*NET", expanded=release is None):
        st.caption(f"Store: `{store_label()}`")
        if release:
            st.caption(f"O*NET release {release}")
        else:
            st.warning("No O*NET release is loaded: mapping needs one.")
            load_default_release_button(user, key="sidebar_load_onet")
        show_providers(compact=True)

try:
    navigation.run()
except PermissionDenied as exc:  # a service refused: say why instead of showing a traceback
    st.warning(exc.message, icon=":material/lock:")
