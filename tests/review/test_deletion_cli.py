"""`python -m jobforge uploads | roles | projects` deletion commands (SQLite and Postgres)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import Project, Role, Upload
from tests.review.review_helpers import make_review_project


@pytest.fixture
def configured(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", onet_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return onet_engine


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--user", "ann"])
    out, err = capsys.readouterr()
    return code, out, err


def test_delete_a_role_an_upload_and_a_project_from_the_command_line(configured, capsys):
    made = make_review_project(configured)
    code, out, err = _run(capsys, "roles", "delete", str(made.role_ids["Line Cook"]))
    assert code == 0, err
    assert "Deleted role" in out and "'Line Cook', 1 rows" in out

    code, out, _ = _run(capsys, "uploads", "list", "Acme")
    with session_factory(configured)() as s:
        upload_id = s.scalar(select(Upload.id))
    assert code == 0 and f"{upload_id}: roles.csv: 7 rows, 0 without a title" in out
    code, out, err = _run(capsys, "uploads", "delete", str(upload_id))
    assert code == 0, err
    assert "5 roles only it contributed were deleted" in out
    with session_factory(configured)() as s:
        assert s.scalar(select(Role.id)) is None

    code, _, err = _run(capsys, "projects", "delete", "Acme", "--confirm", "Acme")
    assert code == 1 and "error: Archive 'Acme' first" in err
    code, out, _ = _run(capsys, "projects", "archive", "Acme")
    assert code == 0 and "Archived 'Acme'" in out
    code, out, _ = _run(capsys, "projects")
    assert code == 0 and out.startswith("Acme (archived): 0 roles")
    code, _, err = _run(capsys, "projects", "delete", "Acme", "--confirm", "Acme Corp")
    assert code == 1 and "Type the project's name, 'Acme', exactly" in err
    code, out, _ = _run(capsys, "projects", "delete", "Acme", "--confirm", "Acme")
    assert code == 0 and "Deleted project 'Acme'" in out
    with session_factory(configured)() as s:
        assert s.scalar(select(Project.id)) is None


def test_deleting_an_unknown_upload_says_so(configured, capsys):
    make_review_project(configured)
    code, _, err = _run(capsys, "uploads", "delete", "999")
    assert code == 1 and "error: There is no upload with id 999." in err
