"""The offline selector: one proposal per role, tiers from retrieval signals, bad input survives."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.mapping.offline import OfflineSelector
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.tiers import ConfidenceTier, MappingSource
from jobforge.retrieval.index import get_candidate_index
from jobforge.retrieval.normalize import title_key


@pytest.fixture
def selector(onet_engine: Engine) -> OfflineSelector:
    with session_factory(onet_engine)() as session:
        return OfflineSelector(get_candidate_index(session))


def _roles(*titles: str) -> list[RoleRequest]:
    return [RoleRequest(role_id=i, title=t, title_key=title_key(t)) for i, t in enumerate(titles)]


def test_exact_unique_title_is_high_with_rationale(selector: OfflineSelector) -> None:
    (result,) = selector.select(_roles("Sr. Software Engineer"))
    assert result.onet_code == "15-1252.00"
    assert result.onet_title == "Software Developers"
    assert result.confidence == ConfidenceTier.HIGH
    assert result.confidence_score == 0.95
    assert result.source == MappingSource.OFFLINE
    assert result.reasoning.startswith("Exact match on alternate title 'Software Engineer'")
    assert result.candidates[0]["code"] == "15-1252.00"
    assert 0.0 <= result.calibrated_score <= 1.0


def test_vague_partial_match_is_not_high(selector: OfflineSelector) -> None:
    (result,) = selector.select(_roles("Widget Engineer Coordinator Person"))
    assert result.confidence != ConfidenceTier.HIGH


def test_given_candidates_are_used(selector: OfflineSelector) -> None:
    role = _roles("Staff Nurse")[0]
    role.candidates = selector.index.candidates("Truck Driver")
    (result,) = selector.select([role])
    assert result.onet_code == "53-3032.00"


BAD_TITLES = ["", "   ", "x" * 500, "🙂 🙂", "Инженер", "12345", "REQ-4411", "Line  cook", "LINE COOK"]


def test_bad_input_never_crashes_and_keeps_every_role(selector: OfflineSelector) -> None:
    results = selector.select(_roles(*BAD_TITLES))
    assert [r.role_id for r in results] == list(range(len(BAD_TITLES)))
    by_title = {r.role_id: r for r in results}
    for i in (0, 1, 2, 3, 4, 5, 6):
        assert by_title[i].onet_code is None
        assert by_title[i].confidence == ConfidenceTier.LOW
        assert by_title[i].reasoning
    assert "not codable" in by_title[0].reasoning.lower()
    # Duplicates in case/spacing get the same proposal.
    assert by_title[7].onet_code == by_title[8].onet_code == "35-2014.00"
