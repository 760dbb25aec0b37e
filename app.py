"""JobForge: Streamlit entry point (page config, navigation, sidebar status)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="JobForge", page_icon="🧭", layout="wide")
st.title("JobForge")
st.write("Map your organisation's job roles to O*NET occupations.")
