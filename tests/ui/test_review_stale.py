"""A Review action on a role that changed after the panel was drawn is refused and says so."""

from __future__ import annotations

from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from jobforge.review.actions import choose_code
from tests.ui.conftest import texts


def test_confirm_of_a_role_another_analyst_changed_is_refused_with_what_it_is_now(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    with session_factory(ui_engine)() as s:
        role_id = s.scalar(select(Role.id).where(Role.title == "Kitchen Driver"))
        shown = s.scalar(select(Mapping).where(Mapping.role_id == role_id))
    at.session_state["review_selected"] = role_id
    at.run()
    other = "35-2014.00" if shown.onet_code != "35-2014.00" else "53-3032.00"
    with session_factory(ui_engine)() as s:  # bob decides the role while it is open on this screen
        choose_code(s, role_id, other, "bob")

    at.button(key=f"confirm_{role_id}").click().run()

    with session_factory(ui_engine)() as s:
        final = s.scalar(select(Mapping).where(Mapping.role_id == role_id))
    assert (final.onet_code, final.status, final.confirmed_by) == (other, "overridden", "bob")
    shown_text = texts(at)
    assert "This role changed since you opened it: now " + other in shown_text
    assert "by bob" in shown_text
