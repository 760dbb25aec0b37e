"""Second opinions: code sampled roles blind (never seeing the first decision), and adjudicate disagreements."""

from __future__ import annotations

import streamlit as st

from jobforge.access import Permission
from jobforge.onet.repository import OnetRepository
from jobforge.projects import list_projects
from jobforge.review.adjudication import Choice, Disagreement, adjudicate, adjudication_queue
from jobforge.review.second_opinion import BlindRole, blind_queue, coder_progress, record_blind_code
from jobforge.ui.access import can
from jobforge.ui.errors import reported
from jobforge.ui.project import require_project
from jobforge.ui.store import session
from jobforge.ui.text import md
from jobforge.ui.user import current_user

FLASH = "opinion_flash"
BLIND_SKIP = "opinion_blind_skip"  # how many roles of the queue the coder skipped for now
PICKED = "opinion_adjudicate_pick"

user = current_user() or "unknown"
with session() as s:
    projects = {p.id: p.name for p in list_projects(s)}
project_id = require_project(projects)


# ------------------------------------------------------------------ actions (callbacks, before the redraw)
def _flash(message: str, icon: str = ":material/check_circle:") -> None:
    st.session_state[FLASH] = (message, icon)


def _refused(message: str) -> None:
    _flash(message, ":material/warning:")


def do_blind(item_id: int, title: str, code: str | None, note_key: str) -> None:
    note = (st.session_state.get(note_key) or "").strip() or None
    with reported("Recording the second opinion failed", show=_refused) as outcome, session() as s:
        record_blind_code(s, item_id, user, code, cannot_code=code is None, note=note)
    if outcome.ok:
        _flash(f"“{md(title)}”: {'cannot code' if code is None else code} recorded.")
        st.session_state[note_key] = ""


def do_skip(count: int) -> None:
    st.session_state[BLIND_SKIP] = (st.session_state.get(BLIND_SKIP, 0) + 1) % max(count, 1)


def do_adjudicate(case: Disagreement, choice: Choice, code: str | None = None) -> None:
    with reported("Adjudication failed", show=_refused) as outcome, session() as s:
        mapping = adjudicate(
            s,
            case.item_id,
            user,
            choice,
            case.version,
            code=code,
            expected_code=case.current_code,
        )
    if outcome.ok:
        _flash(f"“{md(case.title)}” → {mapping.onet_code} ({mapping.status}). The mapping is updated.")
        st.session_state.pop(PICKED, None)


# ------------------------------------------------------------------ page
st.title("Second opinions")
if FLASH in st.session_state:
    message, icon = st.session_state.pop(FLASH)
    st.toast(message, icon=icon)
if not can(Permission.PROJECT_WRITE, project_id):
    st.info(
        "Second opinions are given and adjudicated by the analysts of a project; you can read this project only.",
        icon=":material/lock:",
    )
    st.stop()

with session() as s:
    queue = blind_queue(s, project_id, user)
    answered, given = coder_progress(s, project_id, user)
    disputes = adjudication_queue(s, project_id, user)

blind_tab, adjudicate_tab = st.tabs(
    [f"Code blind · {len(queue):,} to do", f"Adjudicate · {len(disputes.mine):,} waiting"]
)


def _occupation_search(key: str) -> tuple[str, str] | None:
    """A search box over every occupation of the active release; the occupation picked, if any."""
    query = st.text_input("Search any occupation", key=f"{key}_query", placeholder="title or code, e.g. nurse, 29-1141")
    if not query.strip():
        return None
    with session() as s:
        found = [(o.code, o.title) for o in OnetRepository(s).search(query, limit=15)]
    if not found:
        st.caption("No occupation matches. Try a shorter word or the first digits of the code.")
        return None
    return st.selectbox("Occupation", found, format_func=lambda o: f"{o[0]} · {o[1]}", key=f"{key}_pick")


def _role_header(title: str, row_count: int, context: dict[str, str]) -> None:
    st.subheader(md(title), anchor=False)
    parts = [f"Rows: {row_count:,}", *(f"{label}: {md(value)}" for label, value in context.items())]
    st.caption(" · ".join(parts))


