"""Moved to tests/factories.py. Kept only while other branches still import it from here; the lead
deletes this file once they are merged (new tests import ``tests.factories``)."""

from tests.factories import (
    ADMIN,
    FIRST,
    ONE_BY_ONE,
    SECOND,
    THIRD,
    VIEWER,
    add_members,
    make_decided_project,
    make_team,
)

__all__ = ["ADMIN", "FIRST", "ONE_BY_ONE", "SECOND", "THIRD", "VIEWER", "add_members", "make_decided_project", "make_team"]
