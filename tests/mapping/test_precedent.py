"""Precedent: an analyst's decision on a title is proposed for that title in every project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, MappingStatus, Role
from jobforge.mapping.service import map_roles
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key


def add_role(session: Session, project: str, title: str) -> int:
    project_row = create_project(session, project, "tester")
    role = Role(project_id=project_row.id, title=title, title_key=title_key(title))
    session.add(role)
    session.commit()
    return project_row.id


def decide(session: Session, project_id: int, code: str, title: str, status: str, who: str, days_ago: int) -> None:
    role = session.scalar(select(Role).where(Role.project_id == project_id))
    session.add(
        Mapping(
            role_id=role.id,
            onet_code=code,
            onet_title=title,
            tier="HIGH",
            score=0.95,
            source="analyst",
            status=status,
            confirmed_by=who,
            confirmed_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
    )
    session.commit()


def proposal(session: Session, project_id: int) -> Mapping:
    session.expire_all()
    return session.scalar(select(Mapping).join(Role).where(Role.project_id == project_id))


def test_a_title_decided_in_another_project_is_proposed_by_precedent(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        earlier = add_role(session, "Payroll 2025", "Staff Accountant")
        # The analyst chose another code than retrieval would: precedent must carry their choice.
        decide(session, earlier, "11-1011.00", "Chief Executives", MappingStatus.OVERRIDDEN, "bob", days_ago=2)

        later = add_role(session, "Payroll 2026", "STAFF  accountant")
        summary = map_roles(session, later, provider="offline")

        mapping = proposal(session, later)
        assert (mapping.onet_code, mapping.onet_title) == ("11-1011.00", "Chief Executives")
        assert (mapping.source, mapping.tier, mapping.score) == ("precedent", "HIGH", 0.95)
        assert "bob" in mapping.rationale and "Payroll 2025" in mapping.rationale
        assert "'Staff Accountant'" in mapping.rationale
        assert mapping.candidates  # the retrieval candidates stay available for review
        assert summary.by_source == {"precedent": 1}


def test_a_different_title_key_gets_no_precedent(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        earlier = add_role(session, "A", "Accountant")
        decide(session, earlier, "11-1011.00", "Chief Executives", MappingStatus.CONFIRMED, "alice", days_ago=1)
        later = add_role(session, "B", "Senior Accountant")  # seniority words keep titles apart
        map_roles(session, later, provider="offline")
        assert proposal(session, later).source == "offline"


def test_a_proposal_is_not_a_precedent(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        earlier = add_role(session, "A", "Line Cook")
        decide(session, earlier, "11-1011.00", "Chief Executives", MappingStatus.PROPOSED, "alice", days_ago=1)
        later = add_role(session, "B", "Line Cook")
        map_roles(session, later, provider="offline")
        assert proposal(session, later).onet_code == "35-2014.00"


def test_conflicting_precedents_use_the_most_recent_and_say_so(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        old = add_role(session, "Old", "Cook")
        decide(session, old, "35-2014.00", "Cooks, Restaurant", MappingStatus.CONFIRMED, "alice", days_ago=30)
        recent = add_role(session, "Recent", "cook")
        decide(session, recent, "11-1011.00", "Chief Executives", MappingStatus.OVERRIDDEN, "carol", days_ago=1)

        target = add_role(session, "Target", "Cook")
        map_roles(session, target, provider="offline")
        mapping = proposal(session, target)
        assert mapping.onet_code == "11-1011.00" and mapping.source == "precedent"
        assert "carol" in mapping.rationale and "Recent" in mapping.rationale
        assert "35-2014.00" in mapping.rationale and "most recent" in mapping.rationale


def test_a_precedent_code_missing_from_the_active_release_is_not_proposed(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        earlier = add_role(session, "Old release", "Truck Driver")
        decide(session, earlier, "99-9999.00", "Gone", MappingStatus.CONFIRMED, "alice", days_ago=400)
        later = add_role(session, "New release", "Truck Driver")
        map_roles(session, later, provider="offline")
        mapping = proposal(session, later)
        assert (mapping.onet_code, mapping.source) == ("53-3032.00", "offline")
