"""Small charts where a picture beats a table: tier mix, review progress, major groups."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from jobforge.onet.soc import MAJOR_GROUPS

TIER_ORDER = ["HIGH", "MEDIUM", "LOW"]
TIER_HEX = ["#2e9e5b", "#f0a030", "#d64545"]


def tier_mix_chart(tiers: dict[str, int], *, height: int = 150) -> None:
    frame = pd.DataFrame({"Tier": TIER_ORDER, "Roles": [int(tiers.get(t, 0)) for t in TIER_ORDER]})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("Tier:N", sort=TIER_ORDER, title=None),
            x=alt.X("Roles:Q", title="Roles"),
            color=alt.Color("Tier:N", scale=alt.Scale(domain=TIER_ORDER, range=TIER_HEX), legend=None),
            tooltip=["Tier", "Roles"],
        )
        .properties(height=height)
    )
    st.altair_chart(chart, width="stretch")


def major_group_chart(groups: dict[str, int], *, height: int = 260) -> None:
    """Roles per O*NET major group (the first two digits of the proposed SOC code)."""
    if not groups:
        return
    frame = pd.DataFrame(
        [{"Major group": f"{g}-0000 {MAJOR_GROUPS.get(g, '')}".strip(), "Roles": n} for g, n in groups.items()]
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#4a7fd6")
        .encode(
            y=alt.Y("Major group:N", sort="-x", title=None),
            x=alt.X("Roles:Q"),
            tooltip=["Major group", "Roles"],
        )
        .properties(height=height)
    )
    st.altair_chart(chart, width="stretch")




PROVENANCE_ORDER = ["ANALYST", "SOURCE", "HIERARCHY", "ONET", "LLM", "EMPTY"]
PROVENANCE_HEX = ["#2f5fb3", "#2e9e5b", "#8a5cc7", "#f0a030", "#8c8c8c", "#e3e3e3"]


def provenance_chart(counts: pd.DataFrame) -> None:
    """Stacked bars: per attribute, how many roles have a value from each source (or none yet)."""
    chart = (
        alt.Chart(counts)
        .mark_bar(size=22)
        .encode(
            y=alt.Y("Attribute:N", title=None),
            x=alt.X("Roles:Q", title="Roles"),
            color=alt.Color(
                "Source:N",
                scale=alt.Scale(domain=PROVENANCE_ORDER, range=PROVENANCE_HEX),
                legend=alt.Legend(orient="top", direction="horizontal", title=None),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["Attribute", "Source", "Roles"],
        )
        .transform_calculate(rank=f"indexof({PROVENANCE_ORDER!r}, datum.Source)")
        .properties(height=70 + 34 * counts["Attribute"].nunique())
    )
    st.altair_chart(chart, width="stretch")
