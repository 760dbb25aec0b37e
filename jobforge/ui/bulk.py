"""The review page's bulk controls: apply one code to the roles matching the filters (or picked ones), undo.

What an undo undoes is read from the audit log on the server (:func:`last_bulk_action`), so it still
works after a page reload or from another browser.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from jobforge.onet.repository import OnetRepository
from jobforge.review.bulk import apply_code, last_bulk_action, preview_apply, recent_codes, undo_bulk_action
from jobforge.ui.badges import STATUS_LABELS
from jobforge.ui.errors import reported
from jobforge.ui.store import session
from jobforge.ui.text import md

Flash = Callable[..., None]
SCOPE_ALL, SCOPE_PICKED = "all", "picked"


def _do_apply(
    project_id: int, role_ids: list[int], code: str, user: str, include: bool, described: str, flash: Flash
) -> None:
    with reported("Applying the code failed", show=lambda m: flash(m, ":material/warning:")) as outcome, session() as s:
        done = apply_code(s, project_id, role_ids, code, user, include_decided=include, described_as=described)
    if outcome.ok:
        st.session_state.pop("bulk_pick", None)
        st.session_state["bulk_open"] = False  # done: the grid and the panel come back up; Undo is in the bar
        flash(
            f"Applied {done.code} to {done.count:,} roles. You can undo this, even after a reload.",
            ":material/done_all:",
        )


def _do_undo(action_id: int, user: str, flash: Flash) -> None:
    with reported("Undo failed", show=lambda m: flash(m, ":material/warning:")) as outcome, session() as s:
        undone = undo_bulk_action(s, action_id, user)
    if outcome.ok:
        kept = f" ({undone.skipped:,} changed since then were left as they are)" if undone.skipped else ""
        flash(f"Undone: {undone.restored:,} roles are back to what they were{kept}.", ":material/undo:")


def undo_last_bulk(container: st.delta_generator.DeltaGenerator, project_id: int, user: str, flash: Flash) -> None:
    """An "Undo" button for the user's newest bulk action in the project that is not undone yet."""
    with session() as s:
        last = last_bulk_action(s, project_id, user)
    if last is None:
        return
    container.button(
        f"Undo: {last.describe(you=user)}",
        key="undo_bulk",
        icon=":material/undo:",
        on_click=_do_undo,
        args=(last.id, user, flash),
        help="Puts back every role of that bulk action that nobody changed since.",
    )


def _code_options(project_id: int, user: str, query: str, open_code: tuple[str, str] | None) -> list[tuple[str, str]]:
    with session() as s:
        if query.strip():
            return [(o.code, o.title) for o in OnetRepository(s).search(query, limit=15)]
        options = [open_code] if open_code else []
        return options + [item for item in recent_codes(s, project_id, user) if item[0] != (open_code or ("",))[0]]


def bulk_apply_panel(
    project_id: int,
    user: str,
    matched: pd.DataFrame,
    described_as: str,
    open_code: tuple[str, str] | None,
    flash: Flash,
) -> None:
    """Choose a code and apply it to every role of ``matched`` (role_id, title) or to picked ones, after a preview."""
    # A toggle, not an expander: the preview is only computed while the panel is open.
    label = f"Apply one code to many roles: {len(matched):,} ({described_as})"
    if not st.toggle(label, key="bulk_open", help="Choose an occupation, check the preview, apply; undo after."):
        return
    with st.container(border=True):
        titles = dict(zip(matched["role_id"].astype(int), matched["title"], strict=True))
        scope = st.radio(
            "Roles",
            [SCOPE_ALL, SCOPE_PICKED],
            # Fixed labels: a label that changed with the count would make the radio lose its choice.
            format_func={SCOPE_ALL: "Every role that matches", SCOPE_PICKED: "Only the roles I pick"}.get,
            horizontal=True,
            key="bulk_scope",
        )
        role_ids = list(titles)
        if scope == SCOPE_PICKED:
            role_ids = st.multiselect("Pick roles", list(titles), format_func=titles.get, key="bulk_pick")
        query = st.text_input(
            "Occupation to apply",
            key="bulk_code_query",
            placeholder="title or code; empty: the open role's and your recent codes",
        )
        options = _code_options(project_id, user, query, open_code)
        if not options:
            st.caption("No occupation matches: try a shorter word or the first digits of the code.")
            return
        code, title = st.selectbox("Code", options, format_func=lambda o: f"{o[0]} · {o[1]}", key="bulk_code")
        include = st.checkbox("Also change roles already confirmed or overridden", key="bulk_include")
        with session() as s:
            preview = preview_apply(s, project_id, role_ids, code, include)
        left = (
            f" · {preview.left_decided:,} already decided are left alone (tick the box to change them too)"
            if preview.left_decided
            else ""
        )
        same = f" · {preview.already:,} already have {code}" if preview.already else ""
        gets = f"{len(preview.roles):,} roles · {preview.rows:,} rows (employees) would get {md(code)} {md(title)}"
        st.caption(gets + left + same)
        if preview.roles:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Title": [role.title for role in preview.roles],
                        "Rows": [role.rows for role in preview.roles],
                        "Now": [role.code or "" for role in preview.roles],
                        "Status": [STATUS_LABELS.get(role.status, role.status) for role in preview.roles],
                    }
                ),
                hide_index=True,
                height=min(38 + 35 * len(preview.roles), 220),
                width="stretch",
            )
        st.button(
            f"Apply {code} to {len(preview.roles):,} roles",
            key="bulk_apply",
            type="primary",
            disabled=not preview.roles,
            on_click=_do_apply,
            args=(project_id, [role.role_id for role in preview.roles], code, user, include, described_as, flash),
        )
