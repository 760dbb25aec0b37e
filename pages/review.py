"""Review: the uncertain roles first, everything needed to decide on one screen, bulk for the easy ones."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.access import Permission
from jobforge.config import get_settings
from jobforge.db.models import MappingStatus, Role
from jobforge.onet.repository import OnetRepository
from jobforge.projects import list_projects, project_stats
from jobforge.review import actions
from jobforge.review.deletion import project_uploads
from jobforge.review.queries import UNMAPPED, families, review_rows
from jobforge.ui.access import can
from jobforge.ui.badges import STATUS_LABELS, status_markdown, tier_markdown
from jobforge.ui.bulk import bulk_apply_panel, undo_last_bulk
from jobforge.ui.charts import major_group_chart, tier_mix_chart
from jobforge.ui.codebooks import update_proposals_button
from jobforge.ui.deletion import blank_note, delete_role_control
from jobforge.ui.errors import reported
from jobforge.ui.grid import STATUS_ICON_COLUMN, STATUS_ICONS, role_grid, rows_digest
from jobforge.ui.layout import compact_page
from jobforge.ui.project import require_project
from jobforge.ui.store import session
from jobforge.ui.text import md
from jobforge.ui.user import current_user

SELECTED = "review_selected"
LAST_GRID_PICK = "review_grid_pick"
ORDER = "review_order"
FLASH = "review_flash"
GRID_NONCE = "review_grid_nonce"  # bumped when Python moves the selection, so the grid is redrawn with it
TIERS = ["LOW", "MEDIUM", "HIGH"]
REVIEWED = set(MappingStatus.ANALYST_OWNED)
STATUS_OPTIONS = [*MappingStatus.ALL, UNMAPPED]

user = current_user() or "unknown"
with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)


# ------------------------------------------------------------------ actions (run as callbacks, before the redraw)
def _flash(message: str, icon: str = ":material/check_circle:") -> None:
    st.session_state[FLASH] = (message, icon)


def _flash_warning(message: str) -> None:
    _flash(message, ":material/warning:")


def _select_next_unreviewed(after_id: int) -> None:
    """Move the selection to the next proposed row after ``after_id`` in the grid's order (wrapping)."""
    order: list[tuple[int, str]] = st.session_state.get(ORDER, [])
    ids = [rid for rid, _ in order]
    start = ids.index(after_id) + 1 if after_id in ids else 0
    for rid, status in order[start:] + order[:start]:
        if rid != after_id and status not in REVIEWED and status != MappingStatus.NEEDS_INFO:
            st.session_state[SELECTED] = rid
            st.session_state[GRID_NONCE] = st.session_state.get(GRID_NONCE, 0) + 1
            return
    st.session_state[SELECTED] = None


def _run_action(role_id: int, label: str, call, *, advance: bool = True) -> None:
    with reported(f"{label} failed", show=_flash_warning) as outcome, session() as s:
        call(s)  # nothing is committed when it fails
    if not outcome.ok:
        return
    _flash(label)
    if advance:
        _select_next_unreviewed(role_id)


# Each action carries the mapping version and code the panel showed: a role changed meanwhile
# (another analyst, a re-map) is refused with "this role changed since you opened it: now …".
def do_confirm(role_id: int, title: str, version: int, shown: str | None) -> None:
    _run_action(
        role_id,
        f"Confirmed “{md(title)}”",
        lambda s: actions.confirm(s, role_id, user, version=version, code=shown),
    )


def do_choose(role_id: int, code: str, title: str, version: int, shown: str | None) -> None:
    _run_action(
        role_id,
        f"“{md(title)}” → {code}",
        lambda s: actions.choose_code(s, role_id, code, user, version=version, seen_code=shown),
    )


def do_needs_info(role_id: int, title: str, note_key: str, version: int) -> None:
    note = (st.session_state.get(note_key) or "").strip() or None
    _run_action(
        role_id,
        f"“{md(title)}” is waiting for information",
        lambda s: actions.mark_needs_info(s, role_id, user, note, version=version),
    )
    st.session_state[note_key] = ""  # the note went with the action (or its message said why not)


def do_reopen(role_id: int, title: str, version: int) -> None:
    _run_action(
        role_id,
        f"“{md(title)}” is undecided again (back to the proposal)",
        lambda s: actions.reopen(s, role_id, user, version=version),
        advance=False,
    )


def do_note(role_id: int, note_key: str) -> None:
    note = (st.session_state.get(note_key) or "").strip()
    if not note:
        _flash("Write a note first.", ":material/edit:")
        return
    _run_action(role_id, "Note saved", lambda s: actions.add_note(s, role_id, user, note), advance=False)
    st.session_state[note_key] = ""


