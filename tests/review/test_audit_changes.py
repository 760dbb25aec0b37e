"""Audit events keep only what changed (plus what says what the event is about); undo still works."""

from __future__ import annotations

import json

from review_helpers import make_review_project
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping
from jobforge.imputation.overrides import set_attribute
from jobforge.review.actions import STATE_FIELDS, bulk_confirm, choose_code, confirm, undo_bulk
from jobforge.review.audit import changed_only, is_context_key
from jobforge.review.queries import audit_events


def last_event(engine, action: str) -> AuditEvent:
    with session_factory(engine)() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()[-1]


def only_changes(event: AuditEvent) -> None:
    """Every key on both sides changed, or is a context key (id, name, code, version)."""
    for key in event.before.keys() & event.after.keys():
        assert is_context_key(key) or event.before[key] != event.after[key], (event.action, key)


def test_changed_only_keeps_changes_context_and_one_sided_keys() -> None:
    before = {"onet_code": "1", "tier": "HIGH", "status": "proposed", "role_id": 3, "mappings": [1]}
    after = {"onet_code": "1", "tier": "HIGH", "status": "confirmed", "role_id": 3, "restored": 2}
    assert changed_only(before, after) == (
        {"onet_code": "1", "status": "proposed", "role_id": 3, "mappings": [1]},
        {"onet_code": "1", "status": "confirmed", "role_id": 3, "restored": 2},
    )
    assert changed_only(None, after) == (None, after) and changed_only(before, None) == (before, None)


def test_review_events_store_only_the_changed_fields(onet_engine) -> None:
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        confirm(session, made.role_ids["Staff Accountant"], "ann")
        choose_code(session, made.role_ids["ICU Nurse"], "29-1141.01", "bob")
    confirmed = last_event(onet_engine, "confirm")
    only_changes(confirmed)
    assert confirmed.before["status"] == "proposed" and confirmed.after["status"] == "confirmed"
    assert confirmed.after["confirmed_by"] == "ann" and confirmed.after["onet_code"] == "13-2011.00"
    for unchanged in ("onet_title", "tier", "score", "rationale", "source"):
        assert unchanged not in confirmed.before and unchanged not in confirmed.after
    chosen = last_event(onet_engine, "choose_code")
    only_changes(chosen)
    assert (chosen.before["onet_code"], chosen.after["onet_code"]) == ("29-1141.00", "29-1141.01")
    assert chosen.after["onet_title"] != chosen.before["onet_title"]
    assert len(chosen.after) < len(STATE_FIELDS)
    # The Admin audit view reads them as before.
    with session_factory(onet_engine)() as session:
        shown = audit_events(session, project_id=made.project_id, action="confirm")
    assert json.loads(shown.iloc[0]["after"])["status"] == "confirmed"


def test_attribute_override_event_stores_only_the_changed_fields(onet_engine) -> None:
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session, session.begin():
        set_attribute(session, made.role_ids["Staff Accountant"], "Education", "Master", "ann")
    event = last_event(onet_engine, "set_attribute")
    only_changes(event)
    assert event.before["name"] == event.after["name"] == "Education"  # says which cell
    assert (event.before["value"], event.after["value"]) == ("Bachelor", "Master")
    assert "model_used" not in event.after and "donor" not in event.after  # None before and after


def test_bulk_undo_still_restores_from_the_event(onet_engine) -> None:
    made = make_review_project(onet_engine)
    ids = list(made.role_ids.values())
    with session_factory(onet_engine)() as session:
        before = {m.role_id: (m.status, m.confirmed_by) for m in session.scalars(select(Mapping))}
        bulk = bulk_confirm(session, made.project_id, ids, "bob")
        assert bulk.count > 0
        assert undo_bulk(session, bulk.id, "bob").restored == bulk.count
    with session_factory(onet_engine)() as session:
        after = {m.role_id: (m.status, m.confirmed_by) for m in session.scalars(select(Mapping))}
    assert after == before
