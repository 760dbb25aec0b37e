"""The SQL store: engine and sessions, ORM models, repositories, migrations."""

from jobforge.db.engine import StoreError, get_engine, make_engine, session_scope
from jobforge.db.models import Base

__all__ = ["Base", "StoreError", "get_engine", "make_engine", "session_scope"]
