"""Writing to the store from the LLM layer, given either an Engine or the caller's Session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jobforge.db.engine import session_scope

StoreTarget = Engine | Session


@contextmanager
def writing(target: StoreTarget) -> Iterator[Session]:
    """With a Session: write into it and flush (the caller commits with its own work).
    With an Engine: a short session of our own, committed on exit.
    """
    if isinstance(target, Session):
        yield target
        target.flush()
    else:
        with session_scope(target) as session:
            yield session


@contextmanager
def reading(target: StoreTarget) -> Iterator[Session]:
    if isinstance(target, Session):
        yield target
    else:
        with session_scope(target) as session:
            yield session
