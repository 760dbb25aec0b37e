"""Attributes page: the role × attribute table, filters, edits in place, bulk set, conflicts with O*NET."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Job, Role, RoleAttribute
from tests.factories import propose, role_ids, upload_ward
from tests.ui.conftest import USER, run_jobs, texts


def _value(engine, role_id: int, name: str = "Education") -> RoleAttribute | None:
    with session_factory(engine)() as s:
        return s.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name))


@pytest.fixture
def ward(ui_engine) -> int:
    """The ward's staff list; the nurses proposed as 29-1141.00, the cooks as 35-2014.00."""
    project_id = upload_ward(ui_engine)
    ids = role_ids(ui_engine, project_id)
    propose(ui_engine, ids["Registered Nurse"], "29-1141.00")
    propose(ui_engine, ids["Staff Nurse"], "29-1141.00", status="confirmed")
    propose(ui_engine, ids["Line Cook"], "35-2014.00")
    return project_id


def _table(at):
    (editor,) = at.data_editor
    return editor.value


def _edit(at, changes: dict[int, dict[str, object]]):
    """Edit cells of the table as a user would (row position -> column -> new value), then rerun."""
    key = at.session_state["attr_shown"][1]
    at.session_state[key] = {"edited_rows": changes, "added_rows": [], "deleted_rows": []}
    return at.run()


def test_the_table_shows_row_agreement_and_which_columns_vary_by_person(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    table = _table(at).set_index("Title")
    nurse = table.loc["Registered Nurse"]
    assert nurse["Years Experience"] == "3" and nurse["Years Experience · source"] == "SOURCE 50%"
    assert nurse["Years Experience · agreement"] == "2 of 4 rows (4 of 5 have a value)"
    assert nurse["Years Experience · O*NET"] == "= Over 2 years, up to and including 4 years"
    assert table.loc["Staff Nurse", "Education · source"] == "EMPTY"
    shown = texts(at)
    assert "Role requirements: **Education**" in shown
    assert "Vary by person: **Years Experience** (its name says 'years')" in shown


def test_filters_narrow_the_table(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    assert len(_table(at)) == 3
    at.text_input(key="attr_search").input("nurse").run()
    assert list(_table(at)["Title"]) == ["Registered Nurse", "Staff Nurse"]
    at.text_input(key="attr_search").input("").run()
    at.multiselect(key="attr_names").set_value(["Education"]).run()
    at.multiselect(key="attr_sources").set_value(["EMPTY"]).run()
    assert list(_table(at)["Title"]) == ["Staff Nurse"]
    assert "Years Experience" not in _table(at).columns


def test_a_value_edited_in_place_is_saved_as_the_analysts(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    titles = list(_table(at)["Title"])
    nurse = role_ids(ui_engine, ward)["Registered Nurse"]
    at = _edit(at, {titles.index("Registered Nurse"): {"Education": "Master's Degree"}})
    assert not at.exception
    value = _value(ui_engine, nurse)
    assert (value.value, value.source_type, value.updated_by, value.version) == ("Master's Degree", "ANALYST", USER, 2)
    assert "Saved 1 value" in texts(at)
    table = _table(at).set_index("Title")
    assert table.loc["Registered Nurse", "Education · source"] == "ANALYST"
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "set_attribute", AuditEvent.user == USER))
    # Emptying the analyst's value gives the rows' own value back.
    at = _edit(at, {titles.index("Registered Nurse"): {"Education": ""}})
    assert (_value(ui_engine, nurse).value, _value(ui_engine, nurse).source_type) == ("Bachelor's Degree", "SOURCE")


def test_an_edit_of_a_value_changed_meanwhile_is_refused(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    titles = list(_table(at)["Title"])
    nurse = role_ids(ui_engine, ward)["Registered Nurse"]
    with session_factory(ui_engine)() as s:  # a job or another analyst writes after the table was shown
        cell = s.scalar(select(RoleAttribute).where(RoleAttribute.role_id == nurse, RoleAttribute.name == "Education"))
        cell.value, cell.version = "Associate's Degree", cell.version + 1
        s.commit()
    at = _edit(at, {titles.index("Registered Nurse"): {"Education": "Master's Degree"}})
    assert any("changed since the table was shown" in e.value for e in at.error)
    assert _value(ui_engine, nurse).value == "Associate's Degree"


def test_bulk_set_for_the_selected_roles(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    titles = list(_table(at)["Title"])
    ids = role_ids(ui_engine, ward)
    at = _edit(at, {titles.index("Registered Nurse"): {"Pick": True}, titles.index("Staff Nurse"): {"Pick": True}})
    assert "2 selected" in texts(at)
    at.selectbox(key="attr_bulk_name").set_value("Education")
    at.text_input(key="attr_bulk_value").input("Bachelor's Degree")
    at.radio(key="attr_bulk_scope").set_value("selected")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    for title in ("Registered Nurse", "Staff Nurse"):
        value = _value(ui_engine, ids[title])
        assert (value.value, value.source_type) == ("Bachelor's Degree", "ANALYST")
    assert _value(ui_engine, ids["Line Cook"]).source_type == "SOURCE"
    with session_factory(ui_engine)() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "bulk_set_attribute"))
        assert event.user == USER and event.after["count"] == 2
    assert "for 2 roles" in texts(at)


def test_a_value_contradicting_onet_is_flagged(open_app, ui_engine, ward):
    staff = role_ids(ui_engine, ward)["Staff Nurse"]
    with session_factory(ui_engine)() as s:  # what inheritance from a wrong family would leave
        s.add(RoleAttribute(role_id=staff, name="Education", value="High school", source_type="HIERARCHY"))
        s.commit()
    at = open_app("attributes", ward)
    flag = _table(at).set_index("Title").loc["Staff Nurse", "Education · O*NET"]
    assert flag.startswith("⚠ 10% of 29-1141.00 incumbents report this")
    at.toggle(key="attr_conflicts").set_value(True).run()
    assert list(_table(at)["Title"]) == ["Staff Nurse"]
    assert "1 value(s) contradict O*NET" in texts(at)


def test_run_inheritance_and_imputation_as_a_job(open_app, ui_engine, ward):
    at = open_app("attributes", ward)
    at.radio(key="impute_provider").set_value("offline").run()
    at.button(key="impute_start").click().run()
    with session_factory(ui_engine)() as s:
        job = s.scalar(select(Job).where(Job.kind == "impute"))
        assert job.params == {"provider": "offline"} and job.created_by == USER
    assert run_jobs(ui_engine) == 1
    at.run()
    assert "Completing attributes finished" in texts(at)
    staff = role_ids(ui_engine, ward)["Staff Nurse"]
    value = _value(ui_engine, staff)
    assert value is not None and value.value and value.source_type in ("HIERARCHY", "ONET")
    # The nurses' own rows were not touched.
    with session_factory(ui_engine)() as s:
        nurse = s.scalar(select(Role.id).where(Role.title == "Registered Nurse"))
    assert _value(ui_engine, nurse, "Years Experience").source_type == "SOURCE"