def do_bulk_confirm(ids: list[int]) -> None:
    with reported("Bulk confirm failed", show=_flash_warning) as outcome, session() as s:
        bulk = actions.bulk_confirm(s, project_id, ids, user)
    if not outcome.ok:
        return
    _flash(f"Confirmed {bulk.count:,} HIGH roles. You can undo this, even after a reload.")


ORDER_LABELS = {"tier": "LOW first", "impact": "Impact"}


def _low_only() -> None:
    """One click: LOW proposals still waiting for a decision."""
    st.session_state["flt_tier"] = ["LOW"]
    st.session_state["flt_status"] = [MappingStatus.PROPOSED]


def _described(tiers: list[str] | None, statuses: list[str] | None, family: str, text: str) -> str:
    """The filters in words, for the bulk panel and its audit event: "the search “evs” · LOW"."""
    parts = [f"the search “{text.strip()}”"] if text.strip() else []
    if tiers and len(tiers) < len(TIERS):
        parts.append("/".join(tiers))
    if statuses and len(statuses) < len(STATUS_OPTIONS):
        parts.append("/".join(STATUS_LABELS.get(status, status) for status in statuses))
    if family != "All":
        parts.append(f"family {family}")
    return " · ".join(parts) if parts else "all roles"


# ------------------------------------------------------------------ page
compact_page()
head_title, head_progress = st.columns([1, 4], vertical_alignment="bottom")
head_title.title("Review")
if FLASH in st.session_state:
    message, icon = st.session_state.pop(FLASH)
    st.toast(message, icon=icon)

with session() as s:
    stats = project_stats(s, project_id)
    blanks = blank_note(project_uploads(s, project_id), short=True)
if stats.roles == 0:
    st.info("No roles yet: upload a spreadsheet first.")
    st.page_link("pages/upload.py", label="Upload a spreadsheet", icon=":material/upload_file:")
    st.stop()
if stats.mapped == 0:
    st.info("The roles have no proposals yet: start a mapping run on the Upload page.")
    st.page_link("pages/upload.py", label="Map roles", icon=":material/upload_file:")
    st.stop()

update_proposals_button(project_id, user)  # the decided titles so far, for the roles nobody reviewed

reviewed = stats.confirmed
head_progress.progress(
    reviewed / stats.roles,
    text=f"{projects[project_id]} · {reviewed:,} of {stats.roles:,} roles confirmed ({reviewed / stats.roles:.0%})",
)

with session() as s:
    family_names = families(s, project_id)

f_text, f_tier, f_low, f_order, f_more = st.columns([1.6, 2.0, 0.9, 1.5, 1.2], vertical_alignment="bottom")
text = f_text.text_input("Search titles", placeholder="title, code or O*NET title", key="flt_text")
tiers = f_tier.pills("Tier", TIERS, selection_mode="multi", default=TIERS, key="flt_tier")
f_low.button("LOW only", key="low_only", on_click=_low_only, help="Show only the LOW proposals still to decide.")
order = f_order.segmented_control(
    "Order", list(ORDER_LABELS), format_func=ORDER_LABELS.get, default="tier", key="flt_order",
    help="Impact = employees affected (rows) × doubt (LOW 3, MEDIUM 2, HIGH 1; decided 0); lower score first.",
) or "tier"  # fmt: skip
with f_more.popover("More filters", icon=":material/filter_list:", width="stretch"):
    statuses = st.pills(
        "Status", STATUS_OPTIONS, selection_mode="multi", default=STATUS_OPTIONS, format_func=STATUS_LABELS.get,
        key="flt_status",
    )  # fmt: skip
    family = st.selectbox("Job family", ["All", *family_names], key="flt_family")

with session() as s:
    rows = review_rows(
        s,
        project_id,
        tiers=tiers if tiers and len(tiers) < len(TIERS) else None,
        statuses=statuses or None,
        family=None if family == "All" else family,
        text=text.strip() or None,
        order=order,
    )

limit = get_settings().review_page_size
shown = rows.head(limit)
st.session_state[ORDER] = list(zip(shown["role_id"].astype(int), shown["status"], strict=True))
visible_high = [int(r.role_id) for r in shown.itertuples() if r.tier == "HIGH" and r.status == MappingStatus.PROPOSED]

bar = st.columns([4, 2, 2], vertical_alignment="center")
bar[0].caption(
    f"{len(rows):,} of {stats.roles:,} roles match the filters"
    + (f" · showing the first {limit:,}: narrow the filters to see the rest" if len(rows) > limit else "")
    + (" · highest impact first" if order == "impact" else " · LOW first")
    + (f" · {blanks}" if blanks else "")
)
bar[1].button(
    f"Confirm all visible HIGH ({len(visible_high):,})",
    disabled=not visible_high,
    on_click=do_bulk_confirm,
    args=(visible_high,),
    key="bulk_confirm",
    help="Confirms every HIGH proposal currently shown that nobody has reviewed yet. You can undo it.",
)
undo_last_bulk(bar[2], project_id, user, _flash)

