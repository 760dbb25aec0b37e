"""Admin: O*NET releases and the sync log, providers, the audit log, tier calibration, jobs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from jobforge.access import Permission
from jobforge.config import get_settings
from jobforge.jobs.queue import list_jobs
from jobforge.onet.loader import load_release
from jobforge.onet.releases import list_releases, recent_syncs
from jobforge.onet.sync import OnetSyncService
from jobforge.projects import list_projects
from jobforge.review.queries import audit_actions, audit_events, audit_users, calibration, tier_model_figures
from jobforge.ui.access import require_or_stop
from jobforge.ui.errors import reported
from jobforge.ui.second_opinions_admin import second_opinions_section
from jobforge.ui.status import availability_icon, load_default_release_button, provider_status
from jobforge.ui.store import session, store_engine, store_label
from jobforge.ui.user import current_user
from jobforge.ui.users_admin import users_section

user = current_user() or "unknown"
require_or_stop(Permission.USERS_MANAGE)  # the whole page is for admins
st.title("Admin")
st.caption(f"Store: `{store_label()}`")

releases_tab, providers_tab, audit_tab, calibration_tab, jobs_tab, users_tab, opinions_tab = st.tabs(
    ["O*NET releases", "Providers", "Audit log", "Calibration", "Jobs", "Users", "Second opinions"]
)

# ---------------------------------------------------------------- O*NET
with releases_tab:
    with session() as s:
        releases = list_releases(s)
        log = recent_syncs(s, limit=50)
    if releases:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Version": r.version.replace("_", "."),
                        "Active": "active" if r.is_active else "",
                        "Loaded": r.loaded_at.strftime("%Y-%m-%d %H:%M"),
                        "Occupations": r.occupation_count,
                        "Source": r.source,
                    }
                    for r in releases
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.warning("No O*NET release is loaded.")
    inactive = [r.version for r in releases if not r.is_active]
    if inactive:
        a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
        version_to_activate = a1.selectbox("Make another loaded release active", inactive, key="admin_activate_pick")
        if a2.button("Activate", key="admin_activate"):
            from jobforge.onet.releases import activate_release

            activate_release(store_engine(), version_to_activate, user=user)
            st.toast(f"O*NET {version_to_activate} is now active for new mappings.", icon=":material/check_circle:")
            st.rerun()
    c1, c2 = st.columns(2)
    with c1, st.container(border=True):
        st.markdown("**Load the configured release**")
        st.caption(
            f"Version {get_settings().onet_version.replace('_', '.')} from "
            f"{get_settings().resolved_onet_source() or 'the O*NET Resource Center'}."
        )
        load_default_release_button(user, key="admin_load_default")
        version = st.text_input("Or sync another version", placeholder="e.g. 29_3", key="admin_sync_version")
        if st.button("Sync version", key="admin_sync", disabled=not version.strip()):
            # A failure is logged by the service; the previous release stays active.
            with reported("Sync failed"), st.spinner(f"Syncing O*NET {version}…"):
                result = OnetSyncService(store_engine()).sync(version.strip(), user=user)
                st.success(f"O*NET {result.version} loaded: {result.occupation_count:,} occupations.")
    with c2, st.container(border=True):
        st.markdown("**Load from a file**")
        release_file = st.file_uploader("O*NET text release (db_XX_X_text.zip)", type=["zip"], key="admin_zip")
        if release_file is not None and st.button("Load this release", key="admin_load_zip", type="primary"):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(release_file.name).name
                path.write_bytes(release_file.getvalue())
                with reported("Loading failed"), st.spinner("Loading…"):
                    result = load_release(store_engine(), path, source_label=release_file.name, user=user)
                    st.success(f"O*NET {result.version} loaded: {result.occupation_count:,} occupations.")
    st.markdown("**Sync log**")
    if log:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Started": e.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "Version": e.version,
                        "Status": e.status,
                        "Source": e.source,
                        "Error": e.error or "",
                    }
                    for e in log
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("Nothing loaded yet.")

# ---------------------------------------------------------------- providers
with providers_tab:
    status = provider_status()
    settings = get_settings()
    if not status:
        st.info("No LLM provider module is installed; mapping runs offline.")
    for name, (ok, reason) in status.items():
        with st.container(border=True):
            c1, c2 = st.columns([3, 1], vertical_alignment="center")
            model = getattr(settings, f"{name}_model", "")
            c1.markdown(f"{availability_icon(ok)} **{name}** · model `{model}`")
            c1.caption(reason)
            if c2.button("Test connection", key=f"test_{name}", disabled=not ok):
                from jobforge.llm.factory import check_connection

                with st.spinner(f"Calling {name}…"):
                    result = check_connection(name, settings)
                (st.success if result.available else st.error)(f"{name}: {result.reason}")
    st.caption(
        "Keys come from ANTHROPIC_API_KEY / OPENAI_API_KEY (environment, .env or Streamlit secrets); models from "
        "JOBFORGE_ANTHROPIC_MODEL / JOBFORGE_OPENAI_MODEL. Without a key, mapping uses the offline selector."
    )

# ---------------------------------------------------------------- audit
with audit_tab:
    with session() as s:
        users = audit_users(s)
        actions_seen = audit_actions(s)
        projects = {p.id: p.name for p in list_projects(s)}
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox("User", ["All", *users], key="audit_user")
    project = c2.selectbox("Project", ["All", *projects], format_func=lambda p: projects.get(p, p), key="audit_project")
    action = c3.selectbox("Action", ["All", *actions_seen], key="audit_action")
    with session() as s:
        events = audit_events(
            s,
            project_id=None if project == "All" else project,
            user=None if who == "All" else who,
            action=None if action == "All" else action,
            limit=500,
        )
    if events.empty:
        st.caption("No audit events match.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "When": events["at"].map(lambda at: at.strftime("%Y-%m-%d %H:%M:%S")),
                    "User": events["user"],
                    "Project": events["project_id"].map(lambda p: projects.get(p, "")),
                    "Action": events["action"],
                    "Entity": [
                        f"{t} {'' if pd.isna(i) else int(i)}".strip()
                        for t, i in zip(events["entity_type"], events["entity_id"], strict=True)
                    ],
                    "Before": events["before"].fillna(""),
                    "After": events["after"].fillna(""),
                }
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(f"{len(events):,} most recent events (up to 500).")

# ---------------------------------------------------------------- calibration
TIER_MODEL_LABELS = {
    "source": "Source",
    "titles": "Titles",
    "high_precision": "HIGH precision",
    "high_coverage": "HIGH coverage",
    "medium_precision": "MEDIUM precision",
    "medium_coverage": "MEDIUM coverage",
    "low_coverage": "LOW share",
}
with calibration_tab:
    st.caption(
        "Per proposed tier: of the roles analysts reviewed one by one, how often they kept the proposal "
        "unchanged. Bulk decisions (confirm all HIGH) are counted apart: nobody looked at those roles singly."
    )
    with session() as s:
        reviewed = calibration(s)
    reviewed = reviewed[reviewed["reviewed"] > 0]
    if reviewed.empty:
        st.info("No reviewed roles yet: calibration appears once analysts confirm or change proposals.")
    else:
        table = pd.DataFrame(
            {
                "Tier": reviewed["tier"],
                "Reviewed": reviewed["reviewed"],
                "Kept unchanged": reviewed["confirmed_unchanged"],
                "Share kept": reviewed["share"].map(lambda share: f"{share:.0%}"),
                "Decided in bulk": reviewed["decided_in_bulk"],
            }
        )
        st.dataframe(table, hide_index=True)
        st.caption("Targets: HIGH ≥ 90 %, MEDIUM ≥ 70 %. A tier far below its target means its threshold is too loose.")
    st.subheader("Offline tier model")
    with session() as s:
        model = tier_model_figures(s)
    st.caption(model.description)
    if not model.measured.empty:
        shown = model.measured.rename(columns=TIER_MODEL_LABELS)
        for column in list(TIER_MODEL_LABELS.values())[2:]:
            shown[column] = shown[column].map(lambda share: "–" if share is None or pd.isna(share) else f"{share:.1%}")
        st.dataframe(shown, hide_index=True)
        st.caption(
            "Measured at fit time on the REPORT part of the labelled titles (title buckets 5–9), which the fit "
            "never saw: precision = share of rank-1 proposals in the tier that are right; coverage = share of titles."
        )

# ---------------------------------------------------------------- jobs
with jobs_tab:
    with session() as s:
        jobs = list_jobs(s)[:50]
        names = {p.id: p.name for p in list_projects(s)}
    if not jobs:
        st.caption("No jobs yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Job": j.id,
                        "Kind": j.kind,
                        "Project": names.get(j.project_id, ""),
                        "Status": j.status,
                        "Progress": f"{j.progress_done:,}/{j.progress_total:,}" if j.progress_total else "—",
                        "Message": j.error or j.message or "",
                        "By": j.created_by or "",
                        "Created": j.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    }
                    for j in jobs
                ]
            ),
            hide_index=True,
            width="stretch",
        )

# ---------------------------------------------------------------- users
with users_tab:
    users_section(user)

# ---------------------------------------------------------------- second opinions
with opinions_tab:
    second_opinions_section(user)
