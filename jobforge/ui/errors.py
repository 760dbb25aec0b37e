"""How pages show failures: a domain error's message as it is, anything else as a short note.

A :class:`~jobforge.errors.JobForgeError` carries a sentence written for the analyst, so the page
shows it. Any other exception is a bug: the user reads one short line (never SQL, parameters or a
traceback) and the traceback goes to the server log. Streamlit's own control flow (``st.rerun``,
``st.stop``) derives from ``BaseException`` and passes through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from jobforge.errors import JobForgeError
from jobforge.redaction import scrub

_log = logging.getLogger("jobforge.ui")


@dataclass
class Outcome:
    """Whether the guarded block finished; ``message`` is what the user was shown when it did not."""

    ok: bool = True
    message: str | None = None


def user_message(exc: Exception) -> str:
    """What the user may read about ``exc``; an unexpected error is logged with its traceback here."""
    if isinstance(exc, JobForgeError):
        return scrub(exc.message)
    _log.error("Unexpected error shown to the user as a short note", exc_info=exc)
    return f"an unexpected error happened ({type(exc).__name__}); the details are in the server log"


@contextmanager
def reported(prefix: str, show: Callable[[str], object] | None = None) -> Iterator[Outcome]:
    """Run the block; on failure show ``"<prefix>: <message>"`` (with ``st.error`` by default).

    Usage::

        with reported("Loading O*NET failed") as outcome:
            load(...)
        if outcome.ok:
            st.success("Loaded")
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:
        outcome.ok = False
        outcome.message = f"{prefix}: {user_message(exc)}"
        (show or st.error)(outcome.message)
