from sqlalchemy import Engine, func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import OnetOccupation, OnetRelease
from jobforge.onet.loader import load_release
from jobforge.onet.repository import OnetRepository


def test_tiny_release_loads_and_is_active(engine: Engine, tiny_release) -> None:
    result = load_release(engine, tiny_release)
    assert result.status == "success"
    assert result.occupation_count == 8
    with session_factory(engine)() as session:
        release = session.scalar(select(OnetRelease).where(OnetRelease.is_active.is_(True)))
        assert release is not None and release.version == "29_9"
        assert session.scalar(select(func.count()).select_from(OnetOccupation)) == 8
        repo = OnetRepository(session)
        assert repo.get_by_code("15-1252.00").title == "Software Developers"
        assert [occ.code for occ in repo.search("nurse")] == ["29-1141.00", "29-1141.01"]
