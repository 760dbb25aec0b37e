"""Starting a mapping run from a page: provider, scope, the cost estimate, the job's progress."""

from __future__ import annotations

import streamlit as st

from jobforge.errors import JobForgeError
from jobforge.mapping.service import estimate_cost
from jobforge.ui.jobs import active_job_id, show_job
from jobforge.ui.status import provider_status
from jobforge.ui.store import session

SCOPES = {
    "unmapped": "Roles without a proposal",
    "low": "LOW proposals again",
    "unconfirmed": "Every role not yet reviewed (confirmed, overridden and needs-info roles are kept)",
    "all": "All roles (confirmed and analyst choices are kept)",
}
PROVIDER_LABELS = {
    "offline": "Offline (built-in, free)",
    "auto": "Auto (an available LLM, else offline)",
    "anthropic": "Anthropic Claude",
    "openai": "OpenAI",
}


def map_controls(project_id: int, user: str, stats) -> None:
    running = active_job_id(project_id, "map")
    if running:
        show_job(running, label="Mapping", state_key="map_job")
        return
    last = st.session_state.get(f"map_job_{project_id}")
    if last:
        snap = show_job(last, label="Mapping", state_key=f"map_job_{project_id}")
        if snap and snap["status"] == "done":
            st.page_link("pages/review.py", label="Review the proposals (LOW first)", icon=":material/fact_check:")
    status = provider_status()
    providers = ["offline", "auto"] + [name for name, (ok, _) in status.items() if ok]
    left, right = st.columns(2)
    provider = left.radio(
        "Provider", providers, format_func=lambda p: PROVIDER_LABELS.get(p, p), key="map_provider", horizontal=True
    )
    unmapped = stats.roles - stats.mapped
    scope = right.selectbox(
        "Which roles",
        list(SCOPES),
        index=0 if unmapped else 2,
        format_func=lambda s: SCOPES[s],
        key="map_scope",
    )
    batch_api = provider in ("anthropic", "openai") and st.checkbox(
        "Use the provider's batch API: half the price, results within 24 hours (the job waits and resumes)",
        key="map_batch_api",
    )
    if provider not in ("offline",):
        _show_estimate(project_id, provider, scope, batch_api)
    label = f"Map {unmapped:,} unmapped roles" if scope == "unmapped" else "Map roles"
    if st.button(label, type="primary", key="map_start", disabled=scope == "unmapped" and unmapped == 0):
        from jobforge.jobs.queue import enqueue

        with session() as s:
            params = {"provider": provider, "scope": scope} | ({"batch_api": True} if batch_api else {})
            job = enqueue(s, "map", project_id, params, user)
            job_id = job.id
        st.session_state[f"map_job_{project_id}"] = job_id
        st.rerun()
    if scope == "unmapped" and unmapped == 0:
        st.caption("Every role has a proposal. Choose another scope to map again, or go to Review.")
        st.page_link("pages/review.py", label="Review the proposals", icon=":material/fact_check:")


def _show_estimate(project_id: int, provider: str, scope: str, batch_api: bool = False) -> None:
    try:
        with session() as s:
            estimate = estimate_cost(s, project_id, provider, scope, batch_api=batch_api)
    except JobForgeError as exc:  # an unavailable provider: say so, the run itself falls back
        st.caption(f"No estimate: {exc}")
        return
    st.info(
        f"Estimate for {provider}{' (batch API)' if batch_api else ''}: **{estimate.calls:,}** LLM calls, "
        f"~{estimate.input_tokens:,} input and "
        f"~{estimate.output_tokens:,} output tokens, about **${estimate.usd:,.2f}**"
        + (
            f", including the model's readings of ~{estimate.reading_roles:,} weakly matched titles. "
            if estimate.reading_roles
            else ". "
        )
        + "Roles an analyst already confirmed with the same title are taken from precedent at no cost.",
        icon=":material/payments:",
    )
