"""The project being worked on: chosen in the sidebar, kept in the session and the URL."""

from __future__ import annotations

import streamlit as st

PROJECT_KEY = "project_id"


def current_project_id() -> int | None:
    """The open project: from this session, else from the URL (``?project=ID``: a reload keeps it).

    The id is written back to the URL on every run, because moving to another page drops query
    parameters: whatever page is reloaded, the project stays open.
    """
    value = st.session_state.get(PROJECT_KEY)
    if value is None and "project" in st.query_params:
        try:
            value = int(st.query_params["project"])
        except ValueError:
            value = None
        st.session_state[PROJECT_KEY] = value
    if value is not None and st.query_params.get("project") != str(value):
        st.query_params["project"] = str(value)
    return value


def open_project(project_id: int | None) -> None:
    st.session_state[PROJECT_KEY] = project_id
    if project_id is None:
        st.query_params.pop("project", None)
    else:
        st.query_params["project"] = str(project_id)


def require_project(projects: dict[int, str]) -> int:
    """The open project id, or an empty state that says what to do, then stop.

    Only projects the signed-in user may see count (a non-member's link to a project opens nothing).
    """
    from jobforge.ui.access import visible_ids

    visible = visible_ids()
    if visible is not None:
        projects = {pid: name for pid, name in projects.items() if pid in visible}
    project_id = current_project_id()
    if project_id in projects:
        return project_id
    if not projects:
        st.info("There is no project yet. Create one on the **Projects** page, then upload a spreadsheet.")
        st.page_link("pages/home.py", label="Go to Projects", icon=":material/home:")
    else:
        st.info("Open a project in the sidebar (or on the **Projects** page) to continue.")
    st.stop()
    raise AssertionError("unreachable")
