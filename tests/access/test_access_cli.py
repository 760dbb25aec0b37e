"""The CLI acts as a named user with the app's checks (`--user`, else JOBFORGE_USER, else the OS user).

Each test points JOBFORGE_DATABASE_URL at a fresh store (SQLite, then Postgres).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import AppUser, AuditEvent, OnetRelease
from tests.factories import REVIEW_CSV


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("JOBFORGE_USER", raising=False)
    get_settings.cache_clear()
    return engine


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, _out, err = _run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def team(configured: Engine, tiny_release: Path, capsys: pytest.CaptureFixture[str]) -> Engine:
    """Ada (admin, set up from the CLI), Bob (analyst), Cy (viewer); O*NET loaded by Ada."""
    assert _run(capsys, "users", "add", "Ada", "--role", "admin")[0] == 0
    assert _run(capsys, "--user", "Ada", "users", "add", "Bob", "--role", "analyst")[0] == 0
    assert _run(capsys, "users", "add", "Cy", "--role", "viewer", "--user", "Ada")[0] == 0  # --user after, too
    assert _run(capsys, "onet", "load", str(tiny_release), "--user", "Ada")[0] == 0
    return configured


def test_setting_up_a_store_from_the_cli(configured: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "users", "list")
    assert code == 0 and "No users yet" in out
    code, out, _ = _run(capsys, "users", "add", "Ada Lovelace", "--role", "admin")
    assert code == 0 and "Ada Lovelace is admin." in out
    with session_factory(configured)() as s:
        # The OS user who ran the set-up did not become a user.
        assert [(u.name, u.role) for u in s.scalars(select(AppUser))] == [("Ada Lovelace", "admin")]
    code, out, _ = _run(capsys, "--user", "ada lovelace", "users", "list")
    assert code == 0 and "Ada Lovelace" in out and "every check passes" in out


def test_every_admin_command_is_refused_to_analysts_and_viewers(
    team: Engine, tiny_release: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin_commands = [
        ["onet", "load", str(tiny_release)],
        ["onet", "sync", "--version", "30_1"],
        ["onet", "activate", "29_9"],
        ["users", "list"],
        ["users", "add", "Dan", "--role", "viewer"],
        ["users", "role", "Cy", "analyst"],
        ["users", "remove", "Cy"],
    ]
    for user, role in (("Bob", "an analyst"), ("Cy", "a viewer")):
        for command in admin_commands:
            line = _refused(capsys, *command, "--user", user)
            assert f"{user} is {role} and may not" in line, (command, line)
    with session_factory(team)() as s:
        assert {u.name: u.role for u in s.scalars(select(AppUser))} == {
            "Ada": "admin",
            "Bob": "analyst",
            "Cy": "viewer",
        }
        loads = s.scalars(select(AuditEvent.user).where(AuditEvent.action == "load_onet_release")).all()
        assert loads == ["Ada"] and s.scalar(select(OnetRelease.version)) == "29_9"


def test_projects_are_seen_and_changed_by_their_members(
    team: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "roles.csv"
    sheet.write_bytes(REVIEW_CSV)
    code, _out, err = _run(capsys, "map", str(sheet), "--project", "Acme", "--provider", "offline", "--user", "Bob")
    assert code == 0, err
    # A viewer cannot create or change a project, and does not see one they are not a member of.
    assert "Cy is a viewer and may not create projects" in _refused(
        capsys, "map", str(sheet), "--project", "Cy's", "--provider", "offline", "--user", "Cy"
    )
    assert _run(capsys, "projects", "--user", "Cy")[1].strip() == "No projects yet."
    assert "There is no project named 'Acme'" in _refused(
        capsys, "export", "Acme", "--out", str(tmp_path / "x.csv"), "--user", "Cy"
    )
    # An admin makes Cy a member: Cy sees and exports Acme, still cannot change it.
    assert "Bob is an analyst and may not add users, change roles or project members" in _refused(
        capsys, "projects", "add-member", "Acme", "Cy", "--user", "Bob"
    )
    code, out, _ = _run(capsys, "projects", "add-member", "Acme", "Cy", "--user", "Ada")
    assert code == 0 and "Cy is now a member of 'Acme'" in out
    assert _run(capsys, "projects", "--user", "Cy")[1].startswith("Acme:")
    assert _run(capsys, "export", "Acme", "--out", str(tmp_path / "acme.csv"), "--user", "Cy")[0] == 0
    assert "Cy is a viewer and may not" in _refused(capsys, "impute", "Acme", "--no-llm", "--user", "Cy")
    assert "Cy is a viewer and may not" in _refused(
        capsys, "map", str(sheet), "--project", "Acme", "--provider", "offline", "--user", "Cy"
    )
    code, out, _ = _run(capsys, "projects", "members", "Acme", "--user", "Cy")
    assert code == 0 and "Bob  (analyst" in out and "Cy  (viewer" in out
    assert _run(capsys, "impute", "Acme", "--no-llm", "--user", "Bob")[0] == 0
    with session_factory(team)() as s:
        assert s.scalar(select(AuditEvent.user).where(AuditEvent.action == "create_project")) == "Bob"
        assert s.scalar(select(AuditEvent.user).where(AuditEvent.action == "add_member")) == "Ada"


def test_the_default_user_is_jobforge_user_else_the_os_user(
    team: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    who = getpass.getuser()
    assert f"'{who}' is not a user of this JobForge store" in _refused(capsys, "users", "list")
    monkeypatch.setenv("JOBFORGE_USER", "Ada")
    get_settings.cache_clear()
    assert _run(capsys, "users", "list")[0] == 0


def test_setup_loads_o_net_without_making_the_installer_a_user(
    configured: Engine, tiny_release: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOBFORGE_ONET_SOURCE", str(tiny_release))
    get_settings.cache_clear()
    assert _run(capsys, "setup")[0] == 0
    with session_factory(configured)() as s:
        assert s.scalars(select(AppUser)).all() == []  # the app's first user becomes the admin
        assert s.scalar(select(AuditEvent.user).where(AuditEvent.action == "load_onet_release")) == "system"
