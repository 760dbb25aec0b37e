"""`python -m jobforge opinions sample | agreement` on a decided project (SQLite and Postgres)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.review.second_opinion import blind_queue, record_blind_code
from tests.factories import ADMIN, FIRST, SECOND, make_decided_project


@pytest.fixture
def configured(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", onet_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return onet_engine


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_then_agreement_from_the_command_line(configured, capsys):
    made = make_decided_project(configured)
    code, out, err = _run(
        capsys, "opinions", "sample", "Acme", "--size", "5", "--coder", SECOND, "--seed", "3", "--user", ADMIN
    )
    assert code == 0, err
    assert "3 of 3 eligible decided roles for Bob to code blind (seed 3)" in out
    assert "Only 3 roles could be drawn, fewer than the 5 asked for." in out
    assert "Left out: 1 decided by Bob (nobody gives a second opinion on their own decision)." in out
    assert "Left out: 1 decided in bulk (--include-bulk draws them too)." in out

    code, out, _ = _run(capsys, "opinions", "agreement", "Acme", "--user", ADMIN)
    assert code == 0
    assert "3 roles sampled, 0 coded again blind (0 'cannot code'), 3 waiting for the second coder." in out
    assert "κ at 8 digits is not defined: no second opinions yet." in out

    with session_factory(configured)() as s:
        queue = blind_queue(s, made.project_id, SECOND)
    codes = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.00"}
    for role in queue:
        with session_factory(configured)() as s:
            record_blind_code(s, role.item_id, SECOND, codes[role.title])
    code, out, _ = _run(capsys, "opinions", "agreement", "Acme", "--user", FIRST)
    lines = out.splitlines()
    assert code == 0
    # 8 digits: 2 of 3 agree; κ = (2/3 − 2/9)/(1 − 2/9) = 4/7 = 0.57 (see test_second_opinion).
    assert any(
        line.startswith("2 digits  major group, e.g. 15 ") and line.split()[-4:] == ["3", "3", "100%", "1.00"]
        for line in lines
    )
    assert any(
        line.startswith("3 digits  minor group, e.g. 15-1 ") and line.split()[-2:] == ["100%", "1.00"] for line in lines
    )
    assert any(line.startswith("6 digits  detailed occupation, e.g. 15-1252") for line in lines)
    assert any(
        line.startswith("8 digits  O*NET-SOC occupation, e.g. 15-1252.00 ")
        and line.split()[-4:] == ["3", "2", "67%", "0.57"]
        for line in lines
    )
    assert "Adjudication of the 1 disagreements at 8 digits: 0 settled" in out and "1 waiting." in out


def test_analysts_cannot_sample_from_the_command_line(configured, capsys):
    make_decided_project(configured)
    code, _, err = _run(capsys, "opinions", "sample", "Acme", "--size", "2", "--coder", SECOND, "--user", FIRST)
    assert code == 1 and err.startswith("error: Ann is an analyst and may not draw samples for a second opinion")
    code, _, err = _run(capsys, "opinions", "agreement", "Nowhere", "--user", ADMIN)
    assert code == 1 and "There is no project named 'Nowhere'" in err
