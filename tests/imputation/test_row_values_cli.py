"""`python -m jobforge map --attribute` stores row values as Upload does: per role, the rows' agreement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Role, RoleAttribute, RowValueCount
from jobforge.export.writers import export_roles
from tests.factories import WARD_CSV


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def test_map_with_attribute_columns_keeps_each_rows_value(store, tmp_path):
    source = tmp_path / "ward.csv"
    source.write_text(WARD_CSV)
    args = ["map", str(source), "--provider", "offline", "--project", "Ward", "--attribute", "Years Experience"]
    assert main(args) == 0
    with session_factory(store)() as session:
        nurse = session.scalar(select(Role.id).where(Role.title == "Registered Nurse"))
        years = session.scalar(
            select(RoleAttribute).where(RoleAttribute.role_id == nurse, RoleAttribute.name == "Years Experience")
        )
        assert (years.value, years.source_type, years.confidence) == ("3", "SOURCE", 0.5)
        assert session.scalar(select(func.count()).select_from(RowValueCount)) == 6
        exported = export_roles(session, years.role.project_id, "csv", rows="original").decode("utf-8-sig")
    # Every nurse's own years come back on their own row.
    assert "ward.csv,E3,Registered Nurse,Clinical,6.5,Bachelor's Degree,Day," in exported
