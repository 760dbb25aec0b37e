"""A review action the store refuses: the analyst reads one short line, never SQL or its parameters."""

from __future__ import annotations

import logging

from sqlalchemy import select, text

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from tests.ui.conftest import texts


def test_a_store_failure_on_confirm_shows_one_line_and_logs_the_details(
    open_app, ui_engine, mapped_project, caplog
) -> None:
    at = open_app("review", mapped_project)
    with session_factory(ui_engine)() as s:
        role_id = s.scalar(select(Role.id).where(Role.title == "Kitchen Driver"))
    at.session_state["review_selected"] = role_id
    at.run()
    # The store now refuses the audit write that every decision makes (a real error from the driver).
    with ui_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="jobforge.ui"):
            at.button(key=f"confirm_{role_id}").click().run()
    finally:
        with ui_engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event_away RENAME TO audit_event"))
    shown = texts(at)
    assert "failed: an unexpected error happened" in shown and "details are in the server log" in shown
    for leak in ("INSERT", "audit_event", "[SQL", "parameters", "Kitchen Driver', "):
        assert leak not in shown, leak
    assert "INSERT INTO audit_event" in caplog.text  # the details are in the log
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(Mapping.status).where(Mapping.role_id == role_id)) == "proposed"  # nothing saved