if shown.empty:
    st.info("No role matches these filters. Clear the search or add tiers and statuses back.")
    st.stop()

# The selection: keep it when still visible, else the first unreviewed row.
visible_ids = set(shown["role_id"].astype(int))
selected = st.session_state.get(SELECTED)
if selected not in visible_ids:
    pending = shown[~shown["status"].isin(REVIEWED)]
    selected = int((pending if not pending.empty else shown).iloc[0]["role_id"])
    st.session_state[SELECTED] = selected
    st.session_state[GRID_NONCE] = st.session_state.get(GRID_NONCE, 0) + 1

open_row = shown[shown["role_id"] == selected].iloc[0]
bulk_apply_panel(
    project_id,
    user,
    rows[["role_id", "title"]],
    _described(tiers, statuses, family, text),
    (open_row["code"], open_row["onet_title"] or "") if open_row["code"] else None,
    _flash,
)

grid_frame = pd.DataFrame(
    {
        "role_id": shown["role_id"].astype(int),
        STATUS_ICON_COLUMN: shown["status"].map(STATUS_ICONS).fillna(""),
        "Tier": shown["tier"].fillna(""),
        "Title": shown["title"],
        "Impact": shown["impact"].astype(int),
        "Rows": shown["row_count"].astype(int),
        "Code": shown["code"].fillna(""),
        "O*NET title": shown["onet_title"].fillna(""),
        "Score": shown["score"].round(2),
        "Status": shown["status"].map(lambda v: STATUS_LABELS.get(v, v)),
        "Rationale": shown["rationale"].fillna(""),
    }
)
grid_col, detail_col = st.columns([3, 2], gap="medium")
with grid_col:
    # The grid is drawn anew whenever its rows change (a search cleared, a filter changed) or Python moves
    # the selection, so the highlighted row is always the role the panel shows and the buttons act on.
    grid_key = f"review_grid_{project_id}_{st.session_state.get(GRID_NONCE, 0)}_{rows_digest(shown)}"
    picked = role_grid(
        grid_frame,
        key=grid_key,
        selected_id=selected,
        height=560,
        column_widths={
            STATUS_ICON_COLUMN: 44,
            "Tier": 84,
            "Title": 220,
            "Impact": 76,
            "Rows": 66,
            "Code": 104,
            "O*NET title": 200,
            "Score": 70,
            "Status": 110,
            "Rationale": 360,
        },
        pinned=(STATUS_ICON_COLUMN, "Tier", "Title"),
    )
    # Only a new click counts: the grid keeps returning its last selection on every rerun.
    if picked is not None and (grid_key, picked) != st.session_state.get(LAST_GRID_PICK):
        st.session_state[LAST_GRID_PICK] = (grid_key, picked)
        if picked != selected:
            st.session_state[SELECTED] = picked
            st.rerun()
    with st.expander("Overview: tier mix and major groups"):
        c1, c2 = st.columns(2)
        with c1:
            st.caption("Tier mix (all roles)")
            tier_mix_chart(stats.tiers)
        with c2:
            st.caption("Roles per O*NET major group")
            major_group_chart(stats.major_groups)


