"""Who is working in this browser session: the signed-in OIDC user, else JOBFORGE_USER, else a name asked here.

Without OIDC the name belongs to the browser session (``st.session_state``), never to the server: two
browsers are two people, and "Switch user" signs out only this one. For convenience the name is also
kept in a cookie of this browser (``jobforge_user``, 30 days), so a new tab or a reload does not ask
again. Streamlit reads cookies (``st.context.cookies``) but cannot set them, so a one-line script does,
through ``st.html(..., unsafe_allow_javascript=True)``: Streamlit's own element, no extra package and
no iframe (a component's sandboxed iframe may not reach the app's cookies).

The name is not a credential: anyone can type any name. Teams that need to know who is who
configure OIDC (``st.login``); then the signed-in identity is used and nothing is asked.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import streamlit as st

from jobforge.config import get_settings

USER_KEY = "jobforge_user"
SIGNED_OUT_KEY = "jobforge_signed_out"  # this session chose "Switch user": ignore the browser's cookie
COOKIE = "jobforge_user"
COOKIE_DAYS = 30
_NAME_OK = re.compile(r"^[\w .@'-]{1,80}$")


def oidc_configured() -> bool:
    """True when the deployment has an ``[auth]`` section in its secrets and st.login exists."""
    if not hasattr(st, "login"):
        return False
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _cookie_name() -> str | None:
    """The name this browser remembered, when it is a valid one."""
    raw = st.context.cookies.get(COOKIE)
    name = " ".join(unquote(raw or "").split())
    return name if _NAME_OK.match(name) else None


def current_user() -> str | None:
    """The OIDC identity; else JOBFORGE_USER (a single-user set-up); else this browser session's name."""
    if oidc_configured():
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "signed-in user")
        return None
    configured = get_settings().user
    if configured:
        return configured
    if USER_KEY not in st.session_state and not st.session_state.get(SIGNED_OUT_KEY):
        remembered = _cookie_name()
        if remembered:
            st.session_state[USER_KEY] = remembered
    return st.session_state.get(USER_KEY)


def _set_cookie(name: str | None) -> None:
    """Remember ``name`` in this browser (None forgets it). ``quote`` leaves only [A-Za-z0-9%._~-]."""
    value, max_age = (quote(name, safe=""), COOKIE_DAYS * 86400) if name else ("", 0)
    st.html(
        f"<script>document.cookie = '{COOKIE}={value}; path=/; max-age={max_age}; SameSite=Strict';</script>",
        unsafe_allow_javascript=True,
    )


def sign_in_page() -> None:
    """The sign-in page: OIDC's button when configured, else a name asked once per browser."""
    st.title("Welcome to JobForge")
    if oidc_configured():
        st.write("Sign in so that your reviews are recorded under your name.")
        st.button("Sign in", type="primary", on_click=st.login)
        return
    if st.session_state.get(SIGNED_OUT_KEY) and st.context.cookies.get(COOKIE):
        _set_cookie(None)  # "Switch user": this browser forgets the name it sent when it connected
    st.write("Every change you make is recorded in the audit log under your name. Who are you?")
    with st.form("who"):
        name = st.text_input("Your name", placeholder="e.g. Ada Lovelace", key="who_name")
        submitted = st.form_submit_button("Continue", type="primary")
    if submitted:
        name = " ".join((name or "").split())
        if not _NAME_OK.match(name):
            st.error("Please enter a name of up to 80 letters, digits, spaces or . @ ' - characters.")
            return
        st.session_state[USER_KEY] = name
        st.session_state.pop(SIGNED_OUT_KEY, None)
        st.rerun()


def sign_out_control() -> None:
    """Sidebar control to sign out (OIDC) or switch the user of this browser session."""
    if oidc_configured():
        st.sidebar.button("Sign out", on_click=st.logout)
        return
    if get_settings().user:
        st.sidebar.caption("Set by JOBFORGE_USER.")
        return
    name = st.session_state.get(USER_KEY)
    if name and st.context.cookies.get(COOKIE) != quote(name, safe=""):
        with st.sidebar:
            _set_cookie(name)  # the next tab or reload of this browser is signed in as the same person
    if st.sidebar.button("Switch user", key="switch_user"):
        st.session_state.pop(USER_KEY, None)
        st.session_state[SIGNED_OUT_KEY] = True
        st.rerun()
