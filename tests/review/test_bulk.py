"""Apply one code to many roles: preview, one audited action, decided-in-bulk marks, undo from the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, Role
from jobforge.mapping.precedent import find_precedents
from jobforge.review.actions import ReviewError, choose_code, confirm
from jobforge.review.bulk import apply_code, last_bulk_action, preview_apply, undo_bulk_action
from jobforge.review.queries import calibration, review_rows
from tests.review.review_helpers import make_review_project

HYPERLINK = '=HYPERLINK("http://x")'


def _mapping(engine, role_id: int) -> Mapping | None:
    with session_factory(engine)() as s:
        return s.scalar(select(Mapping).where(Mapping.role_id == role_id))


def test_preview_lists_the_matching_roles_and_leaves_decided_ones_alone(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        confirm(s, made.role_ids["Staff Accountant"], "ann")
    with session_factory(onet_engine)() as s:
        ids = review_rows(s, made.project_id)["role_id"].tolist()
        preview = preview_apply(s, made.project_id, ids, "29-1141.00")
        assert {role.title for role in preview.roles} == {
            "Java Developer", "ICU Nurse", "Line Cook", "Call Center Agent", HYPERLINK,
        }  # fmt: skip
        assert (preview.left_decided, preview.rows) == (1, 5)
        everything = preview_apply(s, made.project_id, ids, "29-1141.00", include_decided=True)
        assert len(everything.roles) == 6 and everything.left_decided == 0


def test_apply_to_a_search_is_one_audited_action_marked_as_bulk(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        confirm(s, made.role_ids["Staff Accountant"], "ann")
    with session_factory(onet_engine)() as s:
        matching = review_rows(s, made.project_id, text="n")["role_id"].tolist()
    with session_factory(onet_engine)() as s:
        done = apply_code(s, made.project_id, matching, "29-1141", "ann", described_as="search “n”")
    with session_factory(onet_engine)() as s:
        changed = {s.get(Role, role_id).title for role_id in done.role_ids}
        assert "Staff Accountant" not in changed and {"ICU Nurse", "Line Cook"} <= changed
        nurse = s.scalar(select(Mapping).where(Mapping.role_id == made.role_ids["ICU Nurse"]))
        cook = s.scalar(select(Mapping).where(Mapping.role_id == made.role_ids["Line Cook"]))
        assert (nurse.status, nurse.onet_code, nurse.decided_in_bulk) == ("confirmed", "29-1141.00", True)
        assert (cook.status, cook.proposed_code, cook.confirmed_by) == ("overridden", "35-2014.00", "ann")
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "bulk_apply")).all()
        assert len(events) == 1 and events[0].entity_id == done.id
        assert events[0].after["described_as"] == "search “n”" and events[0].after["code"] == "29-1141.00"
        table = calibration(s, made.project_id).set_index("tier")
        assert table.loc["HIGH", "reviewed"] == 1  # the accountant, looked at alone
        assert table["decided_in_bulk"].sum() == len([r for r in done.role_ids if s.get(Role, r).title != HYPERLINK])


def test_undo_after_a_reload_restores_what_nobody_changed_since(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        ids = list(made.role_ids.values())
    with session_factory(onet_engine)() as s:
        done = apply_code(s, made.project_id, ids, "43-4051.00", "ann")
    assert len(done.role_ids) == 6
    assert _mapping(onet_engine, made.role_ids[HYPERLINK]).source == "analyst"
    with session_factory(onet_engine)() as s:
        choose_code(s, made.role_ids["Line Cook"], "35-2014.00", "ann")  # decided again, one by one

    with session_factory(onet_engine)() as s:  # a new session: nothing remembered but the audit log
        last = last_bulk_action(s, made.project_id, "ann")
        assert last is not None and last.id == done.id and last.count == 6 and last.code == "43-4051.00"
    with session_factory(onet_engine)() as s:
        undone = undo_bulk_action(s, last.id, "ann")
    assert (undone.restored, undone.skipped) == (5, 1)
    nurse = _mapping(onet_engine, made.role_ids["ICU Nurse"])
    assert (nurse.status, nurse.onet_code, nurse.decided_in_bulk, nurse.confirmed_by) == (
        "proposed", "29-1141.00", False, None,
    )  # fmt: skip
    assert _mapping(onet_engine, made.role_ids["Line Cook"]).status == "confirmed"
    assert _mapping(onet_engine, made.role_ids[HYPERLINK]) is None
    with session_factory(onet_engine)() as s:
        assert last_bulk_action(s, made.project_id, "ann") is None
        with pytest.raises(ReviewError, match="already been undone"):
            undo_bulk_action(s, done.id, "ann")
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "undo_bulk")) == 1


def test_nothing_to_change_is_refused(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        confirm(s, made.role_ids["Line Cook"], "ann")
    with session_factory(onet_engine)() as s, pytest.raises(ReviewError, match="No role to change"):
        apply_code(s, made.project_id, [made.role_ids["Line Cook"]], "35-2014.00", "ann")
    with session_factory(onet_engine)() as s, pytest.raises(ReviewError, match="not an occupation code"):
        apply_code(s, made.project_id, [made.role_ids["ICU Nurse"]], "99-9999.00", "ann")


def test_a_bulk_decision_weighs_less_as_precedent(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        apply_code(s, made.project_id, [made.role_ids["ICU Nurse"]], "29-1141.01", "ann")
    with session_factory(onet_engine)() as s:
        key = s.get(Role, made.role_ids["ICU Nurse"]).title_key
        found = find_precedents(s, [key])[key]
        assert found.in_bulk and "in a bulk action" in found.rationale()
    other = make_review_project(onet_engine, name="Other")
    with session_factory(onet_engine)() as s:
        choose_code(s, other.role_ids["ICU Nurse"], "29-1141.00", "bea")  # looked at alone, later too
    with session_factory(onet_engine)() as s:
        apply_code(s, made.project_id, [made.role_ids["ICU Nurse"]], "11-1011.00", "ann", include_decided=True)
    with session_factory(onet_engine)() as s:
        found = find_precedents(s, [key])[key]
        assert (found.code, found.in_bulk) == ("29-1141.00", False)  # one by one beats a newer bulk decision
