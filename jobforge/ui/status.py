"""Store, O*NET release and provider status shown in the sidebar and on Home/Admin."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from jobforge.config import get_settings
from jobforge.llm.factory import available_providers
from jobforge.onet.repository import active_release
from jobforge.onet.sync import load_default_release as load_release_from_settings
from jobforge.ui.errors import reported
from jobforge.ui.store import store_engine


def release_summary(session: Session) -> str | None:
    release = active_release(session)
    if release is None:
        return None
    occupations = (release.counts or {}).get("occupations") or (release.counts or {}).get("onet_occupation")
    suffix = f" · {occupations:,} occupations" if isinstance(occupations, int) else ""
    return f"{release.version.replace('_', '.')}{suffix}"


def load_default_release(user: str) -> str:
    """Load the configured O*NET release (local zip, earlier download, else the official site) as ``user``."""
    result = load_release_from_settings(store_engine(), user=user)
    return f"O*NET {result.version.replace('_', '.')} loaded: {result.occupation_count:,} occupations."


def load_default_release_button(user: str, *, key: str) -> None:
    """The "Load O*NET" button for admins; others read who can load it."""
    from jobforge.access import Permission
    from jobforge.ui.access import can

    if not can(Permission.RELEASE_MANAGE):
        st.caption("An admin can load the O*NET release.")
        return
    version = get_settings().onet_version.replace("_", ".")
    if st.button(f"Load O*NET {version}", key=key, type="primary", help="Takes about half a minute."):
        # A failure is logged by the loader, which keeps the old release.
        with reported("Loading O*NET failed") as outcome, st.spinner(f"Loading O*NET {version}…"):
            message = load_default_release(user)
        if not outcome.ok:
            return
        st.toast(message, icon=":material/check_circle:")
        st.rerun()


@st.cache_data(ttl=60, show_spinner=False)
def provider_status() -> dict[str, tuple[bool, str]]:
    """Provider -> (available, reason); configuration only, no network call."""
    return {name: (a.available, a.reason) for name, a in available_providers(get_settings()).items()}


def availability_icon(ok: bool) -> str:
    return ":green[:material/check_circle:]" if ok else ":gray[:material/radio_button_unchecked:]"


def show_providers(*, compact: bool = False) -> None:
    status = provider_status()
    if not status:
        st.caption("LLM providers: not configured — mapping runs offline.")
        return
    parts = [f"{availability_icon(ok)} {name}" for name, (ok, _) in status.items()]
    if compact:
        st.caption("Providers: " + " · ".join(parts) + " · offline always available")
        return
    for name, (ok, reason) in status.items():
        st.write(f"{availability_icon(ok)} **{name}** — {reason}")
    st.write(f"{availability_icon(True)} **offline** — built-in selector, no key needed")
