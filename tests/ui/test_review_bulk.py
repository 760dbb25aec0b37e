"""Review page: apply one code to every role a search matches, with a preview; undo after a reload."""

from __future__ import annotations

from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Role
from tests.ui.conftest import texts

NURSES = {"Registered Nurse", "Senior Nurse - ICU"}


def _mappings(engine, titles: set[str]) -> dict[str, Mapping]:
    with session_factory(engine)() as s:
        rows = s.execute(select(Role.title, Mapping).join(Mapping, Mapping.role_id == Role.id)).all()
        return {title: mapping for title, mapping in rows if title in titles}


def test_apply_a_code_to_a_search_then_undo_after_a_reload(open_app, ui_engine, mapped_project):
    before = _mappings(ui_engine, NURSES)
    at = open_app("review", mapped_project)
    at.text_input(key="flt_text").input("nurse").run()
    toggle = at.toggle(key="bulk_open")
    assert "many roles: 2 (the search “nurse”)" in toggle.label
    toggle.set_value(True).run()
    at.text_input(key="bulk_code_query").input("29-1141.01").run()
    assert at.selectbox(key="bulk_code").value[0] == "29-1141.01"
    preview = at.dataframe[0].value
    assert set(preview["Title"]) == NURSES and preview["Rows"].sum() == 2
    assert "2 roles · 2 rows (employees) would get 29\\-1141\\.01" in texts(at)
    at.button(key="bulk_apply").click().run()
    assert "Applied 29-1141.01 to 2 roles" in texts(at)
    after = _mappings(ui_engine, NURSES)
    assert {m.onet_code for m in after.values()} == {"29-1141.01"}
    assert all(m.decided_in_bulk and m.status in ("confirmed", "overridden") for m in after.values())
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "bulk_apply")) == 1

    at = open_app("review", mapped_project)  # a reload: a new browser session, nothing remembered
    undo = at.button(key="undo_bulk")
    assert undo.label.startswith("Undo: applied 29-1141.01 to 2 role(s) at ")
    undo.click().run()
    assert "Undone: 2 roles are back to what they were" in texts(at)
    restored = _mappings(ui_engine, NURSES)
    for title, mapping in restored.items():
        assert (mapping.onet_code, mapping.status, mapping.decided_in_bulk) == (
            before[title].onet_code, "proposed", False,
        )  # fmt: skip
    assert not [b for b in at.button if b.key == "undo_bulk"]


def test_decided_roles_are_left_alone_unless_ticked(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    with session_factory(ui_engine)() as s:
        nurse = s.scalar(select(Role.id).where(Role.title == "Registered Nurse"))
    at.session_state["review_selected"] = nurse
    at.run()
    at.button(key=f"confirm_{nurse}").click().run()
    at.text_input(key="flt_text").input("nurse").run()
    at.toggle(key="bulk_open").set_value(True).run()
    at.text_input(key="bulk_code_query").input("29-1141.01").run()
    assert set(at.dataframe[0].value["Title"]) == {"Senior Nurse - ICU"}
    assert "1 already decided are left alone" in texts(at)
    at.checkbox(key="bulk_include").check().run()
    assert set(at.dataframe[0].value["Title"]) == NURSES


def test_un_confirm_one_role_after_a_reload(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    with session_factory(ui_engine)() as s:
        nurse = s.scalar(select(Role.id).where(Role.title == "Registered Nurse"))
    at.session_state["review_selected"] = nurse
    at.run()
    at.button(key=f"confirm_{nurse}").click().run()

    at = open_app("review", mapped_project)  # reload
    at.session_state["review_selected"] = nurse
    at.run()
    at.button(key=f"reopen_{nurse}").click().run()
    assert "undecided again" in texts(at)
    mapping = _mappings(ui_engine, {"Registered Nurse"})["Registered Nurse"]
    assert (mapping.status, mapping.confirmed_by) == ("proposed", None)
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "reopen"


def test_ask_for_info_clears_the_note_and_the_filter_has_another_name(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    first = at.session_state["review_selected"]
    assert at.button(key=f"needs_{first}").label == "Ask for info"
    assert "Waiting for info" in at.button_group(key="flt_status").options
    at.text_area(key=f"note_{first}").input("Which ward?")
    at.button(key=f"needs_{first}").click().run()
    assert at.session_state[f"note_{first}"] == ""
    title = _titles(ui_engine)[first]
    assert "Which ward?" in (_mappings(ui_engine, {title})[title].note or "")


def _titles(engine) -> dict[int, str]:
    with session_factory(engine)() as s:
        return dict(s.execute(select(Role.id, Role.title)).tuples().all())
