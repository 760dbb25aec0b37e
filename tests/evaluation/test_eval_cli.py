"""`python -m jobforge eval` end to end on the tiny release (SQLite and Postgres)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jobforge.cli import main

LABELS = """title,soc_code,source,onet_code,count,label_share,soc_version,soc2018_code,soc2018_candidates
Sr. Software Engineer,15-1252,hr,,2,1.0,2018,15-1252,15-1252
Line Cook,35-2014,hr,,5,1.0,2018,35-2014,35-2014
Truck Driver,43-4051,hr,,1,1.0,2018,43-4051,43-4051
"""


@pytest.fixture
def store_url(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    from jobforge.config import get_settings

    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_eval_prints_json_figures_and_writes_predictions(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(LABELS, encoding="utf-8")
    predictions = tmp_path / "predictions.csv"
    markdown = tmp_path / "table.md"

    code = main(["eval", str(labels), "--json", "--predictions", str(predictions), "--markdown", str(markdown)])

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    overall = report["figures"][-1]
    assert overall["source"] == "overall" and overall["titles"] == 3
    # Two titles are mapped right; "Truck Driver" is labelled with another occupation on purpose.
    assert overall["top1"] == round(2 / 3, 4)
    rows = list(csv.DictReader(predictions.open(encoding="utf-8")))
    assert list(rows[0]) == ["title", "rank", "code", "tier"]
    first = {row["title"]: row for row in rows if row["rank"] == "1"}
    assert first["Line Cook"]["code"] == "35-2014.00" and first["Line Cook"]["tier"] in ("HIGH", "MEDIUM", "LOW")
    assert all(row["tier"] == "" for row in rows if row["rank"] != "1")
    assert "| overall | 3 |" in markdown.read_text(encoding="utf-8")


def test_eval_source_filter_and_limit(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(LABELS, encoding="utf-8")
    assert main(["eval", str(labels), "--json", "--limit", "1", "--source", "hr"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["figures"][-1]["titles"] == 1 and report["figures"][-1]["top1"] == 1.0


def test_eval_with_unreadable_labels_fails_with_one_line(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "/nonexistent/labels.csv"]) == 1
    assert "Cannot read the labels file" in capsys.readouterr().err


def test_eval_with_an_llm_provider(
    fake_llm_env, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(LABELS, encoding="utf-8")
    assert main(["eval", str(labels), "--json", "--provider", "openai"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["provider"] == "openai"
    assert report["figures"][-1]["titles"] == 3
    assert fake_llm_env.model_calls()  # the titles went to the (fake) model


def test_eval_reports_candidate_recall_before_and_after_readings_calls_tokens_and_cost(
    fake_llm_env, store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.csv"
    # "Ledger Cook" finds only Line Cook; the (scripted) model reads it as an accountant.
    labels.write_text(LABELS + "Ledger Cook,13-2011,hr,,1,1.0,2018,13-2011,13-2011\n", encoding="utf-8")
    fake_llm_env.readings["Ledger Cook"] = ["Accountants and Auditors"]

    assert main(["eval", str(labels), "--json", "--provider", "anthropic"]) == 0
    report = json.loads(capsys.readouterr().out)

    recall = report["candidate_recall_at_20"]
    assert recall["after_readings"] - recall["before_readings"] == pytest.approx(1 / 4)
    spend = report["llm"]
    assert spend["calls"] == len(fake_llm_env.model_calls()) and spend["reading_calls"] == 1
    assert spend["input_tokens_per_title"] > 0 and spend["usd"] > 0

    assert main(["eval", str(labels), "--provider", "anthropic"]) == 0  # the table, explained in words
    out = capsys.readouterr().out
    assert "Candidate recall@20 (the labelled occupation is among the candidates the model chose from)" in out
    assert "after the model's readings" in out and "calls (0 for readings)" in out  # all cached now
