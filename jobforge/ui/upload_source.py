"""Upload page: which sheet and which header row of the uploaded file are read (and why).

The sheet shown in the box, the sheet previewed and the sheet imported must be one and the same.
So every widget key carries the uploaded file's id (a file removed and added again starts fresh,
never with the previous file's choice), the box is set from the sheet actually read, and the
page imports the very table it previewed. JobForge chooses the sheet and the header row until
the analyst changes one; then their choice is read.
"""

from __future__ import annotations

import logging

import streamlit as st

from jobforge.ingest.limits import UploadLimits
from jobforge.ingest.sandbox import open_bounded
from jobforge.ingest.sheets import OpenedTable
from jobforge.ui.errors import reported

_log = logging.getLogger("jobforge.ui")


@st.cache_data(max_entries=4, show_spinner="Reading the file…")
def _open(data: bytes, filename: str, sheet: str | None, header_row: int | None) -> OpenedTable:
    return open_bounded(data, filename, sheet, header_row)


def upload_limit_mb() -> int:
    """The upload limit the uploader states; Streamlit's own cap should be the same (`make run` sets it)."""
    limit = UploadLimits.from_settings().max_upload_mb
    server = st.get_option("server.maxUploadSize")
    if server != limit:
        _log.warning(
            "Streamlit's server.maxUploadSize is %s MB but JOBFORGE_MAX_UPLOAD_MB is %s MB: start the app with "
            "`make run` (or --server.maxUploadSize %s) so files over the limit are refused before they are buffered.",
            server,
            limit,
            limit,
        )
    return limit


def _chosen(key: str) -> None:
    st.session_state[f"{key}_chosen"] = True


def _requested(key: str) -> object | None:
    """The widget's value when the analyst set it, else None (JobForge chooses)."""
    return st.session_state.get(key) if st.session_state.get(f"{key}_chosen") else None


def read_source(data: bytes, filename: str, file_id: str) -> OpenedTable | None:
    """Read the file as the sheet/header widgets say; show them, the notes and any refusal.

    Returns the table to preview and import, or None (an error was shown) when it cannot be used.
    """
    sheet_key, shown_key = f"upload_sheet_{file_id}", f"upload_shown_sheet_{file_id}"
    chosen_sheet = _requested(sheet_key)
    header_key = f"upload_header_{file_id}_{chosen_sheet or 'auto'}"
    header_row = _requested(header_key)
    # A header row the analyst typed is for the sheet on screen, whoever chose that sheet.
    sheet = chosen_sheet or (st.session_state.get(shown_key) if header_row is not None else None)
    with reported(f"'{filename}' cannot be used") as outcome:
        opened = _open(data, filename, sheet, header_row)
    if not outcome.ok:
        _header_box(header_key, None)  # a wrong header row must stay changeable
        return None
    st.session_state[shown_key] = opened.sheet
    cells = st.columns([2, 1, 3], vertical_alignment="bottom")
    if len(opened.sheets) > 1:
        st.session_state[sheet_key] = opened.sheet  # the box shows the sheet read, whoever chose it
        with cells[0]:
            st.selectbox("Sheet", opened.sheets, key=sheet_key, on_change=_chosen, args=(sheet_key,))
    with cells[1]:
        _header_box(header_key, opened.header_row)
    with cells[2]:
        st.caption(opened.header_note)
    if opened.sheet_note:
        st.info(opened.sheet_note, icon=":material/table:")
    if opened.title_problem:
        st.error(opened.title_problem)
    return opened


def _header_box(key: str, value: int | None) -> None:
    if value is not None:
        st.session_state[key] = value
    st.number_input(
        "Header row",
        min_value=1,
        step=1,
        key=key,
        on_change=_chosen,
        args=(key,),
        help="The row that names the columns. JobForge skips report titles, notes and blank rows above it; "
        "change it if it is wrong.",
    )
