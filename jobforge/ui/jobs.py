"""Job progress on a page: a fragment that polls the job row until it ends."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from jobforge.db.models import Job, JobStatus
from jobforge.ui.store import session

POLL_SECONDS = 1.0
_ENDED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


def job_snapshot(job_id: int) -> dict | None:
    with session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return None
        return {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "done": job.progress_done,
            "total": job.progress_total,
            "message": job.message,
            "error": job.error,
            "result": dict(job.result or {}),
        }


def show_job(job_id: int, *, label: str, state_key: str) -> dict | None:
    """Show a running job's progress (polling) or its outcome. Returns the last snapshot."""
    snap = job_snapshot(job_id)
    if snap is None:
        st.session_state.pop(state_key, None)
        return None
    if snap["status"] in _ENDED:
        _show_outcome(snap, label)
        return snap
    _poll(job_id, label, state_key)
    return snap


def _show_outcome(snap: dict, label: str) -> None:
    if snap["status"] == JobStatus.DONE:
        st.success(f"{label} finished: {snap['message'] or 'done'}.", icon=":material/check_circle:")
    elif snap["status"] == JobStatus.FAILED:
        error = (snap["error"] or snap["message"] or "unknown error").rstrip(".")
        st.error(f"{label} failed: {error}. Nothing done so far is lost; start it again to resume.")
    else:
        st.warning(f"{label} was cancelled.")


@st.fragment(run_every=timedelta(seconds=POLL_SECONDS))
def _poll(job_id: int, label: str, state_key: str) -> None:
    snap = job_snapshot(job_id)
    if snap is None:
        return
    if snap["status"] in _ENDED:
        st.rerun()  # the whole page redraws with the outcome (and fresh data)
    total = max(snap["total"], 1)
    share = min(snap["done"] / total, 1.0)
    waiting = snap["status"] == JobStatus.QUEUED
    text = progress_text(label, snap)
    st.progress(share, text=text)
    if snap["status"] == JobStatus.RETRYING:  # a store fault: shown, retried with backoff, resumed from its cursor
        st.warning(f"The store failed under this job ({snap['error']}); it retries by itself.", icon=":material/sync:")
    if waiting:
        st.caption("On Postgres, jobs are run by `python -m jobforge worker` processes; start one if none is running.")


def progress_text(label: str, snap: dict) -> str:
    """What a job's progress bar says: a real count, never "0 of 0" (before the count is known, the
    job is preparing: building the search index)."""
    if snap["status"] == JobStatus.QUEUED:
        return f"{label}: waiting for a worker…"
    if not snap["total"]:
        return f"{label}: building the index…"
    return f"{label}: {snap['done']:,} of {snap['total']:,} — {snap['message'] or 'working'}"


def active_job_id(project_id: int, kind: str) -> int | None:
    """The project's queued or running job of ``kind`` (so a refreshed page finds it again)."""
    from sqlalchemy import select

    with session() as s:
        return s.scalar(
            select(Job.id)
            .where(
                Job.project_id == project_id,
                Job.kind == kind,
                Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING]),
            )
            .order_by(Job.id.desc())
            .limit(1)
        )
