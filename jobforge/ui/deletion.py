"""Deleting from a page: a project's uploads, one role, archiving and deleting a project.

Every deletion asks once more before it acts (a second button naming what goes; a project's name
typed in full); the services check the permission and write the audit event.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from jobforge.access import Permission
from jobforge.projects import archive_project, delete_project, list_projects, project_stats, restore_project
from jobforge.review.deletion import UploadInfo, delete_role, delete_upload, project_uploads
from jobforge.ui.access import can
from jobforge.ui.errors import reported
from jobforge.ui.project import current_project_id, open_project
from jobforge.ui.store import session
from jobforge.ui.text import md

PENDING_UPLOAD = "delete_upload_pending"
PENDING_ROLE = "delete_role_pending"


def blank_note(uploads: list[UploadInfo], short: bool = False) -> str | None:
    """A line such as "13 row(s) have no title (5 of them placeholders …)", or None when none is blank."""
    blank = sum(upload.blank_titles for upload in uploads)
    if not blank:
        return None
    placeholders = sum(upload.placeholder_titles for upload in uploads)
    if short:
        return f"{blank:,} rows without a title ({placeholders:,} placeholders) not mapped"
    named = f" ({placeholders:,} of them placeholders such as 'TBD' or 'Vacant')" if placeholders else ""
    return f"{blank:,} row(s) have no title{named}: counted in the uploads, not mapped."


def _upload_line(upload: UploadInfo) -> str:
    sheet = f" · sheet {md(upload.sheet)}" if upload.sheet else ""
    blank = f" · {upload.blank_titles:,} without a title" if upload.blank_titles else ""
    when = f" · {upload.created_at:%Y-%m-%d}" if upload.created_at else ""
    return f"**{md(upload.filename)}**{sheet} · {upload.rows:,} rows{blank}{when}"


def _remember_error(message: str) -> None:
    st.session_state["delete_flash"] = ("error", message)  # shown on the redraw (this runs in a callback)


def _do_delete_upload(upload_id: int, user: str) -> None:
    st.session_state.pop(PENDING_UPLOAD, None)
    with reported("Deleting the upload failed", show=_remember_error) as outcome, session() as s:
        done = delete_upload(s, upload_id, user)
    if outcome.ok:
        st.session_state["delete_flash"] = (
            "success",
            f"Deleted “{md(done.filename)}”: {done.roles_removed:,} roles only it contributed were deleted, "
            f"{done.roles_kept:,} shared roles keep the other uploads' rows.",
        )


def deletion_flash() -> None:
    """Say how the last deletion (or archiving) ended; it ran in a callback or before a rerun."""
    kind, message = st.session_state.pop("delete_flash", (None, None))
    if kind == "success":
        st.success(message, icon=":material/delete:")
    elif kind == "error":
        st.error(message)


def uploads_section(project_id: int, user: str) -> None:
    """The project's uploads with their blank-title counts, each deletable by those who may delete."""
    with session() as s:
        uploads = project_uploads(s, project_id)
    if not uploads:
        return
    may_delete = can(Permission.DELETE, project_id)
    st.markdown("**Uploads**")
    for upload in uploads:
        line, button = st.columns([5, 1], vertical_alignment="center")
        line.markdown(_upload_line(upload))
        if may_delete:
            button.button(
                "Delete",
                key=f"delete_upload_{upload.id}",
                icon=":material/delete:",
                on_click=st.session_state.__setitem__,
                args=(PENDING_UPLOAD, upload.id),
                help="Delete this upload's rows, and the roles only it contributed (asks first).",
            )
        if st.session_state.get(PENDING_UPLOAD) == upload.id:
            st.warning(
                f"Delete “{md(upload.filename)}”? Its {upload.rows:,} rows go; roles only it contributed are "
                "deleted with their decisions; roles other uploads share keep those uploads' rows.",
                icon=":material/warning:",
            )
            yes, no = st.columns(2)
            yes.button(
                "Yes, delete the upload",
                key=f"confirm_delete_upload_{upload.id}",
                type="primary",
                on_click=_do_delete_upload,
                args=(upload.id, user),
            )
            no.button(
                "Cancel",
                key=f"cancel_delete_upload_{upload.id}",
                on_click=st.session_state.pop,
                args=(PENDING_UPLOAD, None),
            )


def archive_control(project_id: int, name: str, user: str) -> None:
    """Archive the open project (it leaves the pickers; deleting it is then possible below)."""
    if not can(Permission.DELETE, project_id):
        return
    if st.button("Archive this project", key="archive_project", icon=":material/archive:",
                 help="Hide it from the project pickers; an archived project can be restored or deleted."):  # fmt: skip
        with reported("Archiving failed") as outcome, session() as s:
            archive_project(s, project_id, user)
        if outcome.ok:
            open_project(None)
            st.session_state["delete_flash"] = ("success", f"Archived “{md(name)}”: restore or delete it below.")
            st.rerun()


def archived_projects(user: str) -> None:
    """Archived projects: restore one, or delete it by typing its name."""
    with session() as s:
        archived = [(p.id, p.name) for p in list_projects(s, user, archived=True)]
        stats = {pid: project_stats(s, pid) for pid, _ in archived}
    if not archived:
        return
    with st.expander(f"Archived projects ({len(archived)})", icon=":material/archive:"):
        for project_id, name in archived:
            st.markdown(f"**{md(name)}** · {stats[project_id].roles:,} roles, {stats[project_id].rows:,} rows")
            left, right = st.columns([1, 3], vertical_alignment="bottom")
            if left.button("Restore", key=f"restore_{project_id}", icon=":material/unarchive:"):
                with reported("Restoring failed") as outcome, session() as s:
                    restore_project(s, project_id, user)
                if outcome.ok:
                    open_project(project_id)
                    st.rerun()
            typed = right.text_input(
                f"Type “{name}” to delete it for good",
                key=f"delete_confirm_{project_id}",
                placeholder=name,
            )
            if st.button("Delete project", key=f"delete_project_{project_id}", type="primary",
                         icon=":material/delete_forever:", disabled=typed.strip() != name):  # fmt: skip
                with reported("Deleting the project failed") as outcome, session() as s:
                    delete_project(s, project_id, user, confirmation=typed)
                if outcome.ok:
                    if current_project_id() == project_id:
                        open_project(None)
                    st.session_state["delete_flash"] = ("success", f"Deleted project “{md(name)}” and all its data.")
                    st.rerun()


def delete_role_control(role_id: int, title: str, user: str, on_deleted: Callable[[str], None]) -> None:
    """The review panel's "Delete role…" button, with a second button to be sure."""
    if st.session_state.get(PENDING_ROLE) != role_id:
        st.button(
            "Delete role…",
            key=f"delete_role_{role_id}",
            icon=":material/delete:",
            on_click=st.session_state.__setitem__,
            args=(PENDING_ROLE, role_id),
            help="Delete this role with its mapping and attributes; its rows leave the counts and the export.",
        )
        return
    st.warning(f"Delete “{md(title)}” with its mapping and attributes?", icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Yes, delete the role", key=f"confirm_delete_role_{role_id}", type="primary"):
        st.session_state.pop(PENDING_ROLE, None)
        with reported("Deleting the role failed") as outcome, session() as s:
            delete_role(s, role_id, user)
        if outcome.ok:
            on_deleted(f"Deleted “{md(title)}”.")
            st.rerun()
    no.button("Cancel", key=f"cancel_delete_role_{role_id}", on_click=st.session_state.pop, args=(PENDING_ROLE, None))
