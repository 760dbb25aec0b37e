"""Access in the app: the signed-in user's role, and guards that stop a page with a clear message.

The services check permissions themselves (``jobforge.access.require``); these helpers only decide
what to show, so a refusal is explained up front instead of after a click.
"""

from __future__ import annotations

import streamlit as st

from jobforge.access import Permission, PermissionDenied, allowed, require, visible_project_ids
from jobforge.access.users import ensure_first_admin, find_user
from jobforge.ui.store import session
from jobforge.ui.user import current_user


def sign_in(user: str) -> str | None:
    """Record that ``user`` works here: the first user of a new store becomes its admin. Returns their role.

    None when the name is not a user of the store (they see no project until an admin adds them);
    while the store has one user, everyone works as in a single-user set-up.
    """
    with session() as s:
        ensure_first_admin(s, user)
        found = find_user(s, user)
        return found.role if found is not None else None


def can(permission: Permission, project_id: int | None = None) -> bool:
    """Whether the current user holds ``permission`` (in ``project_id`` when given)."""
    with session() as s:
        return allowed(s, current_user() or "", permission, project_id)


def visible_ids() -> set[int] | None:
    """The projects the current user may see; None for all of them."""
    with session() as s:
        return visible_project_ids(s, current_user() or "")


def require_or_stop(permission: Permission, project_id: int | None = None) -> None:
    """Stop the page with the reason when the current user lacks ``permission``."""
    try:
        with session() as s:
            require(s, current_user() or "", permission, project_id)
    except PermissionDenied as exc:
        st.info(exc.message, icon=":material/lock:")
        st.stop()