def _decision_box(role_id: int, title: str, mapping, tasks: list[str]) -> None:
    """The proposal with its tier and status, and the buttons right under it (seen without scrolling)."""
    note_key = f"note_{role_id}"
    with st.container(border=True):
        proposal = (
            f"**{md(mapping.onet_code)}** {md(mapping.onet_title or '')}" if mapping.onet_code else "**No proposal**"
        )
        st.markdown(f"{proposal} &nbsp; {tier_markdown(mapping.tier)} {status_markdown(mapping.status)}")
        st.button(
            "Confirm",
            icon=":material/check:",
            type="primary",
            key=f"confirm_{role_id}",
            on_click=do_confirm,
            args=(role_id, title, mapping.version, mapping.onet_code),
            disabled=not mapping.onet_code,
            width="stretch",
            shortcut="Ctrl+Enter",
            help="Accept the proposal and move to the next unreviewed role (Ctrl+Enter).",
        )
        a2, a3 = st.columns([3, 2])
        a2.button(
            "Ask for info",
            icon=":material/help:",
            key=f"needs_{role_id}",
            on_click=do_needs_info,
            args=(role_id, title, note_key, mapping.version),
            width="stretch",
            shortcut="Ctrl+I",
            help="Park this role as “Waiting for info”; the note (below) says what is missing (Ctrl+I).",
        )
        a3.button(
            "Skip",
            key=f"skip_{role_id}",
            on_click=_select_next_unreviewed,
            args=(role_id,),
            width="stretch",
            shortcut="Ctrl+Down",
            help="Leave this role as it is and open the next unreviewed one (Ctrl+Down).",
        )
        st.caption(f"Why: {md(mapping.rationale)}" if mapping.rationale else "No rationale recorded.")
        if not mapping.onet_code:
            st.warning("No O*NET occupation was proposed. Search for one below, or ask for info.")
        meta = [f"score {mapping.score:.2f}", f"source {mapping.source}"]
        if mapping.confirmed_by:
            when = mapping.confirmed_at.strftime("%Y-%m-%d %H:%M") if mapping.confirmed_at else ""
            meta.append(f"reviewed by {md(mapping.confirmed_by)} {when}")
        st.caption(" · ".join(meta))
        for task in tasks:
            st.caption(f"• {md(task)}")
        if mapping.note:
            st.caption(f"Note: {md(mapping.note)}")
        if mapping.status != MappingStatus.PROPOSED:
            st.button(
                "Undo this decision" if mapping.status in REVIEWED else "Back to undecided",
                icon=":material/undo:",
                key=f"reopen_{role_id}",
                on_click=do_reopen,
                args=(role_id, title, mapping.version),
                help="Back to the machine's proposal, undecided (recorded in the audit log).",
            )
        st.text_area("Note", key=note_key, placeholder="What is missing (for Ask for info), or why you decided",
                     height=68)  # fmt: skip
        st.button("Save note", key=f"save_note_{role_id}", on_click=do_note, args=(role_id, note_key))


def _panel(role_id: int) -> None:
    with session() as s:
        role = s.get(Role, role_id)
        if role is None:
            st.warning("This role no longer exists.")
            return
        mapping = role.mapping
        repo = OnetRepository(s, mapping.release_id if mapping and mapping.release_id else None)
        candidates = list(mapping.candidates or []) if mapping else []
        tasks = {c["code"]: repo.tasks(c["code"], 3) for c in candidates[:6] if c.get("code")}
        if mapping and mapping.onet_code and mapping.onet_code not in tasks:
            tasks[mapping.onet_code] = repo.tasks(mapping.onet_code, 3)

    st.subheader(md(role.title), anchor=False)
    context = {
        "Rows": f"{role.row_count:,}",
        "Job family": role.job_family,
        "Function": role.job_function,
        "Department": role.department,
        "Level": role.level,
        "Headcount": f"{role.headcount:,.0f}" if role.headcount else None,
        "Unit group": role.unit_group,
    }
    st.caption(" · ".join(f"{k}: {md(v)}" for k, v in context.items() if v))
    if role.description:
        with st.expander("Description from the spreadsheet"):
            st.text(role.description)

    if mapping is None:
        st.info("No proposal yet for this role.")
        return
    _decision_box(role_id, role.title, mapping, tasks.get(mapping.onet_code or "", []))

    others = [c for c in candidates if c.get("code") and c.get("code") != mapping.onet_code][:5]
    if others:
        st.markdown("**Other candidates**")
    for cand in others:
        label = f"{cand['code']} · {cand.get('title', '')}"
        with st.expander(label):
            matched = cand.get("matched_text")
            if matched:
                st.caption(f"Matched on {md(cand.get('matched_on', 'title'))}: “{md(matched)}”")
            if cand.get("reading"):  # the abbreviation reading or translation it was found through
                st.caption(f"Read as: {md(cand['reading'])}")
            if cand.get("description"):
                st.write(cand["description"])
            for task in tasks.get(cand["code"], []):
                st.caption(f"• {md(task)}")
            st.button(
                f"Choose {cand['code']}",
                key=f"choose_{role_id}_{cand['code']}",
                on_click=do_choose,
                args=(role_id, cand["code"], role.title, mapping.version, mapping.onet_code),
            )

    with st.expander("Search any occupation", expanded=not mapping.onet_code):
        query = st.text_input("Title or code", key=f"search_{role_id}", placeholder="e.g. nurse or 29-1141")
        if query.strip():
            with session() as s:
                found = [(o.code, o.title) for o in OnetRepository(s).search(query, limit=15)]
            if not found:
                st.caption("No occupation matches. Try a shorter word or the first digits of the code.")
            else:
                choice = st.selectbox(
                    "Occupation", found, format_func=lambda o: f"{o[0]} · {o[1]}", key=f"search_pick_{role_id}"
                )
                st.button(
                    f"Use {choice[0]}",
                    key=f"search_use_{role_id}",
                    on_click=do_choose,
                    args=(role_id, choice[0], role.title, mapping.version, mapping.onet_code),
                )

    if can(Permission.DELETE, project_id):
        delete_role_control(role_id, role.title, user, _flash)


with detail_col:
    _panel(int(st.session_state[SELECTED]))
