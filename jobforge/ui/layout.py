"""Page layout helpers: less empty space at the top, so a laptop screen (1366×768) shows the work."""

from __future__ import annotations

import streamlit as st

# Our own CSS (no data in it): Streamlit leaves ~6rem above the first element and large headings.
_COMPACT_CSS = """
<style>
.stMainBlockContainer, [data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 1rem; }
[data-testid="stMainBlockContainer"] h1 { padding: 0.1rem 0 0.2rem 0; font-size: 1.9rem; }
[data-testid="stMainBlockContainer"] h3 { padding: 0.1rem 0 0.1rem 0; }
</style>
"""


def compact_page() -> None:
    """Tighten the top of the page (call first on a page)."""
    st.markdown(_COMPACT_CSS, unsafe_allow_html=True)
