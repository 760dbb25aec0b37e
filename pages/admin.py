"""Admin: O*NET releases and the sync log, providers, the audit log, tier calibration, jobs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import case, func, select

from jobforge.config import get_settings
from jobforge.db.models import AuditEvent, Job, Mapping, MappingStatus, OnetRelease, OnetSyncLog, Project, Role
from jobforge.ui.status import availability_icon, load_default_release_button, provider_status
from jobforge.ui.store import session, store_engine, store_label
from jobforge.ui.user import current_user

user = current_user() or "unknown"
st.title("Admin")
st.caption(f"Store: `{store_label()}`")

releases_tab, providers_tab, audit_tab, calibration_tab, jobs_tab = st.tabs(
    ["O*NET releases", "Providers", "Audit log", "Calibration", "Jobs"]
)

# ---------------------------------------------------------------- O*NET
with releases_tab:
    with session() as s:
        releases = s.scalars(select(OnetRelease).order_by(OnetRelease.loaded_at.desc())).all()
        log = s.scalars(select(OnetSyncLog).order_by(OnetSyncLog.id.desc()).limit(50)).all()
    if releases:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Version": r.version.replace("_", "."),
                        "Active": "active" if r.is_active else "",
                        "Loaded": r.loaded_at.strftime("%Y-%m-%d %H:%M"),
                        "Occupations": (r.counts or {}).get("occupations", (r.counts or {}).get("onet_occupation")),
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

            activate_release(store_engine(), version_to_activate)
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
            try:
                from jobforge.onet.sync import OnetSyncService

                with st.spinner(f"Syncing O*NET {version}…"):
                    result = OnetSyncService(store_engine()).sync(version.strip())
                st.success(f"O*NET {result.version} loaded: {result.occupation_count:,} occupations.")
            except Exception as exc:  # logged by the service; the previous release stays active
                st.error(f"Sync failed: {exc}")
    with c2, st.container(border=True):
        st.markdown("**Load from a file**")
        release_file = st.file_uploader("O*NET text release (db_XX_X_text.zip)", type=["zip"], key="admin_zip")
        if release_file is not None and st.button("Load this release", key="admin_load_zip", type="primary"):
            from jobforge.onet.loader import load_release

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(release_file.name).name
                path.write_bytes(release_file.getvalue())
                try:
                    with st.spinner("Loading…"):
                        result = load_release(store_engine(), path, source_label=release_file.name)
                    st.success(f"O*NET {result.version} loaded: {result.occupation_count:,} occupations.")
                except Exception as exc:
                    st.error(f"Loading failed: {exc}")
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
        users = s.scalars(select(AuditEvent.user).distinct().order_by(AuditEvent.user)).all()
        actions_seen = s.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
        projects = dict(s.execute(select(Project.id, Project.name).order_by(Project.name)).all())
    c1, c2, c3 = st.columns(3)
    who = c1.selectbox("User", ["All", *users], key="audit_user")
    project = c2.selectbox("Project", ["All", *projects], format_func=lambda p: projects.get(p, p), key="audit_project")
    action = c3.selectbox("Action", ["All", *actions_seen], key="audit_action")
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(500)
    if who != "All":
        query = query.where(AuditEvent.user == who)
    if project != "All":
        query = query.where(AuditEvent.project_id == project)
    if action != "All":
        query = query.where(AuditEvent.action == action)
    with session() as s:
        events = s.scalars(query).all()
    if not events:
        st.caption("No audit events match.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": e.at.strftime("%Y-%m-%d %H:%M:%S"),
                        "User": e.user,
                        "Project": projects.get(e.project_id, ""),
                        "Action": e.action,
                        "Entity": f"{e.entity_type} {e.entity_id or ''}".strip(),
                        "Before": json.dumps(e.before, ensure_ascii=False, default=str) if e.before else "",
                        "After": json.dumps(e.after, ensure_ascii=False, default=str) if e.after else "",
                    }
                    for e in events
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(f"{len(events):,} most recent events (up to 500).")

# ---------------------------------------------------------------- calibration
with calibration_tab:
    st.caption("Per proposed tier: of the roles analysts reviewed, how often they kept the proposal unchanged.")
    proposed_tier = func.coalesce(Mapping.proposed_tier, Mapping.tier)
    with session() as s:
        counts = s.execute(
            select(
                proposed_tier,
                func.count(),
                func.sum(case((Mapping.status == MappingStatus.CONFIRMED, 1), else_=0)),
            )
            .where(Mapping.status.in_(MappingStatus.ANALYST_OWNED))
            .group_by(proposed_tier)
        ).all()
    if not counts:
        st.info("No reviewed roles yet: calibration appears once analysts confirm or change proposals.")
    else:
        by_tier = {tier: (int(n), int(kept or 0)) for tier, n, kept in counts}
        table = pd.DataFrame(
            [
                {
                    "Tier": tier,
                    "Reviewed": by_tier[tier][0],
                    "Kept unchanged": by_tier[tier][1],
                    "Share kept": f"{by_tier[tier][1] / by_tier[tier][0]:.0%}",
                }
                for tier in ("HIGH", "MEDIUM", "LOW")
                if tier in by_tier
            ]
        )
        st.dataframe(table, hide_index=True)
        st.caption("Targets: HIGH ≥ 90 %, MEDIUM ≥ 70 %. A tier far below its target means its threshold is too loose.")

# ---------------------------------------------------------------- jobs
with jobs_tab:
    with session() as s:
        jobs = s.execute(
            select(Job, Project.name).outerjoin(Project, Project.id == Job.project_id).order_by(Job.id.desc()).limit(50)
        ).all()
        roles_total = s.scalar(select(func.count()).select_from(Role))
    if not jobs:
        st.caption("No jobs yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Job": j.id,
                        "Kind": j.kind,
                        "Project": name or "",
                        "Status": j.status,
                        "Progress": f"{j.progress_done:,}/{j.progress_total:,}",
                        "Message": j.error or j.message or "",
                        "By": j.created_by or "",
                        "Created": j.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    }
                    for j, name in jobs
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(f"{roles_total:,} roles in the store across all projects.")
