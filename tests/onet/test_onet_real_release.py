"""The real O*NET 30.1 release from ../shared, loaded into SQLite and Postgres (slow: ~10 s a load)."""

from __future__ import annotations

from pathlib import Path

import pytest
from onet_helpers import store_state
from sqlalchemy import Engine, func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import OnetRating, OnetReportedTitle
from jobforge.onet.loader import load_release
from jobforge.onet.repository import OnetRepository

EXPECTED = {
    "occupations": 1_016,
    "alternate_titles": 56_505,
    "reported_titles": 7_955,
    "tasks": 18_796,
    "job_zones": 923,
}


@pytest.mark.slow
def test_the_real_30_1_release_loads_with_its_published_counts(engine: Engine, real_onet_zip: Path) -> None:
    result = load_release(engine, real_onet_zip)

    assert result.version == "30_1"
    assert {key: result.counts[key] for key in EXPECTED} == EXPECTED
    assert result.counts["ratings_work_styles"] == 37_422  # the 30.1 Work Styles (DR/WI scales)
    with session_factory(engine)() as session:
        repo = OnetRepository(session)
        assert repo.count() == 1_016
        assert repo.get_by_code("15-1252.00").title == "Software Developers"
        assert "15-1252.00" in [occ.code for occ in repo.search("software developer")]
        assert session.scalar(select(func.count()).select_from(OnetReportedTitle)) == 7_955

    # Loading the same version again replaces it: one 30.1 release, the same counts, nothing doubled.
    ratings_before = _count(engine, OnetRating)
    again = load_release(engine, real_onet_zip)
    assert {key: again.counts[key] for key in EXPECTED} == EXPECTED
    state = store_state(engine)
    assert state.active == "30_1"
    assert state.releases == {"30_1": (1_016, 56_505, 18_796)}
    assert _count(engine, OnetRating) == ratings_before


def _count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
