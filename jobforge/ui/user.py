"""Who is working: the signed-in OIDC user, else a local name asked once and remembered."""

from __future__ import annotations

import re

import streamlit as st

from jobforge.config import get_settings

USER_KEY = "jobforge_user"
USER_FILE_NAME = "user.txt"
_NAME_OK = re.compile(r"^[\w .@'-]{1,80}$")


def oidc_configured() -> bool:
    """True when the deployment has an ``[auth]`` section in its secrets and st.login exists."""
    if not hasattr(st, "login"):
        return False
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _user_file():
    return get_settings().data_dir / USER_FILE_NAME


def remembered_local_user() -> str | None:
    """The configured user (JOBFORGE_USER), else the name saved by this machine's last session."""
    configured = get_settings().user
    if configured:
        return configured
    path = _user_file()
    if path.exists():
        name = path.read_text(encoding="utf-8").strip()
        return name or None
    return None


def remember_local_user(name: str) -> None:
    path = _user_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(name, encoding="utf-8")


def current_user() -> str | None:
    if oidc_configured():
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "signed-in user")
        return None
    if USER_KEY not in st.session_state:
        remembered = remembered_local_user()
        if remembered:
            st.session_state[USER_KEY] = remembered
    return st.session_state.get(USER_KEY)


def sign_in_page() -> None:
    """The sign-in page: OIDC's button when configured, else a name asked once (remembered on this machine)."""
    st.title("Welcome to JobForge")
    if oidc_configured():
        st.write("Sign in so that your reviews are recorded under your name.")
        st.button("Sign in", type="primary", on_click=st.login)
        return
    st.write("Every change you make is recorded in the audit log under your name. Who are you?")
    with st.form("who"):
        name = st.text_input("Your name", placeholder="e.g. Ada Lovelace", key="who_name")
        submitted = st.form_submit_button("Continue", type="primary")
    if submitted:
        name = (name or "").strip()
        if not _NAME_OK.match(name):
            st.error("Please enter a name of up to 80 letters, digits, spaces or . @ ' - characters.")
            return
        remember_local_user(name)
        st.session_state[USER_KEY] = name
        st.rerun()


def sign_out_control() -> None:
    """Sidebar control to sign out (OIDC) or switch the local user."""
    if oidc_configured():
        st.sidebar.button("Sign out", on_click=st.logout)
        return
    if st.sidebar.button("Switch user", key="switch_user"):
        st.session_state.pop(USER_KEY, None)
        path = _user_file()
        if path.exists() and not get_settings().user:
            path.unlink()
        st.rerun()
