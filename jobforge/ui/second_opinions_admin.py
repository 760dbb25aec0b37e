"""The Admin page's Second opinions section: draw a sample for blind re-coding, follow it, read the agreement."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from jobforge.projects import list_projects
from jobforge.review.agreement import AgreementReport, agreement_report
from jobforge.review.second_opinion import (
    MAX_SEED,
    SampleProgress,
    decided_counts,
    draw_sample,
    list_samples,
    possible_coders,
)
from jobforge.ui.errors import reported
from jobforge.ui.project import current_project_id
from jobforge.ui.store import session
from jobforge.ui.text import md

FLASH = "opinions_flash"
ALL_SAMPLES = 0
ABOUT = (
    "A second analyst codes a random sample of decided roles again, **blind** (never shown the proposal, its tier "
    "or rationale, or the first decision; their answers never change the mapping). Agreement per digit level is "
    "the share agreeing and Cohen's κ; where the two codes differ at 8 digits a third person adjudicates on the "
    "**Second opinions** page, and that decision becomes the role's mapping."
)


def second_opinions_section(user: str) -> None:
    """Everything an admin does about second opinions in the open project; ``user`` draws the samples."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    with session() as s:
        projects = {p.id: p.name for p in list_projects(s, user)}
    project_id = current_project_id()
    if project_id not in projects:
        st.caption(ABOUT)
        st.info("Open a project in the sidebar: samples are drawn from its decided roles.")
        return
    with session() as s:
        samples = list_samples(s, project_id)
    st.caption(ABOUT)
    if samples:
        _agreement(project_id, samples)
        _progress_table(samples)
    else:
        st.info(f"No sample drawn in “{md(projects[project_id])}” yet.", icon=":material/rate_review:")
    with st.expander("Draw a sample", expanded=not samples, icon=":material/casino:"):
        _draw_form(user, project_id)


def _draw_form(user: str, project_id: int) -> None:
    with session() as s:
        coders = possible_coders(s, project_id)
        one_by_one, in_bulk = decided_counts(s, project_id)
    st.caption(
        f"{one_by_one:,} roles decided one by one and {in_bulk:,} in bulk can be drawn. Roles the second coder "
        "decided themselves are left out before drawing, as are roles already in a sample."
    )
    with st.form("opinions_draw_form", border=False):
        c1, c2, c3 = st.columns([2, 1, 1])
        coder = c1.selectbox(
            "Second coder",
            coders,
            index=None,
            placeholder="Choose an analyst",
            key="opinions_coder",
            help="An analyst (or admin) who may work in this project; they code on the Second opinions page.",
        )
        size = c2.number_input("Roles to draw", min_value=1, value=min(20, max(one_by_one, 1)), key="opinions_size")
        seed_text = c3.text_input(
            "Seed (optional)",
            key="opinions_seed",
            placeholder="random",
            help="The same seed on the same decided roles draws the same sample. Left empty, one is chosen and kept.",
        )
        include_bulk = st.checkbox("Include roles decided in bulk", key="opinions_bulk")
        submitted = st.form_submit_button("Draw the sample", type="primary", key="opinions_draw")
    if not submitted:
        return
    if coder is None:
        st.warning("Choose the second coder first.")
        return
    seed = _seed(seed_text)
    if seed == -1:
        st.warning(f"The seed must be a whole number from 0 to {MAX_SEED:,}, or empty.")
        return
    with reported("Drawing the sample failed") as outcome, session() as s:
        drawn = draw_sample(s, project_id, int(size), coder, user, seed=seed, include_bulk=include_bulk)
    if outcome.ok:
        left_out = [
            f"{drawn.decided_by_coder:,} decided by {md(drawn.coder)}" if drawn.decided_by_coder else "",
            f"{drawn.decided_in_bulk:,} decided in bulk" if drawn.decided_in_bulk else "",
            f"{drawn.already_sampled:,} already sampled" if drawn.already_sampled else "",
        ]
        why = "; ".join(part for part in left_out if part)
        st.session_state[FLASH] = (
            f"Sample {drawn.sample_id}: {drawn.drawn:,} of {drawn.eligible:,} eligible roles for {md(drawn.coder)} "
            f"(seed {drawn.seed})." + (f" Left out: {why}." if why else "")
        )
        st.rerun()


def _seed(text: str) -> int | None:
    """None for empty, the number, or -1 when it is not a valid seed."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() and int(text) <= MAX_SEED else -1


def _progress_table(samples: list[SampleProgress]) -> None:
    st.markdown("**Samples**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Sample": p.id,
                    "Second coder": p.coder,
                    "Coded": p.answered / p.roles if p.roles else 0.0,
                    "Roles": p.roles,
                    "Answered": p.answered,
                    "Cannot code": p.cannot_code,
                    "Disagreements": p.disagreements,
                    "Adjudicated": p.adjudicated,
                    "Seed": str(p.seed),
                    "Drawn": f"{p.created_at:%Y-%m-%d} by {p.created_by or '?'}",
                    "Bulk included": "yes" if p.include_bulk else "",
                }
                for p in samples
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Coded": st.column_config.ProgressColumn("Coded", format="percent", min_value=0.0, max_value=1.0),
        },
    )


def _agreement(project_id: int, samples: list[SampleProgress]) -> None:
    st.markdown("**Inter-coder agreement**")
    options = [ALL_SAMPLES, *(p.id for p in samples)]
    left, right = st.columns([1, 3], vertical_alignment="center")
    chosen = left.selectbox(
        "Of",
        options,
        format_func=lambda sid: "all samples" if sid == ALL_SAMPLES else f"sample {sid}",
        key="opinions_agreement_of",
        label_visibility="collapsed",
    )
    with session() as s:
        report = agreement_report(s, project_id, None if chosen == ALL_SAMPLES else chosen)
    right.caption(
        f"{report.answered:,} of {report.sampled:,} sampled roles coded again blind "
        f"({report.cannot_code:,} 'cannot code', counted as disagreeing at every level); "
        f"{report.unanswered:,} waiting for the second coder."
    )
    agreement_table(report)
    adjudication_counts(report)


def agreement_table(report: AgreementReport) -> None:
    """Share agreeing and Cohen's κ per digit level, with what each level compares."""
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Level": f"{row.level.digits} digits",
                    "Compares": f"{row.level.name} (e.g. {row.level.example})",
                    "Roles coded twice": row.compared,
                    "Agreeing": row.agreeing,
                    "Share agreeing": row.share_text,
                    "Cohen's κ": row.kappa_text,
                }
                for row in report.levels
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    for row in report.levels:
        if row.kappa is None and row.note:
            st.caption(f"κ at {row.level.digits} digits is not defined: {md(row.note)}.")
    st.caption(
        "Cohen's κ corrects the share agreeing for the agreement expected by chance from how often each coder "
        "used each category: 1 is perfect agreement, 0 no better than chance."
    )


def adjudication_counts(report: AgreementReport) -> None:
    """Disagreements at 8 digits before adjudication, and what adjudication made of them."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Disagreements (8 digits)", f"{report.disagreements:,}", help="Before adjudication.")
    c2.metric("Adjudicated", f"{report.adjudicated:,}")
    c3.metric("Waiting for adjudication", f"{report.waiting:,}")
    c4.metric(
        "First decisions standing so far",
        f"{report.first_standing:,} of {report.answered:,}",
        help="Agreed by the second coder, or kept by the adjudicator.",
    )
    if report.adjudicated:
        st.caption(
            f"After adjudication: first code kept {report.kept_first:,}, second code taken {report.took_second:,}, "
            f"another code chosen {report.chose_other:,}."
        )
