"""Attributes: the role × attribute table (source, confidence, agreement, O*NET check), edited in place."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.imputation.attributes import role_provenance, source_counts
from jobforge.imputation.edits import bulk_set, save_cells
from jobforge.imputation.grid import attribute_grid
from jobforge.imputation.row_values import count_project_uploads, uncounted_uploads
from jobforge.projects import list_projects, project_stats
from jobforge.ui.attribute_table import (
    CONFLICT_MARK,
    EMPTY,
    SELECT,
    Filters,
    column_config,
    editor_key,
    grid_frame,
    pending_edits,
)
from jobforge.ui.badges import PROVENANCE_HELP
from jobforge.ui.charts import provenance_chart
from jobforge.ui.errors import reported
from jobforge.ui.jobs import active_job_id, show_job
from jobforge.ui.project import require_project
from jobforge.ui.status import provider_status
from jobforge.ui.store import session
from jobforge.ui.text import md
from jobforge.ui.user import current_user

FLASH = "attr_flash"
SHOWN = "attr_shown"  # the table rendered last run: (project id, editor key, view, versions, names)
SELECTED = "attr_selected"  # role ids ticked for a bulk set, by project
GENERATION = "attr_generation"
SOURCES = ["ANALYST", "SOURCE", "HIERARCHY", "ONET", "LLM", EMPTY]

user = current_user() or "unknown"
with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)

st.title("Attributes")
st.caption(
    "A value in a spreadsheet row is that row's own (SOURCE) and is exported as it was; a role shows its rows' "
    "most common value and how many rows agree. Empty cells are completed in precedence order: "
    "ANALYST › SOURCE › HIERARCHY › ONET › LLM; imputed values are proposals, not facts."
)
flash = st.session_state.pop(FLASH, None)
if flash:
    (st.error if flash[0] == "error" else st.toast)(flash[1])

# ---------------------------------------------------------------- edits made in the table last run
# They are applied against the table the analyst saw (its versions), before the store is read again.
shown = st.session_state.get(SHOWN)
selected: set[int] = st.session_state.setdefault(SELECTED, {}).setdefault(project_id, set())
if shown and shown[0] == project_id:
    _, last_key, last_view, last_versions, last_names = shown
    edits, ticks = pending_edits(last_view, st.session_state.get(last_key), last_names, last_versions)
    for role_id, ticked in ticks.items():
        (selected.add if ticked else selected.discard)(role_id)
    if edits:
        keep_message = lambda message: st.session_state.__setitem__(FLASH, ("error", message))  # noqa: E731
        with reported("Not saved", show=keep_message) as outcome, session() as s:
            result = save_cells(s, project_id, edits, user)
        if outcome.ok:
            done = result.saved + result.cleared
            st.session_state[FLASH] = ("ok", f"Saved {done} value{'s' if done != 1 else ''}")
        st.session_state.pop(last_key, None)
        st.session_state.pop(SHOWN, None)
        st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1  # a fresh editor, no replay
        st.rerun()

with session() as s:
    uncounted = uncounted_uploads(s, project_id)
if uncounted:  # uploads stored before rows were counted: count them once, from their files
    with session() as s:
        count_project_uploads(s, project_id, user)
with session() as s:
    stats = project_stats(s, project_id)
    grid = attribute_grid(s, project_id)
    filled = source_counts(s, project_id)
if not grid.rows:
    st.info("No roles yet: upload a spreadsheet with attribute columns first.")
    st.page_link("pages/upload.py", label="Upload a spreadsheet", icon=":material/upload_file:")
    st.stop()

# ---------------------------------------------------------------- completion job
with st.expander("Complete missing values", expanded=not filled, icon=":material/auto_fix_high:"):
    running = active_job_id(project_id, "impute")
    if running:
        show_job(running, label="Completing attributes", state_key="impute_job")
    else:
        last = st.session_state.get(f"impute_job_{project_id}")
        if last:
            show_job(last, label="Completing attributes", state_key=f"impute_job_{project_id}")
        available = [name for name, (ok, _) in provider_status().items() if ok]
        providers = ["auto", "offline", *available]
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        remembered = st.session_state.get("impute_provider_choice", "auto")
        provider = c1.radio(
            "LLM for values that inheritance cannot fill",
            providers,
            index=providers.index(remembered) if remembered in providers else 0,
            format_func=lambda p: {"auto": "Auto", "offline": "None (inheritance only)"}.get(p, p),
            horizontal=True,
            key="impute_provider",
        )
        st.session_state["impute_provider_choice"] = provider  # survives the reruns where the radio is hidden
        if c2.button("Run inheritance + imputation", type="primary", key="impute_start"):
            from jobforge.jobs.queue import enqueue

            with session() as s:
                job = enqueue(s, "impute", project_id, {"provider": provider}, user)
                st.session_state[f"impute_job_{project_id}"] = job.id
            st.rerun()
        st.caption(
            "Fills only roles none of whose rows has a value; a row's own value is never replaced. "
            + (
                f"{stats.roles - stats.mapped:,} roles have no O*NET proposal yet: they can only inherit."
                if stats.mapped < stats.roles
                else ""
            )
        )

if not grid.names:
    st.info("This project has no attribute columns. Choose attribute columns when uploading a spreadsheet.")
    st.stop()

requirements = [f"**{md(n)}**" for n in grid.names if grid.kinds[n].is_requirement]
personal = [f"**{md(n)}** ({md(grid.kinds[n].reason)})" for n in grid.names if not grid.kinds[n].is_requirement]
st.caption(
    ("Role requirements: " + ", ".join(requirements) + ". " if requirements else "")
    + ("Vary by person: " + ", ".join(personal) + " — a role's value is only its rows' most common one; "
       "the per-row export keeps each person's own." if personal else "")
)  # fmt: skip

# ---------------------------------------------------------------- filters
f1, f2, f3, f4 = st.columns([2, 3, 2.5, 1.6], vertical_alignment="bottom")
search = f1.text_input("Search titles", key="attr_search", placeholder="e.g. nurse")
names = f2.multiselect("Attributes shown", grid.names, default=grid.names, key="attr_names") or grid.names
sources = f3.multiselect("Source", SOURCES, key="attr_sources", help="Roles with a shown attribute from these sources.")
conflicts_only = f4.toggle("Conflicts only", key="attr_conflicts", help="Values that contradict O*NET's profile.")

frame = grid_frame(grid, names, selected)
view = Filters(search, tuple(sources), conflicts_only).apply(frame, names)
versions = {(row.role_id, name): row.cells[name].version for row in grid.rows for name in names}
conflicts = sum(view[f"{n} · O*NET"].str.startswith(CONFLICT_MARK).sum() for n in names)
st.caption(
    f"{len(view):,} of {len(frame):,} roles · {conflicts:,} value(s) contradict O*NET · "
    f"{len(selected):,} selected. Edit a value in place to override it (saved at once); empty an analyst's "
    "value to undo it."
)
key = f"{editor_key(view)}_{st.session_state.get(GENERATION, 0)}"
st.session_state[SHOWN] = (project_id, key, view, versions, names)
st.data_editor(
    view,
    key=key,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * max(len(view), 1), 460),
    column_config=column_config(grid, names),
    disabled=[column for column in view.columns if column != SELECT and column not in names],
)

# ---------------------------------------------------------------- bulk set
with st.form("attr_bulk", border=True):
    st.markdown("**Set a value for many roles**")
    b1, b2, b3 = st.columns([2, 3, 2], vertical_alignment="bottom")
    bulk_name = b1.selectbox("Attribute", names, key="attr_bulk_name")
    vocabulary_hint = " · ".join(grid.vocabularies[bulk_name].options()) if bulk_name in grid.vocabularies else ""
    bulk_value = b2.text_input("Value", key="attr_bulk_value", help=vocabulary_hint or None)
    chosen_shown = [role_id for role_id in view.index if role_id in selected]
    scope = b3.radio(
        "Apply to",
        ["selected", "shown"],
        format_func=lambda s: f"{len(chosen_shown):,} selected" if s == "selected" else f"all {len(view):,} shown",
        key="attr_bulk_scope",
        horizontal=True,
    )
    apply = st.form_submit_button("Set value", type="primary")
if apply:
    targets = chosen_shown if scope == "selected" else list(view.index)
    if not targets:
        st.error("Tick the roles to set in the Pick column first (or apply to all shown).")
    else:
        with reported("Not saved") as outcome, session() as s:
            result = bulk_set(
                s, project_id, bulk_name, bulk_value, {r: versions[(r, bulk_name)] for r in targets}, user
            )
        if outcome.ok:
            st.session_state[FLASH] = (
                "ok",
                f"{md(bulk_name)} set to “{md(bulk_value.strip())}” for {result.saved:,} roles",
            )
            st.session_state.pop(SHOWN, None)
            st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1  # a fresh editor: no old ticks
            selected.clear()
            st.rerun()

with st.expander("Where the values come from"):
    counts = pd.DataFrame(filled, columns=["Attribute", "Source", "Roles"])
    counts["Source"] = counts["Source"].fillna("SOURCE")
    per_name = counts.groupby("Attribute")["Roles"].sum()
    empty = [{"Attribute": n, "Source": EMPTY, "Roles": len(grid.rows) - int(per_name.get(n, 0))} for n in grid.names]
    counts = pd.concat([counts, pd.DataFrame(empty)], ignore_index=True)
    provenance_chart(counts[counts["Attribute"].isin(grid.names)])
    st.caption(" · ".join(f"**{k}**: {v}" for k, v in PROVENANCE_HELP.items()))

with st.expander("Why a role has its values"):
    explained = st.selectbox(
        "Role", list(view.index), format_func=lambda r: frame.at[r, "Title"], key="attr_explain", index=None
    )
    if explained is not None:
        with session() as s:
            for item in role_provenance(s, explained):
                if item["name"] not in names:
                    continue
                why = " · ".join(
                    str(part)
                    for part in (
                        item["rationale"],
                        item["donor"] and f"from {item['donor']}",
                        item["model_used"],
                        item["note"],
                    )
                    if part
                )
                st.markdown(f"**{md(item['name'])}**: {md(item['value'] or '—')} ({item['source_type'] or 'empty'})")
                if why:
                    st.caption(md(why))
