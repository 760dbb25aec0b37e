"""Thin Streamlit helpers shared by the pages (the only package under jobforge/ that imports Streamlit)."""