def _blind(role: BlindRole) -> None:
    """One sampled role as the second coder sees it: nothing about the proposal or the first decision."""
    _role_header(role.title, role.row_count, role.context)
    if role.description:
        with st.expander("Description from the spreadsheet"):
            st.text(role.description)
    note_key = f"blind_note_{role.item_id}"
    left, right = st.columns([3, 2], gap="medium")
    with left:
        with session() as s:
            repo = OnetRepository(s)
            tasks = {code: repo.tasks(code, 1) for code, _ in role.candidates}
        titles = dict(role.candidates)
        if not role.candidates:
            st.caption("This role has no candidates: search for an occupation.")
        # No option is preselected: the first in code order must not look like a suggestion.
        picked = st.radio(
            "Candidates, in code order",
            list(titles),
            index=None,
            format_func=lambda code: f"**{code}** {md(titles[code])}",
            captions=[md(tasks[code][0]) if tasks.get(code) else "" for code in titles],
            key=f"blind_pick_{role.item_id}",
        )
    with right:
        found = _occupation_search(f"blind_search_{role.item_id}")
        if found is not None:
            st.button(
                f"Record {found[0]}",
                key=f"blind_search_use_{role.item_id}",
                on_click=do_blind,
                args=(role.item_id, role.title, found[0], note_key),
                type="primary",
                icon=":material/check:",
            )
        st.text_area("Note (optional)", key=note_key, height=80, placeholder="Why, or what is missing to code it")
        st.button(
            f"Record {picked}" if picked else "Record the candidate you pick",
            key=f"blind_record_{role.item_id}",
            on_click=do_blind,
            args=(role.item_id, role.title, picked, note_key),
            disabled=picked is None,
            type="primary",
            icon=":material/check:",
            width="stretch",
        )
        b1, b2 = st.columns(2)
        b1.button(
            "Cannot code",
            key=f"blind_cannot_{role.item_id}",
            on_click=do_blind,
            args=(role.item_id, role.title, None, note_key),
            width="stretch",
            help="No occupation fits on what the role says; the note says why.",
        )
        b2.button(
            "Skip for now",
            key=f"blind_skip_{role.item_id}",
            on_click=do_skip,
            args=(len(queue),),
            width="stretch",
            icon=":material/skip_next:",
        )


with blind_tab:
    if given == 0:
        st.info("Nothing to code: an admin draws samples for you on Admin → Second opinions.")
    else:
        st.progress(answered / given, text=f"{answered:,} of {given:,} sampled roles coded blind")
        if not queue:
            st.success("You have coded every role given to you. Thank you.", icon=":material/task_alt:")
        else:
            st.caption(
                "You code blind: the proposal, its tier and rationale and the first analyst's decision are hidden, "
                "and your answer does not change the mapping. Choose the occupation you would give this role."
            )
            _blind(queue[st.session_state.get(BLIND_SKIP, 0) % len(queue)])


def _adjudicate(case: Disagreement) -> None:
    _role_header(case.title, case.row_count, case.context)
    first, second = st.columns(2)
    with first, st.container(border=True):
        st.markdown(f"**First decision** · {md(case.first_by or 'unknown')}")
        st.markdown(f"**{md(case.first_code)}** {md(case.first_title)}")
        st.button(
            f"Keep {case.first_code}",
            key=f"adj_first_{case.item_id}",
            on_click=do_adjudicate,
            args=(case, "first"),
            width="stretch",
        )
    with second, st.container(border=True):
        st.markdown(f"**Second opinion (blind)** · {md(case.second_by or 'unknown')}")
        if case.second_code:
            st.markdown(f"**{md(case.second_code)}** {md(case.second_title)}")
        else:
            st.markdown("Could not code this role.")
        if case.second_note:
            st.caption(f"Note: {md(case.second_note)}")
        st.button(
            f"Take {case.second_code}" if case.second_code else "Nothing to take",
            key=f"adj_second_{case.item_id}",
            on_click=do_adjudicate,
            args=(case, "second"),
            disabled=case.second_code is None,
            width="stretch",
        )
    if case.changed_since_sampled:
        st.warning(
            f"The mapping changed since the sample was drawn: it is now {md(case.current_code or 'no code')} "
            f"{md(case.current_title)} ({md(case.current_status or 'no mapping')}). Your decision replaces it.",
            icon=":material/history:",
        )
    found = _occupation_search(f"adj_search_{case.item_id}")
    if found is not None:
        st.button(
            f"Give it {found[0]} instead",
            key=f"adj_other_{case.item_id}",
            on_click=do_adjudicate,
            args=(case, "other", found[0]),
        )


with adjudicate_tab:
    st.caption(
        "Where the blind second opinion differs from the first decision at 8 digits, a third person decides: "
        "keep the first code, take the second or choose another. The decision becomes the role's mapping."
    )
    if disputes.others:
        st.caption(
            f"{disputes.others:,} more wait for someone else: you coded those roles, and a third person adjudicates."
        )
    if not disputes.mine:
        st.info("No disagreement is waiting for you.", icon=":material/task_alt:")
    else:
        cases = {case.item_id: case for case in disputes.mine}
        picked = st.selectbox(
            "Disagreement",
            list(cases),
            format_func=lambda item: (
                f"{cases[item].title} · {cases[item].first_code} vs {cases[item].second_code or 'cannot code'}"
            ),
            key=PICKED,
        )
        _adjudicate(cases[picked])
