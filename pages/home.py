"""Home: create and open projects; what each holds; store, release and providers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.access import Permission
from jobforge.projects import create_project, list_projects, project_stats
from jobforge.review.deletion import project_uploads
from jobforge.ui.access import can
from jobforge.ui.charts import tier_mix_chart
from jobforge.ui.codebooks import codebooks_section
from jobforge.ui.deletion import archive_control, archived_projects, blank_note, deletion_flash, uploads_section
from jobforge.ui.errors import reported
from jobforge.ui.project import current_project_id, open_project
from jobforge.ui.status import load_default_release_button, release_summary, show_providers
from jobforge.ui.store import session, store_label
from jobforge.ui.text import md, pct
from jobforge.ui.user import current_user

user = current_user() or "unknown"
st.title("Projects")
st.caption("A project holds one organisation's roles: upload spreadsheets into it, review the mappings, export.")
deletion_flash()

with session() as s:
    projects = list_projects(s, user)
    stats = {p.id: project_stats(s, p.id) for p in projects}
    release = release_summary(s)

if release is None:
    st.warning("No O*NET release is loaded yet. Load one before mapping roles.")
    load_default_release_button(user, key="home_load_onet")

may_create = can(Permission.PROJECT_CREATE)
if may_create:  # analysts and admins
    with (
        st.expander("New project", icon=":material/add:", expanded=not projects),
        st.form("new_project", clear_on_submit=True),
    ):
        name = st.text_input("Project name", placeholder="e.g. Acme 2026 job architecture")
        if st.form_submit_button("Create project", type="primary"):
            clean = (name or "").strip()
            if not clean:
                st.error("Give the project a name.")
            elif clean.lower() in {p.name.lower() for p in projects}:
                st.error(f"A project called “{md(clean)}” already exists: open it below.")
            else:
                # A name may be taken by a project this user does not see: the service says so.
                with reported("Creating the project failed") as outcome, session() as s:
                    new_id = create_project(s, clean, user).id
                if outcome.ok:
                    open_project(new_id)
                    st.toast(f"Project “{md(clean)}” created.", icon=":material/check_circle:")
                    st.switch_page("pages/upload.py")

codebooks_section(user)  # the store's decided titles, which every project learns from

if not projects:
    archived_projects(user)
    if may_create:
        st.info("Create your first project above, then upload a spreadsheet of job roles.")
    else:
        st.info("You are not a member of any project yet: an admin can add you to one.", icon=":material/lock:")
    st.stop()

rows = []
for p in projects:
    ps = stats[p.id]
    rows.append(
        {
            "Project": p.name,
            "Roles": ps.roles,
            "Rows": ps.rows,
            "Mapped": pct(ps.mapped, ps.roles),
            "Confirmed": pct(ps.confirmed, ps.roles),
            "Created by": p.created_by or "",
            "Created": p.created_at.strftime("%Y-%m-%d") if p.created_at else "",
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

open_id = current_project_id()
ids = [p.id for p in projects]
names = {p.id: p.name for p in projects}
left, right = st.columns([3, 1], vertical_alignment="bottom")
choice = left.selectbox(
    "Open a project", ids, index=ids.index(open_id) if open_id in ids else 0, format_func=lambda i: names[i]
)
if right.button("Open", type="primary", width="stretch"):
    open_project(choice)
    st.switch_page("pages/review.py" if stats[choice].roles else "pages/upload.py")

if open_id in stats:
    ps = stats[open_id]
    st.subheader(md(names[open_id]), anchor=False)
    m = st.columns(4)
    m[0].metric("Unique roles", f"{ps.roles:,}", help="Rows whose titles normalise to the same key are one role.")
    m[1].metric("Spreadsheet rows", f"{ps.rows:,}")
    m[2].metric("Mapped", pct(ps.mapped, ps.roles))
    m[3].metric("Confirmed", pct(ps.confirmed, ps.roles))
    with session() as s:
        blanks = blank_note(project_uploads(s, open_id))
    if blanks:
        st.caption(blanks)
    if ps.roles == 0:
        st.info("This project has no roles yet.")
        st.page_link("pages/upload.py", label="Upload a spreadsheet", icon=":material/upload_file:")
    elif ps.mapped:
        chart_col, text_col = st.columns([2, 1])
        with chart_col:
            st.caption("Tier mix of the proposals")
            tier_mix_chart(ps.tiers)
        with text_col:
            st.write(f"**{ps.tiers.get('LOW', 0):,}** LOW roles need the most attention.")
            st.page_link("pages/review.py", label="Review the roles", icon=":material/fact_check:")

    uploads_section(open_id, user)
    archive_control(open_id, names[open_id], user)

archived_projects(user)
st.divider()
info, providers = st.columns(2)
with info:
    st.caption("Store")
    st.code(store_label(), language=None)
    st.caption(f"O*NET release: {release or 'none loaded'}")
with providers:
    st.caption("Mapping providers")
    show_providers()
