"""Review actions change the stored mapping as the analyst expects and log before/after."""

from __future__ import annotations

import pytest
from review_helpers import make_review_project
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, MappingStatus
from jobforge.review.actions import (
    ReviewError,
    add_note,
    bulk_confirm,
    choose_code,
    confirm,
    mark_needs_info,
    reopen,
    undo_bulk,
)


def stored(engine, role_id: int) -> Mapping:
    with session_factory(engine)() as session:
        return session.scalar(select(Mapping).where(Mapping.role_id == role_id))


def events(engine, action: str) -> list[AuditEvent]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_confirm_records_who_and_keeps_the_proposal(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Line Cook"]
    with session_factory(onet_engine)() as session:
        confirm(session, role_id, "ann")
    mapping = stored(onet_engine, role_id)
    assert mapping.status == MappingStatus.CONFIRMED
    assert (mapping.onet_code, mapping.proposed_code, mapping.proposed_tier) == ("35-2014.00", "35-2014.00", "LOW")
    assert mapping.confirmed_by == "ann" and mapping.confirmed_at is not None
    (event,) = events(onet_engine, "confirm")
    assert event.user == "ann" and event.entity_id == role_id and event.project_id == made.project_id
    assert event.before["status"] == "proposed" and event.after["status"] == "confirmed"
    assert event.after["confirmed_by"] == "ann"


def test_choose_code_overrides_with_any_occupation_of_the_release(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["ICU Nurse"]
    with session_factory(onet_engine)() as session:
        choose_code(session, role_id, "29-1141.01", "bob")
    mapping = stored(onet_engine, role_id)
    assert mapping.status == MappingStatus.OVERRIDDEN
    assert (mapping.onet_code, mapping.onet_title) == ("29-1141.01", "Acute Care Nurses")
    assert (mapping.proposed_code, mapping.proposed_tier, mapping.source) == ("29-1141.00", "MEDIUM", "offline")
    assert mapping.confirmed_by == "bob"
    (event,) = events(onet_engine, "choose_code")
    assert event.before["onet_code"] == "29-1141.00" and event.after["onet_code"] == "29-1141.01"


def test_choose_code_accepts_a_six_digit_code_and_the_proposal_counts_as_confirmed(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Line Cook"]
    with session_factory(onet_engine)() as session:
        choose_code(session, role_id, "53-3032", "bob")
        assert stored(onet_engine, role_id).onet_code == "53-3032.00"
        choose_code(session, role_id, "35-2014.00", "bob")
    mapping = stored(onet_engine, role_id)
    assert (mapping.onet_code, mapping.status) == ("35-2014.00", MappingStatus.CONFIRMED)


@pytest.mark.parametrize("code", ["99-9999.00", "nonsense", ""])
def test_choose_code_refuses_codes_outside_the_release(onet_engine, code):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Line Cook"]
    with session_factory(onet_engine)() as session, pytest.raises(ReviewError, match="not an occupation code"):
        choose_code(session, role_id, code, "bob")
    mapping = stored(onet_engine, role_id)
    assert (mapping.onet_code, mapping.status) == ("35-2014.00", MappingStatus.PROPOSED)
    assert events(onet_engine, "choose_code") == []


def test_choose_code_for_a_role_without_proposal_creates_an_analyst_mapping(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids['=HYPERLINK("http://x")']
    with session_factory(onet_engine)() as session:
        choose_code(session, role_id, "13-2011.00", "ann")
    mapping = stored(onet_engine, role_id)
    assert (mapping.source, mapping.status, mapping.onet_code) == ("analyst", MappingStatus.OVERRIDDEN, "13-2011.00")


def test_actions_on_a_role_without_proposal_explain_why_not(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids['=HYPERLINK("http://x")']
    with session_factory(onet_engine)() as session:
        with pytest.raises(ReviewError, match="no proposal yet"):
            confirm(session, role_id, "ann")
        with pytest.raises(ReviewError, match="does not exist"):
            confirm(session, 987654, "ann")


def test_needs_info_and_notes(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Call Center Agent"]
    with session_factory(onet_engine)() as session:
        mark_needs_info(session, role_id, "ann", note="Inbound or outbound?")
        add_note(session, role_id, "bob", "Asked HR")
        with pytest.raises(ReviewError, match="empty"):
            add_note(session, role_id, "bob", "  ")
    mapping = stored(onet_engine, role_id)
    assert mapping.status == MappingStatus.NEEDS_INFO
    lines = mapping.note.splitlines()
    assert lines[0].startswith("ann (") and lines[0].endswith("Inbound or outbound?")
    assert lines[1].startswith("bob (") and lines[1].endswith("Asked HR")
    assert events(onet_engine, "needs_info")[0].after["status"] == "needs_info"
    assert events(onet_engine, "add_note")[0].before["note"] == lines[0]


def test_reopen_returns_to_the_proposal(onet_engine):
    made = make_review_project(onet_engine)
    role_id = made.role_ids["ICU Nurse"]
    with session_factory(onet_engine)() as session:
        choose_code(session, role_id, "29-1141.01", "bob")
        reopen(session, role_id, "bob")
    mapping = stored(onet_engine, role_id)
    assert (mapping.onet_code, mapping.onet_title, mapping.status) == ("29-1141.00", "Registered Nurses", "proposed")
    assert mapping.confirmed_by is None


def test_bulk_confirm_only_touches_proposed_roles_and_undo_restores_them(onet_engine):
    made = make_review_project(onet_engine)
    ids = made.role_ids
    with session_factory(onet_engine)() as session:
        mark_needs_info(session, ids["ICU Nurse"], "ann")
        choose_code(session, ids["Line Cook"], "53-3032.00", "ann")
        before = {role_id: stored(onet_engine, role_id) for role_id in ids.values()}
        bulk = bulk_confirm(session, made.project_id, [*list(ids.values()), 987654], "bob")
    # Staff Accountant, Java Developer, Call Center Agent: the proposed ones with a code.
    assert bulk.count == 3
    confirmed = {
        title for title, role_id in ids.items() if (m := stored(onet_engine, role_id)) and m.status == "confirmed"
    }
    assert confirmed == {"Staff Accountant", "Java Developer", "Call Center Agent"}
    assert stored(onet_engine, ids["Java Developer"]).confirmed_by == "bob"
    assert stored(onet_engine, ids["ICU Nurse"]).status == "needs_info"
    (event,) = events(onet_engine, "bulk_confirm")
    assert event.id == bulk.id and sorted(event.after["role_ids"]) == sorted(
        ids[title] for title in ("Staff Accountant", "Java Developer", "Call Center Agent")
    )
    assert {item["status"] for item in event.before["mappings"]} == {"proposed"}

    with session_factory(onet_engine)() as session:
        result = undo_bulk(session, bulk.id, "bob")
        assert (result.restored, result.skipped) == (3, 0)
        with pytest.raises(ReviewError, match="already been undone"):
            undo_bulk(session, bulk.id, "bob")
    for role_id, previous in before.items():
        now = stored(onet_engine, role_id)
        if previous is None:
            assert now is None
            continue
        assert (now.status, now.onet_code, now.confirmed_by, now.proposed_code, now.proposed_tier) == (
            previous.status,
            previous.onet_code,
            previous.confirmed_by,
            previous.proposed_code,
            previous.proposed_tier,
        ), role_id
    assert events(onet_engine, "undo_bulk")[0].after == {"restored": 3, "skipped": 0}


def test_undo_keeps_decisions_made_after_the_bulk_action(onet_engine):
    made = make_review_project(onet_engine)
    ids = made.role_ids
    with session_factory(onet_engine)() as session:
        bulk = bulk_confirm(session, made.project_id, [ids["Staff Accountant"], ids["Java Developer"]], "bob")
        choose_code(session, ids["Java Developer"], "43-4051.00", "ann")
        result = undo_bulk(session, bulk.id, "bob")
    assert (result.restored, result.skipped) == (1, 1)
    assert stored(onet_engine, ids["Staff Accountant"]).status == "proposed"
    java = stored(onet_engine, ids["Java Developer"])
    assert (java.status, java.onet_code) == ("overridden", "43-4051.00")


def test_undo_of_something_that_is_not_a_bulk_action(onet_engine):
    make_review_project(onet_engine)
    with session_factory(onet_engine)() as session, pytest.raises(ReviewError, match="no bulk confirmation"):
        undo_bulk(session, 1, "bob")
