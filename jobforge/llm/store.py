"""Where the LLM layer writes (usage rows, cached answers, provider batches): the caller says so.

Two explicit stores with the same two methods, chosen by the caller by name:

- :class:`OwnTransactions` (an Engine): every write is a fresh session in its own
  ``with session.begin():`` transaction, committed when the write ends. For work that outlives the
  caller's transaction or runs in threads (an agent recording calls as they finish).
- :class:`CallersSession` (a Session the caller owns): writes go into that session and are flushed;
  the caller's own transaction commits them with its work (or rolls them back). Use it from the
  thread that owns the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory


class Store(Protocol):
    """``writing()``/``reading()`` yield a Session to write to / read from; ``callers_transaction``
    says whether the writes belong to the caller's transaction (so a failed write is the caller's)."""

    callers_transaction: bool

    def writing(self) -> AbstractContextManager[Session]: ...

    def reading(self) -> AbstractContextManager[Session]: ...


class OwnTransactions:
    """Each write in a fresh session and transaction of its own, committed on exit (rolled back on error)."""

    callers_transaction = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with session_factory(self.engine)() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with session_factory(self.engine)() as session:
            yield session


class CallersSession:
    """Writes into the caller's session, flushed, inside the caller's transaction (the caller commits)."""

    callers_transaction = True

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        yield self.session
        self.session.flush()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        yield self.session
