"""Review page: LOW first, the detail panel, confirm / change / search / needs info / note, bulk + undo."""

from __future__ import annotations

from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Role
from jobforge.review.queries import review_rows
from jobforge.ui.text import md
from tests.ui.conftest import USER, texts


def _mapping(engine, role_id: int) -> Mapping:
    with session_factory(engine)() as s:
        return s.scalar(select(Mapping).where(Mapping.role_id == role_id))


def _role_id(engine, title: str) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(Role.id).where(Role.title == title))


def _open(open_app, project_id):
    at = open_app("review", project_id)
    assert at.title[0].value == "Review"
    return at


def test_low_first_and_the_first_unreviewed_role_is_open(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    order = at.session_state["review_order"]
    with session_factory(ui_engine)() as s:
        tiers = dict(
            zip(review_rows(s, mapped_project)["role_id"], review_rows(s, mapped_project)["tier"], strict=True)
        )
    shown_tiers = [tiers[rid] for rid, _ in order]
    assert shown_tiers == sorted(shown_tiers, key=["LOW", "MEDIUM", "HIGH"].index)
    assert shown_tiers[0] == "LOW", shown_tiers
    first = order[0][0]
    assert at.session_state["review_selected"] == first
    with session_factory(ui_engine)() as s:
        title = s.get(Role, first).title
    assert at.subheader[0].value == md(title)
    assert "0 of 12 roles confirmed" in at.get("progress")[0].proto.text


def test_confirm_records_who_and_moves_to_the_next_unreviewed_role(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    first = _role_id(ui_engine, "Kitchen Driver")
    at.session_state["review_selected"] = first
    at.run()
    at.button(key=f"confirm_{first}").click().run()
    mapping = _mapping(ui_engine, first)
    assert mapping.status == "confirmed" and mapping.confirmed_by == USER
    nxt = at.session_state["review_selected"]
    assert nxt != first and _mapping(ui_engine, nxt).status == "proposed"
    assert "Confirmed" in texts(at)
    assert "1 of 12 roles confirmed" in at.get("progress")[0].proto.text
    with session_factory(ui_engine)() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "confirm"))
        assert event.user == USER and event.before["status"] == "proposed" and event.after["status"] == "confirmed"


def test_skip_moves_on_without_changing_anything(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    first = at.session_state["review_selected"]
    at.button(key=f"skip_{first}").click().run()
    assert at.session_state["review_selected"] != first
    assert _mapping(ui_engine, first).status == "proposed"


def test_choose_another_candidate(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    role_id = _role_id(ui_engine, "Registered Nurse")
    at.session_state["review_selected"] = role_id
    at.run()
    assert at.subheader[0].value == md("Registered Nurse")
    at.button(key=f"choose_{role_id}_29-1141.01").click().run()
    mapping = _mapping(ui_engine, role_id)
    assert mapping.onet_code == "29-1141.01" and mapping.status == "overridden" and mapping.confirmed_by == USER
    assert mapping.proposed_code == "29-1141.00"


def test_search_any_occupation(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    role_id = _role_id(ui_engine, "Chief Happiness Wizard")
    at.session_state["review_selected"] = role_id
    at.run()
    at.text_input(key=f"search_{role_id}").input("customer").run()
    assert at.selectbox(key=f"search_pick_{role_id}").value[0] == "43-4051.00"
    at.button(key=f"search_use_{role_id}").click().run()
    assert _mapping(ui_engine, role_id).onet_code == "43-4051.00"

    at.session_state["review_selected"] = role_id
    at.run()
    at.text_input(key=f"search_{role_id}").input("53-30").run()
    assert at.selectbox(key=f"search_pick_{role_id}").value[0] == "53-3032.00"
    at.text_input(key=f"search_{role_id}").input("zzzz").run()
    assert "No occupation matches" in texts(at)


def test_needs_info_with_a_note_and_a_separate_note(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    role_id = _role_id(ui_engine, "Xylophone Tuning Specialist")
    at.session_state["review_selected"] = role_id
    at.run()
    assert "No O*NET occupation was proposed" in texts(at)
    at.text_area(key=f"note_{role_id}").input("Ask HR what this team does")
    at.button(key=f"needs_{role_id}").click().run()
    mapping = _mapping(ui_engine, role_id)
    assert mapping.status == "needs_info" and "Ask HR" in (mapping.note or "")

    other = at.session_state["review_selected"]
    at.text_area(key=f"note_{other}").input("Checked with the manager")
    at.button(key=f"save_note_{other}").click().run()
    assert "Checked with the manager" in (_mapping(ui_engine, other).note or "")
    assert _mapping(ui_engine, other).status == "proposed"
    assert at.session_state["review_selected"] == other  # a note does not move on


def test_bulk_confirm_visible_high_and_undo(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    with session_factory(ui_engine)() as s:
        high = set(review_rows(s, mapped_project, tiers=["HIGH"])["role_id"])
    button = at.button(key="bulk_confirm")
    assert button.label == f"Confirm all visible HIGH ({len(high)})"
    button.click().run()
    assert {rid for rid in high if _mapping(ui_engine, rid).status == "confirmed"} == high
    assert _mapping(ui_engine, at.session_state["review_order"][0][0]).status == "proposed"  # LOW untouched
    assert at.button(key="bulk_confirm").label == "Confirm all visible HIGH (0)"

    at.button(key="undo_bulk").click().run()
    assert all(_mapping(ui_engine, rid).status == "proposed" for rid in high)
    assert "are back to what they were" in texts(at)


def test_filters_narrow_the_grid(open_app, ui_engine, mapped_project):
    at = _open(open_app, mapped_project)
    at.button_group(key="flt_tier").set_value(["LOW"]).run()
    with session_factory(ui_engine)() as s:
        low = list(review_rows(s, mapped_project, tiers=["LOW"])["role_id"])
    assert [rid for rid, _ in at.session_state["review_order"]] == low
    assert at.button(key="bulk_confirm").label == "Confirm all visible HIGH (0)"

    at.button_group(key="flt_tier").set_value(["LOW", "MEDIUM", "HIGH"]).run()
    at.text_input(key="flt_text").input("nurse").run()
    titles = {_title(ui_engine, rid) for rid, _ in at.session_state["review_order"]}
    assert titles == {"Registered Nurse", "Senior Nurse - ICU"}
    at.selectbox(key="flt_family").set_value("Finance").run()
    assert at.session_state["review_order"] == [] or "No role matches" in texts(at)


def _title(engine, role_id: int) -> str:
    with session_factory(engine)() as s:
        return s.get(Role, role_id).title


def test_empty_states(open_app, ui_engine):
    from jobforge.projects import create_project

    with session_factory(ui_engine)() as s:
        project = create_project(s, "Empty", USER)
        s.commit()
        pid = project.id
    at = open_app("review", pid)
    assert "upload a spreadsheet first" in texts(at)
    at = open_app("review")
    assert "Open a project" in texts(at)
