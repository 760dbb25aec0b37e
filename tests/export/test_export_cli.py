"""`python -m jobforge export` and `projects` on a real store."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from jobforge.cli import main
from tests.factories import make_review_project


def use_store(monkeypatch, engine) -> None:
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()


def test_export_command_writes_csv_and_xlsx(onet_engine, monkeypatch, tmp_path, capsys):
    make_review_project(onet_engine)
    use_store(monkeypatch, onet_engine)
    assert main(["export", "acme", "--out", str(tmp_path / "roles.csv")]) == 0
    table = pd.read_csv(tmp_path / "roles.csv", dtype=str, encoding="utf-8-sig")
    assert len(table) == 6 and "onet_code" in table.columns
    assert main(["export", "Acme", "--rows", "original", "--out", str(tmp_path / "rows.xlsx")]) == 0
    workbook = openpyxl.load_workbook(io.BytesIO((tmp_path / "rows.xlsx").read_bytes()))
    assert workbook.sheetnames == ["Rows", "About"] and workbook["Rows"].max_row == 8

    assert main(["projects"]) == 0
    assert "Acme: 6 roles from 7 rows" in capsys.readouterr().out


def test_export_command_errors_are_one_clear_line(onet_engine, monkeypatch, tmp_path, capsys):
    make_review_project(onet_engine)
    use_store(monkeypatch, onet_engine)
    assert main(["export", "Nope", "--out", str(tmp_path / "x.csv")]) == 1
    assert "no project named 'Nope'" in capsys.readouterr().err
    assert main(["export", "Acme", "--out", str(tmp_path / "x.pdf")]) == 1
    assert ".csv or .xlsx" in capsys.readouterr().err
