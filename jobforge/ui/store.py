"""The store as the app sees it: one cached engine per URL, sessions, the in-process worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jobforge.config import get_settings
from jobforge.db.engine import describe_url, get_engine, session_scope
from jobforge.jobs.worker import ensure_background_worker


def apply_secrets() -> None:
    """Copy st.secrets entries (JOBFORGE_*, provider keys) into the environment, so settings see them.

    Environment variables already set win: secrets are a convenience for hosted deployments.
    """
    try:
        items = dict(st.secrets)
    except Exception:  # no secrets.toml: nothing to apply
        return
    changed = False
    for name, value in items.items():
        if not isinstance(value, str | int | float | bool):
            continue  # sections such as [auth] are not settings
        upper = name.upper()
        if (upper.startswith("JOBFORGE_") or upper.endswith("_API_KEY")) and upper not in os.environ:
            os.environ[upper] = str(value)
            changed = True
    if changed:
        get_settings.cache_clear()


@st.cache_resource(show_spinner="Opening the store…")
def _engine_for(url: str) -> Engine:
    engine = get_engine(url)
    if engine.dialect.name == "sqlite" and get_settings().app_worker:
        # Single-user set-up: jobs run in a thread of this process (teams run `python -m jobforge worker`).
        ensure_background_worker(engine)
    return engine


def store_engine() -> Engine:
    return _engine_for(get_settings().resolved_database_url())


def store_label() -> str:
    return describe_url(get_settings().resolved_database_url())


@contextmanager
def session() -> Iterator[Session]:
    """A session on the app's store that commits on success."""
    with session_scope(store_engine()) as s:
        yield s
