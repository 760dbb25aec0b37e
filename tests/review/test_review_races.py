"""Two analysts (or a job and an analyst) on one role at the same moment: no decision lost or torn.

Each race is interleaved at its dangerous point: the second writer starts while the first one's
transaction has read the role and not committed yet. The second one waits for the lock, then sees
the new version and is refused with a message naming what the role is now.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from review_helpers import make_review_project
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, MappingStatus
from jobforge.review.actions import (
    StaleDecision,
    bulk_confirm,
    choose_code,
    confirm,
    mark_needs_info,
    reopen,
)


def stored(engine: Engine, role_id: int) -> Mapping:
    with session_factory(engine)() as session:
        return session.scalar(select(Mapping).where(Mapping.role_id == role_id))


def last_event(engine: Engine, role_id: int) -> AuditEvent:
    with session_factory(engine)() as session:
        return session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "mapping", AuditEvent.entity_id == role_id)
            .order_by(AuditEvent.id.desc())
        ).first()


def while_committing(session: Session, second: Callable[[], Any]) -> dict[str, Any]:
    """Run ``second`` in another thread when ``session`` is about to commit; its outcome is returned.

    The first transaction has read and changed the role by then and holds its lock, so the second
    action meets the role exactly at the dangerous point: after the first one's check, before its commit.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = second()
        except Exception as exc:  # the refusal is the outcome under test
            outcome["error"] = exc

    thread = threading.Thread(target=run)

    @event.listens_for(session, "before_commit", once=True)
    def start_second(_session: Session) -> None:
        thread.start()
        thread.join(timeout=0.3)  # the second action waits for our lock (or, if slow to start, later)

    outcome["thread"] = thread
    return outcome


def test_two_analysts_on_one_role_the_second_is_refused_and_nothing_is_torn(onet_engine: Engine) -> None:
    made = make_review_project(onet_engine)
    role_id = made.role_ids["ICU Nurse"]
    shown = stored(onet_engine, role_id)  # both analysts opened the role: same version, same code

    def bob_chooses() -> Mapping:
        with session_factory(onet_engine)() as session:
            return choose_code(session, role_id, "29-1141.01", "bob", version=shown.version, seen_code=shown.onet_code)

    with session_factory(onet_engine)() as ann:
        outcome = while_committing(ann, bob_chooses)
        confirm(ann, role_id, "ann", version=shown.version, code=shown.onet_code)
    outcome["thread"].join(timeout=30)

    error = outcome.get("error")
    assert isinstance(error, StaleDecision), outcome
    assert "changed since you opened it: now 29-1141.00 Registered Nurses, confirmed by ann" in error.message
    final = stored(onet_engine, role_id)
    assert (final.onet_code, final.status, final.confirmed_by) == ("29-1141.00", MappingStatus.CONFIRMED, "ann")
    assert final.version == shown.version + 1
    after = last_event(onet_engine, role_id).after
    assert (after["onet_code"], after["status"], after["confirmed_by"], after["version"]) == (
        final.onet_code,
        final.status,
        final.confirmed_by,
        final.version,
    )


def test_every_action_is_refused_on_a_stale_version_and_each_write_bumps_it(onet_engine: Engine) -> None:
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Line Cook"]
    version = stored(onet_engine, role_id).version
    with session_factory(onet_engine)() as session:
        confirm(session, role_id, "ann", version=version, code="35-2014.00")
        for stale in (
            lambda: confirm(session, role_id, "bob", version=version),
            lambda: choose_code(session, role_id, "53-3032.00", "bob", version=version),
            lambda: mark_needs_info(session, role_id, "bob", "which kitchen?", version=version),
            lambda: reopen(session, role_id, "bob", version=version),
        ):
            with pytest.raises(StaleDecision, match=re.escape("now 35-2014.00 Cooks, Restaurant, confirmed by ann")):
                stale()
        mark_needs_info(session, role_id, "bob", "which kitchen?", version=version + 1)
        reopen(session, role_id, "ann", version=version + 2)
    final = stored(onet_engine, role_id)
    assert (final.status, final.version) == (MappingStatus.PROPOSED, version + 3)


def test_a_confirm_of_a_code_the_analyst_did_not_see_is_refused(onet_engine: Engine) -> None:
    made = make_review_project(onet_engine)
    role_id = made.role_ids["Java Developer"]
    with session_factory(onet_engine)() as session, pytest.raises(StaleDecision, match=re.escape("now 15-1252.00")):
        confirm(session, role_id, "ann", code="43-4051.00")
    assert stored(onet_engine, role_id).status == MappingStatus.PROPOSED


def test_bulk_confirm_leaves_a_role_decided_while_it_ran(onet_engine: Engine) -> None:
    made = make_review_project(onet_engine)
    ids = list(made.role_ids.values())
    nurse = made.role_ids["ICU Nurse"]
    shown = stored(onet_engine, nurse)

    def bob_overrides() -> Mapping:
        with session_factory(onet_engine)() as session:
            return choose_code(session, nurse, "29-1141.01", "bob", version=shown.version)

    with session_factory(onet_engine)() as ann:
        outcome = while_committing(ann, bob_overrides)
        bulk = bulk_confirm(ann, made.project_id, ids, "ann")
    outcome["thread"].join(timeout=30)

    # The bulk action committed first: bob's override was based on the version before it.
    assert isinstance(outcome.get("error"), StaleDecision)
    assert "confirmed by ann" in outcome["error"].message
    final = stored(onet_engine, nurse)
    assert (final.onet_code, final.status, final.version) == ("29-1141.00", MappingStatus.CONFIRMED, shown.version + 1)
    assert bulk.count == 5
