"""Codebooks on the Projects page, and Review's "Update proposals from decisions" button."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.access import Permission
from jobforge.codebooks.codes import SYSTEM_LABELS, SYSTEMS
from jobforge.codebooks.service import delete_codebook, import_codebook, list_codebooks, read_codebook, set_enabled
from jobforge.codebooks.update import KIND as UPDATE_KIND
from jobforge.codebooks.update import new_since_update
from jobforge.ingest.sheets import open_table
from jobforge.ui.access import can
from jobforge.ui.errors import reported
from jobforge.ui.jobs import active_job_id, show_job
from jobforge.ui.store import session
from jobforge.ui.text import md

_CODE_HINTS = ("onet", "o*net", "soc", "code")


def _code_column(columns: list[str], title: str | None) -> int:
    for i, name in enumerate(columns):
        if name != title and any(hint in name.lower() for hint in _CODE_HINTS):
            return i
    return min(1, len(columns) - 1)


def codebooks_section(user: str) -> None:
    """Import (with a preview and the counts), list, disable and delete codebooks."""
    with st.expander("Codebooks: titles your organisation already decided", icon=":material/menu_book:"):
        st.caption(
            "Import last year's mapping file (a title column and a code column: O*NET-SOC 2019, SOC 2018, "
            "O*NET-SOC 2010 or SOC 2010). Proposals for similar titles then follow those decisions, with the "
            "evidence in each rationale."
        )
        if can(Permission.CODEBOOK_IMPORT):
            _import_form(user)
        _listing(user)


def _import_form(user: str) -> None:
    upload = st.file_uploader("Codebook file (CSV or XLSX)", type=["csv", "xlsx"], key="codebook_file")
    if upload is None:
        return
    data = upload.getvalue()
    with reported("Reading the codebook failed") as outcome:
        opened = open_table(data, upload.name)
    if not outcome.ok:
        return
    columns = [str(c) for c in opened.frame.columns]
    title_default = columns.index(opened.guess.title) if opened.guess.title in columns else 0
    left, middle, right = st.columns(3)
    title_column = left.selectbox("Title column", columns, index=title_default, key="codebook_title_column")
    code_column = middle.selectbox(
        "Code column", columns, index=_code_column(columns, opened.guess.title), key="codebook_code_column"
    )
    system = right.selectbox(
        "Code system",
        SYSTEMS,
        format_func=lambda s: "Detect" if s == "auto" else SYSTEM_LABELS[s],
        key="codebook_system",
    )
    name = st.text_input("Name", value=upload.name.rsplit(".", 1)[0], key="codebook_name")
    note = st.text_input("Note (optional)", key="codebook_note")
    with reported("Checking the codebook failed") as outcome, session() as s:
        draft = read_codebook(s, data, upload.name, title_column, code_column, system, opened.sheet)
    if not outcome.ok:
        return
    st.caption(opened.header_note)
    counts = st.columns(3)
    counts[0].metric("To import", f"{draft.imported:,}")
    counts[1].metric("Translated to O*NET-SOC 2019", f"{draft.translated:,}")
    counts[2].metric("Skipped (empty title or code)", f"{draft.skipped:,}")
    if draft.entries:
        st.dataframe(draft.preview(), hide_index=True, width="stretch")
    if draft.errors:
        st.error(draft.error_message())
        return
    if st.button("Import codebook", type="primary", key="codebook_import", disabled=not draft.entries):
        with reported("Importing the codebook failed") as outcome, session() as s:
            result = import_codebook(
                s, user, data, upload.name, title_column, code_column, system, name, note, opened.sheet
            )
        if outcome.ok:
            st.success(
                f"Imported codebook “{md(result.name)}”: {result.imported:,} entries, {result.translated:,} "
                f"translated, {result.skipped:,} rows skipped. Use “Update proposals from decisions” on Review."
            )


def _listing(user: str) -> None:
    with session() as s:
        books = list_codebooks(s)
    if not books:
        st.caption("No codebooks yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Id": b.id,
                    "Name": b.name,
                    "State": "enabled" if b.enabled else "disabled",
                    "Entries": b.entries,
                    "Translated": b.translated,
                    "Skipped": b.skipped,
                    "System": b.system,
                    "File": b.filename,
                    "Imported by": b.imported_by or "",
                    "Imported": b.imported_at.strftime("%Y-%m-%d %H:%M"),
                }
                for b in books
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    if not can(Permission.CODEBOOK_MANAGE):
        return
    names = {b.id: b for b in books}
    pick, toggle, remove = st.columns([2, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Codebook", list(names), format_func=lambda i: names[i].name, key="codebook_pick")
    book = names[chosen]
    if toggle.button("Disable" if book.enabled else "Enable", key="codebook_toggle", width="stretch"):
        with reported("Changing the codebook failed") as outcome, session() as s:
            set_enabled(s, user, chosen, not book.enabled)
        if outcome.ok:
            st.rerun()
    if remove.button("Delete", key="codebook_delete", width="stretch"):
        with reported("Deleting the codebook failed") as outcome, session() as s:
            delete_codebook(s, user, chosen)
        if outcome.ok:
            st.rerun()


def update_proposals_button(project_id: int, user: str) -> None:
    """Review's button: re-propose the unreviewed roles with the decisions made since the last update."""
    state_key = f"update_job_{project_id}"
    running = active_job_id(project_id, UPDATE_KIND) or st.session_state.get(state_key)
    if running:
        snap = show_job(running, label="Updating proposals", state_key=state_key)
        if snap is None or snap["status"] not in ("done", "failed", "cancelled"):
            return
    with session() as s:
        fresh = new_since_update(s, project_id)
    label = f"Update proposals from decisions ({fresh:,} new since the last update)"
    if st.button(label, key="update_proposals", help="Re-proposes only roles nobody reviewed yet, offline."):
        from jobforge.jobs.queue import enqueue

        with reported("Starting the update failed") as outcome, session() as s:
            job_id = enqueue(s, UPDATE_KIND, project_id, {"provider": "offline"}, user).id
        if outcome.ok:
            st.session_state[state_key] = job_id
            st.rerun()
