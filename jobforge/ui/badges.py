"""Coloured badges for tiers, statuses and attribute provenance (text only: never HTML from data)."""

from __future__ import annotations

import streamlit as st

TIER_COLORS = {"HIGH": "green", "MEDIUM": "orange", "LOW": "red"}
STATUS_LABELS = {
    "proposed": "Proposed",
    "confirmed": "Confirmed",
    "overridden": "Changed by analyst",
    "needs_info": "Waiting for info",  # the filter's name; the action that sets it is "Ask for info"
    "unmapped": "Not mapped yet",
}
STATUS_COLORS = {"proposed": "gray", "confirmed": "green", "overridden": "blue", "needs_info": "violet"}
PROVENANCE_COLORS = {"ANALYST": "blue", "SOURCE": "green", "HIERARCHY": "violet", "ONET": "orange", "LLM": "gray"}
PROVENANCE_HELP = {
    "ANALYST": "Set by an analyst in JobForge",
    "SOURCE": "Present in the uploaded spreadsheet",
    "HIERARCHY": "Inherited within your own job architecture (family / function)",
    "ONET": "From the mapped O*NET occupation (or its nearest rated parent)",
    "LLM": "Imputed by a language model: check before relying on it",
}


def tier_badge(tier: str | None) -> None:
    if tier:
        st.badge(tier, color=TIER_COLORS.get(tier, "gray"))


def status_badge(status: str | None) -> None:
    if status:
        st.badge(STATUS_LABELS.get(status, status), color=STATUS_COLORS.get(status, "gray"))


def provenance_badge(source_type: str | None) -> None:
    label = source_type or "—"
    st.badge(label, color=PROVENANCE_COLORS.get(label, "gray"), help=PROVENANCE_HELP.get(label))


def tier_markdown(tier: str | None) -> str:
    """A tier as a coloured Markdown badge, for text that mixes badges and words."""
    if not tier:
        return ""
    return f":{TIER_COLORS.get(tier, 'gray')}-badge[{tier}]"


def status_markdown(status: str | None) -> str:
    """A status as a coloured Markdown badge (the label, never data)."""
    if not status:
        return ""
    return f":{STATUS_COLORS.get(status, 'gray')}-badge[{STATUS_LABELS.get(status, status)}]"
