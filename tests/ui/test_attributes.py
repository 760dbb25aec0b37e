"""Attributes page: values with provenance, analyst override, the completion job."""

from __future__ import annotations

from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Job, Role, RoleAttribute
from tests.ui.conftest import USER, run_jobs, texts


def _role_id(engine, title: str) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(Role.id).where(Role.title == title))


def _value(engine, role_id: int, name: str = "Education") -> RoleAttribute | None:
    with session_factory(engine)() as s:
        return s.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name))


def test_values_show_their_source_and_empty_cells_say_so(open_app, ui_engine, mapped_project):
    at = open_app("attributes", mapped_project)
    accountant = _role_id(ui_engine, "Staff Accountant")
    at.selectbox(key="attr_role").set_value(accountant).run()
    assert "Bachelor's Degree" in [t.value for t in at.text]
    assert any(m.value == ":green-badge[SOURCE]" for m in at.markdown)

    cook = _role_id(ui_engine, "Line Cook")
    at.selectbox(key="attr_role").set_value(cook).run()
    assert "empty: run the completion above, or override" in texts(at)


def test_override_a_value(open_app, ui_engine, mapped_project):
    at = open_app("attributes", mapped_project)
    cook = _role_id(ui_engine, "Line Cook")
    at.selectbox(key="attr_role").set_value(cook).run()
    at.selectbox(key=f"override_name_{cook}").set_value("Education")
    at.text_input(key=f"override_value_{cook}").input("Culinary certificate")
    at.get("form_submit_button")[0].click().run()
    value = _value(ui_engine, cook)
    assert value.value == "Culinary certificate" and value.source_type == "ANALYST" and value.updated_by == USER
    assert any(m.value == ":blue-badge[ANALYST]" for m in at.markdown)
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.entity_type == "attribute", AuditEvent.user == USER))


def test_an_empty_override_is_refused(open_app, ui_engine, mapped_project):
    at = open_app("attributes", mapped_project)
    role = at.session_state["attr_role"]
    at.text_input(key=f"override_value_{role}").input("   ")
    at.get("form_submit_button")[0].click().run()
    assert any("cannot be empty" in e.value for e in at.error)


def test_run_inheritance_and_imputation_as_a_job(open_app, ui_engine, mapped_project):
    at = open_app("attributes", mapped_project)
    at.radio(key="impute_provider").set_value("offline").run()
    at.button(key="impute_start").click().run()
    with session_factory(ui_engine)() as s:
        job = s.scalar(select(Job).where(Job.kind == "impute"))
        assert job.params == {"provider": "offline"} and job.created_by == USER
    assert run_jobs(ui_engine) == 1
    at.run()
    assert "Completing attributes finished" in texts(at)
    cook = _role_id(ui_engine, "Line Cook")
    value = _value(ui_engine, cook)
    assert value is not None and value.value and value.source_type in ("HIERARCHY", "ONET")
