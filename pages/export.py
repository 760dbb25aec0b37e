"""Export: the project's roles (or every original row with its role's mapping) as CSV or XLSX."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from jobforge.config import get_settings
from jobforge.export.writers import export_filename, export_roles
from jobforge.projects import list_projects, project_stats
from jobforge.ui.project import require_project
from jobforge.ui.store import session
from jobforge.ui.user import current_user

READY = "export_ready"
user = current_user() or "unknown"
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)
with session() as s:
    stats = project_stats(s, project_id)

st.title("Export")
st.caption(
    "XLSX keeps every cell as the file had it: text as text (codes too, so Excel will not turn 11-1011 into a "
    "date), numbers as numbers, dates as dates. CSV has no cell types, so there text starting with = + - @ gets a "
    "leading ' and is shown, never run. In every-original-row exports a row's own attribute value is kept; only "
    "its empty cells take the role's value."
)
if stats.roles == 0:
    st.info("Nothing to export yet: upload a spreadsheet and map its roles first.")
    st.page_link("pages/upload.py", label="Upload a spreadsheet", icon=":material/upload_file:")
    st.stop()

left, right = st.columns(2)
rows = left.radio(
    "Rows",
    ["roles", "original"],
    format_func=lambda r: (
        f"One row per unique role ({stats.roles:,})" if r == "roles" else f"Every original row ({stats.rows:,})"
    ),
    key="export_rows",
)
fmt = right.radio("Format", ["csv", "xlsx"], format_func=str.upper, horizontal=True, key="export_fmt")
# XLSX costs about 0.3 ms per row (61 s for 200,000 rows, bench/RESULTS.md); CSV about a sixth of that.
if fmt == "xlsx" and rows == "original" and stats.rows > get_settings().export_xlsx_warn_rows:
    right.warning(
        f"{stats.rows:,} rows as XLSX can take a minute or more to write; CSV is several times faster. "
        "(Open CSV files through Excel's import so SOC codes stay text.)"
    )
st.caption(
    f"{stats.confirmed:,} of {stats.roles:,} roles are confirmed; unconfirmed proposals are exported with their status."
)

choice = (project_id, rows, fmt)
if st.button("Prepare the file", type="primary", key="export_prepare"):
    with st.spinner("Writing the file…"), session() as s:
        content = export_roles(s, project_id, fmt=fmt, rows=rows, user=user)
    st.session_state[READY] = (choice, content)

ready = st.session_state.get(READY)
if ready and ready[0] == choice:
    content = ready[1]
    st.download_button(
        f"Download {fmt.upper()} ({len(content) / 1024:,.0f} KB)",
        content,
        file_name=export_filename(projects[project_id], fmt, rows),
        mime=MIME[fmt],
        key="export_download",
        icon=":material/download:",
    )
    st.caption("Preview of the first rows:")
    if fmt == "csv":
        preview = pd.read_csv(io.BytesIO(content), dtype=str, nrows=20, keep_default_na=False)
    else:
        preview = pd.read_excel(io.BytesIO(content), dtype=str, nrows=20, keep_default_na=False)
    st.dataframe(preview, hide_index=True, width="stretch")
