"""Upload: read a spreadsheet, choose its columns, add its unique roles to the project, start mapping."""

from __future__ import annotations

import hashlib

import streamlit as st

from jobforge.access import Permission
from jobforge.ingest.reader import IngestError
from jobforge.ingest.roles import CONTEXT_FIELDS
from jobforge.ingest.uploads import build_roles, create_upload
from jobforge.projects import list_projects, project_stats
from jobforge.ui.access import require_or_stop
from jobforge.ui.jobs import active_job_id, show_job
from jobforge.ui.mapping import map_controls
from jobforge.ui.project import require_project
from jobforge.ui.store import session
from jobforge.ui.text import md
from jobforge.ui.upload_source import read_source, upload_limit_mb
from jobforge.ui.user import current_user

NONE = "—"
MERGED_SHOWN = 50  # merged roles listed on the page
CONTEXT_LABELS = {
    "job_family": "Job family",
    "job_function": "Job function",
    "department": "Department",
    "level": "Level",
    "description": "Description",
    "headcount": "Headcount",
    "unit_group": "Unit group (NOC/SOC code you already use)",
}

user = current_user() or "unknown"
with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)
require_or_stop(Permission.PROJECT_WRITE, project_id)  # viewers read projects on the other pages

st.title("Upload roles")
st.caption(f"Project: **{projects[project_id]}** · CSV or XLSX, one row per employee or position.")


max_mb = upload_limit_mb()
uploaded = st.file_uploader(
    "Spreadsheet",
    help=f"CSV (any common encoding) or XLSX, up to {max_mb} MB.",
    key="upload_file",
    max_upload_size=max_mb,
)
if uploaded is None:
    st.info(
        "Choose a CSV or XLSX file with a job title column. Context columns (family, department, level…) "
        "and attribute columns (education, skills…) are optional."
    )
    job_id = active_job_id(project_id, "map")
    if job_id:
        show_job(job_id, label="Mapping", state_key="map_job")
    st.stop()

data = uploaded.getvalue()
opened = read_source(data, uploaded.name, uploaded.file_id)
if opened is None:
    st.stop()
frame, sheet = opened.frame, opened.sheet

for warning in opened.warnings:
    st.warning(warning)
st.subheader("Preview")
st.dataframe(frame.head(50), hide_index=True, width="stretch", height=250)
st.caption(
    f"{len(frame):,} rows · {len(frame.columns)} columns"
    + (f" · sheet “{md(sheet)}”" if sheet else "")
    + f" · header on row {opened.header_row}"
)
if opened.title_problem:
    st.stop()  # nothing on this sheet names a job: no roles to add

st.subheader("Columns")
guess = opened.guess  # detected again for every sheet and header row: the keys below carry both
columns = [str(c) for c in frame.columns]
choice = f"{uploaded.file_id}_{sheet}_{opened.header_row}"
title_column = st.selectbox(
    "Job title column",
    columns,
    index=columns.index(guess.title) if guess.title in columns else 0,
    help="Detected from the column names and values; change it if it is wrong.",
    key=f"title_col_{choice}",
)
st.caption("Context columns help the mapping (and are kept with each role):")
context_columns: dict[str, str] = {}
cells = st.columns(4)
for i, field in enumerate(CONTEXT_FIELDS):
    options = [NONE, *[c for c in columns if c != title_column]]
    guessed = guess.context.get(field)
    picked = cells[i % 4].selectbox(
        CONTEXT_LABELS.get(field, field),
        options,
        index=options.index(guessed) if guessed in options else 0,
        key=f"ctx_{field}_{choice}",
    )
    if picked != NONE:
        context_columns[field] = picked
used = {title_column, *context_columns.values()}
attribute_options = [c for c in columns if c not in used]
attribute_columns = st.multiselect(
    "Attribute columns",
    attribute_options,
    default=[c for c in guess.attributes if c in attribute_options],
    help="Values you want completed for every role (education, experience, skills…). Empty cells get filled later.",
    key=f"attrs_{choice}",
)
duplicates = [c for c in set(context_columns.values()) if list(context_columns.values()).count(c) > 1]
if duplicates:
    st.error(f"Column “{duplicates[0]}” is chosen for two context fields; pick it once.")
    st.stop()

try:
    built = build_roles(frame, title_column, context_columns, attribute_columns)
except IngestError as exc:
    st.error(str(exc))
    st.stop()
roles = built.roles

m = st.columns(3)
m[0].metric("Rows", f"{len(frame):,}")
m[1].metric(
    "Unique roles",
    f"{len(roles):,}",
    help="Titles that differ only in case, spacing, punctuation, a place, a store number, a shift or a gender tag "
    "are one role.",
)
m[2].metric("Attribute columns", len(attribute_columns))
for note in built.notes(title_column):
    st.caption(md(note))
merged = built.merged
if merged:
    with st.expander(f"{len(merged):,} roles merge titles written differently", icon=":material/merge:"):
        st.caption(
            "Places, store numbers, shifts, gender tags and requisition numbers do not make another role; "
            "each original title is kept with the role."
        )
        st.markdown("\n".join(f"- {md(item.describe())}" for item in merged[:MERGED_SHOWN]))
        if len(merged) > MERGED_SHOWN:
            st.caption(f"…and {len(merged) - MERGED_SHOWN:,} more.")

digest = hashlib.sha256(data).hexdigest()[:16]
done_key = f"uploaded_{project_id}_{digest}_{sheet}_{title_column}"
if st.session_state.get(done_key):
    st.success(st.session_state[done_key], icon=":material/check_circle:")
elif st.button(
    f"Add {len(roles):,} roles to the project" + (f" from sheet “{sheet}”" if sheet else ""),
    type="primary",
    key="add_roles",
):
    try:
        with session() as s, st.spinner("Storing the roles…"):
            upload = create_upload(
                s,
                project_id,
                uploaded.name,
                data,
                sheet,
                title_column,
                context_columns,
                attribute_columns,
                user,
                frame=frame,  # the table previewed above: the same sheet and header row
            )
            summary = upload.summary
    except IngestError as exc:
        st.error(str(exc))
        st.stop()
    st.session_state[done_key] = (
        f"“{md(uploaded.name)}” added: {summary.new_roles:,} new roles"
        + (f", {summary.merged_roles:,} merged into roles already in the project" if summary.merged_roles else "")
        + f" ({summary.rows:,} rows)."
    )
    st.rerun()

with session() as s:
    stats = project_stats(s, project_id)
if stats.roles:
    st.divider()
    st.subheader("Map roles")
    map_controls(project_id, user, stats)
