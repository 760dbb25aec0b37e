"""Attributes: every role's values with where they came from; override any value; run the completion job."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.db.models import SourceType
from jobforge.imputation.attributes import attributes_by_role, project_attribute_names, source_counts
from jobforge.projects import list_projects, project_stats, role_titles
from jobforge.ui.badges import PROVENANCE_HELP, provenance_badge
from jobforge.ui.charts import provenance_chart
from jobforge.ui.jobs import active_job_id, show_job
from jobforge.ui.project import require_project
from jobforge.ui.status import provider_status
from jobforge.ui.store import session
from jobforge.ui.text import md
from jobforge.ui.user import current_user

ROLE_KEY = "attr_role"
FLASH = "attr_flash"

user = current_user() or "unknown"
with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)

st.title("Attributes")
st.caption(
    "Empty values are completed in precedence order: ANALYST › SOURCE › HIERARCHY › ONET › LLM. "
    "Every value shows where it came from; imputed values are proposals, not facts."
)
if FLASH in st.session_state:
    st.toast(st.session_state.pop(FLASH), icon=":material/check_circle:")

with session() as s:
    stats = project_stats(s, project_id)
    roles = role_titles(s, project_id)
    names = project_attribute_names(s, project_id)
    filled = source_counts(s, project_id)
if not roles:
    st.info("No roles yet: upload a spreadsheet with attribute columns first.")
    st.page_link("pages/upload.py", label="Upload a spreadsheet", icon=":material/upload_file:")
    st.stop()

# ---------------------------------------------------------------- completion job
with st.container(border=True):
    st.markdown("**Complete missing values**")
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
        if stats.mapped < stats.roles:
            st.caption(
                f"{stats.roles - stats.mapped:,} roles have no O*NET proposal yet: they can only inherit "
                "from your own job architecture."
            )

if not names:
    st.info("This project has no attribute columns. Choose attribute columns when uploading a spreadsheet.")
    st.stop()

# ---------------------------------------------------------------- overview
counts = pd.DataFrame(filled, columns=["Attribute", "Source", "Roles"])
counts["Source"] = counts["Source"].fillna("SOURCE")
per_name = counts.groupby("Attribute")["Roles"].sum()
empty = [{"Attribute": n, "Source": "EMPTY", "Roles": len(roles) - int(per_name.get(n, 0))} for n in names]
counts = pd.concat([counts, pd.DataFrame(empty)], ignore_index=True)
with st.expander("Where the values come from", expanded=True):
    provenance_chart(counts[counts["Attribute"].isin(names)])
    st.caption(" · ".join(f"**{k}**: {v}" for k, v in PROVENANCE_HELP.items()))

# ---------------------------------------------------------------- one role
titles = {rid: title for rid, title in roles}
ids = list(titles)
if st.session_state.get(ROLE_KEY) not in titles:
    st.session_state[ROLE_KEY] = ids[0]
role_id = st.selectbox("Role", ids, format_func=titles.get, key=ROLE_KEY, help="Type to search.")

with session() as s:
    stored = attributes_by_role(s, [role_id])[role_id]
values = [(name, stored.get(name)) for name in names]

header = st.columns([2, 3, 1.2, 1, 3])
for col, label in zip(header, ["Attribute", "Value", "Source", "Confidence", "Why"], strict=True):
    col.caption(label)
for name, a in values:
    row = st.columns([2, 3, 1.2, 1, 3], vertical_alignment="center")
    row[0].markdown(f"**{md(name)}**")
    has = a is not None and a.value not in (None, "")
    row[1].text(a.value if has else "—")
    with row[2]:
        provenance_badge(a.source_type if has else None)
    row[3].text(f"{a.confidence:.0%}" if has and a.confidence is not None else "")
    why = ""
    if has:
        why = a.rationale or ""
        if a.donor:
            why = f"{why} (from {a.donor})".strip()
        if a.model_used:
            why = f"{why} · {a.model_used}"
        if a.source_type == SourceType.ANALYST and a.updated_by:
            why = f"set by {a.updated_by}"
    row[4].caption(md(why) if why else ("" if has else "empty: run the completion above, or override"))

st.markdown("**Override a value**")
with st.form(f"override_{role_id}", clear_on_submit=True):
    c1, c2 = st.columns([1, 2])
    name = c1.selectbox("Attribute", names, key=f"override_name_{role_id}")
    value = c2.text_input("New value", key=f"override_value_{role_id}")
    submitted = st.form_submit_button("Save override", type="primary")
if submitted:
    if not value.strip():
        st.error("Type the value to use (an override cannot be empty).")
    else:
        from jobforge.imputation.overrides import set_attribute

        with session() as s:
            set_attribute(s, role_id, name, value.strip(), user)
        st.session_state[FLASH] = f"{md(name)} of “{md(titles[role_id])}” set to “{md(value.strip())}”"
        st.rerun()
