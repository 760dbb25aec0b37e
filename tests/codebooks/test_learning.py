"""Decisions generalise: the nearest decided titles vote, candidates gain codes, rationale names the
evidence, the same-project setting, and "Update proposals from decisions" leaves decided roles alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.codebooks.service import delete_codebook, import_codebook
from jobforge.codebooks.update import new_since_update, update_proposals
from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, MappingStatus, Role
from jobforge.mapping.service import map_roles
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

DECIDED_AT = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def add_project(session: Session, name: str, titles: list[str]) -> tuple[int, dict[str, int]]:
    project = create_project(session, name, "ada")
    roles = [Role(project_id=project.id, title=title, title_key=title_key(title)) for title in titles]
    session.add_all(roles)
    session.commit()
    return project.id, {role.title: role.id for role in roles}


def decide(session: Session, role_id: int, code: str, status: str = MappingStatus.OVERRIDDEN) -> None:
    session.add(
        Mapping(
            role_id=role_id,
            onet_code=code,
            tier="LOW",
            score=0.5,
            source="analyst",
            status=status,
            confirmed_by="A. Analyst",
            confirmed_at=DECIDED_AT,
        )
    )
    session.commit()


def proposals(engine: Engine, role_ids: dict[str, int]) -> dict[str, Mapping]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(Mapping).where(Mapping.role_id.in_(role_ids.values())))
        names = {role_id: title for title, role_id in role_ids.items()}
        return {names[m.role_id]: m for m in rows}


@pytest.fixture
def acme(onet_engine: Engine) -> Engine:
    """Project "Acme 2026" where A. Analyst chose Software Developers for "Data Wrangler"."""
    with session_factory(onet_engine)() as session:
        _, ids = add_project(session, "Acme 2026", ["Data Wrangler"])
        decide(session, ids["Data Wrangler"], "15-1252.00")
    return onet_engine


def test_a_similar_decided_title_changes_the_proposal_and_its_rationale(acme: Engine) -> None:
    with session_factory(acme)() as session:
        project_id, ids = add_project(session, "Globex", ["Senior Data Wrangler II", "Line Cook"])
        map_roles(session, project_id, provider="offline", use_decisions=False)
    before = proposals(acme, ids)["Senior Data Wrangler II"]
    assert before.onet_code != "15-1252.00"
    with session_factory(acme)() as session:
        map_roles(session, project_id, provider="offline", scope="unconfirmed")
    after = proposals(acme, ids)
    wrangler = after["Senior Data Wrangler II"]
    assert wrangler.onet_code == "15-1252.00"
    assert "like 'Data Wrangler' → 15-1252.00 (chosen by A. Analyst in Acme 2026, 2026-11-03)" in wrangler.rationale
    # Similarity to another title alone is never HIGH.
    assert wrangler.tier in ("MEDIUM", "LOW")
    # Retrieval found no such code: the vote added it to the candidates.
    voted = [c for c in wrangler.candidates if c["code"] == "15-1252.00"]
    assert voted and voted[0]["via"] == "decided"
    assert after["Line Cook"].onet_code == "35-2014.00"  # nothing similar decided: retrieval as before


def test_learning_only_within_the_project_names_no_other_project(acme: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBFORGE_LEARNING_SCOPE", "project")
    get_settings.cache_clear()
    with session_factory(acme)() as session:
        project_id, ids = add_project(session, "Globex", ["Senior Data Wrangler II"])
        map_roles(session, project_id, provider="offline")
    wrangler = proposals(acme, ids)["Senior Data Wrangler II"]
    assert wrangler.onet_code != "15-1252.00"
    for leak in ("Acme", "A. Analyst", "Data Wrangler'"):
        assert leak not in wrangler.rationale


def test_a_codebook_votes_says_when_it_disagrees_with_itself_and_stops_when_deleted(onet_engine: Engine) -> None:
    rows = [("Data Wrangler", "15-1252.00"), ("Data Wrangler", "15-1252.00"), ("Data Wrangler", "43-4051.00")]
    data = pd.DataFrame(rows, columns=["Title", "Code"]).to_csv(index=False).encode()
    with session_factory(onet_engine)() as session:
        book = import_codebook(session, "ada", data, "last_year.csv", "Title", "Code", name="Mapping 2025")
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Globex", ["Lead Data Wrangler"])
        map_roles(session, project_id, provider="offline")
    wrangler = proposals(onet_engine, ids)["Lead Data Wrangler"]
    assert wrangler.onet_code == "15-1252.00"  # the most frequent code wins
    assert "codebook 'Mapping 2025'" in wrangler.rationale and "disagrees with itself" in wrangler.rationale
    with session_factory(onet_engine)() as session:
        delete_codebook(session, "ada", book.codebook_id)
    with session_factory(onet_engine)() as session:
        update_proposals(session, project_id)
    assert proposals(onet_engine, ids)["Lead Data Wrangler"].onet_code != "15-1252.00"


def test_update_proposals_never_touches_decided_roles_and_counts_changes(acme: Engine) -> None:
    titles = ["Senior Data Wrangler II", "Data Wrangler Lead", "Junior Data Wrangler", "Line Cook"]
    with session_factory(acme)() as session:
        project_id, ids = add_project(session, "Globex", titles)
        map_roles(session, project_id, provider="offline", use_decisions=False)
        stored = {m.role_id: m for m in session.scalars(select(Mapping))}
        stored[ids["Data Wrangler Lead"]].status = MappingStatus.NEEDS_INFO
        stored[ids["Junior Data Wrangler"]].status = MappingStatus.CONFIRMED
        session.commit()
        kept = {
            t: (stored[ids[t]].onet_code, stored[ids[t]].rationale)
            for t in ("Data Wrangler Lead", "Junior Data Wrangler")
        }
        assert new_since_update(session, project_id) >= 1
    with session_factory(acme)() as session:
        result = update_proposals(session, project_id)
    assert result["changed"] == 1 and result["mapped"] == 2
    after = proposals(acme, ids)
    assert after["Senior Data Wrangler II"].onet_code == "15-1252.00"
    for title, (code, rationale) in kept.items():
        assert (after[title].onet_code, after[title].rationale) == (code, rationale)
    assert after["Data Wrangler Lead"].status == MappingStatus.NEEDS_INFO


def test_decisions_of_a_project_the_user_cannot_see_do_not_vote(acme: Engine) -> None:
    from jobforge.access.manage import add_member, add_user

    with session_factory(acme)() as session:
        add_user(session, "ada", "admin", "ada")  # Acme's creator: the store's admin
        add_user(session, "bob", "analyst", "ada")
        project_id, ids = add_project(session, "Globex", ["Senior Data Wrangler II"])
        add_member(session, project_id, "bob", "ada")
        map_roles(session, project_id, provider="offline", user="bob")
    wrangler = proposals(acme, ids)["Senior Data Wrangler II"]
    assert wrangler.onet_code != "15-1252.00" and "Acme" not in wrangler.rationale
    with session_factory(acme)() as session:
        map_roles(session, project_id, provider="offline", scope="unconfirmed", user="ada")
    assert proposals(acme, ids)["Senior Data Wrangler II"].onet_code == "15-1252.00"


def test_the_cost_estimate_counts_the_decided_examples(onet_engine: Engine) -> None:
    from jobforge.mapping.service import estimate_cost

    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, "Globex", ["Data Wrangler", "Line Cook"])
        before = estimate_cost(session, project_id, "anthropic").input_tokens
    data = pd.DataFrame([("Data Wrangler", "15-1252.00")], columns=["Title", "Code"]).to_csv(index=False).encode()
    with session_factory(onet_engine)() as session:
        import_codebook(session, "ada", data, "book.csv", "Title", "Code")
    with session_factory(onet_engine)() as session:
        assert estimate_cost(session, project_id, "anthropic").input_tokens > before
