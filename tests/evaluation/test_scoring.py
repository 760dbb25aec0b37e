"""Scoring exactly as ../shared/eval/README.md says, on a hand-made labelled file."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobforge.evaluation.labels import LabelsError, read_labels
from jobforge.evaluation.scoring import Prediction, score

LABELS = """title,soc_code,source,onet_code,count,label_share,soc_version,soc2018_code,soc2018_candidates
Software Engineer,15-1132,S1,,8,0.8,2010,,15-1252|15-1253
Software Engineer,15-1133,S1,,2,0.2,2010,,15-1299
 software engineer,15-1252,S2,,1,0.5,2018,15-1252,15-1252
SOFTWARE ENGINEER,13-2011,S2,,1,0.5,2018,13-2011,13-2011
Line Cook,35-2014,S1,,3,1.0,2018,35-2014,35-2014
Truck Driver,53-3032,S2,,1,1.0,2018,53-3032,53-3032
Mystery Role,99-9999,S1,,1,1.0,2018,,
"""

PREDICTIONS = {
    # S1 accepts 15-1252/15-1253 (highest share 0.8): rank 1 wrong, rank 2 right.
    # S2 accepts 15-1252 or 13-2011 (tie at 0.5, union): rank 1 right.
    "software engineer": Prediction(["13-2011.00", "15-1252.00"], "MEDIUM"),
    "line cook": Prediction(["35-2014.00"], "HIGH"),
    # Five O*NET codes but only three distinct SOC codes: 53-3032 is the 3rd distinct one.
    "truck driver": Prediction(
        ["43-4051.00", "43-4051.01", "43-4051.02", "43-4051.03", "11-1011.00", "53-3032.00"], "LOW"
    ),
    "mystery role": Prediction(["11-1011.00"], "HIGH"),
}


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(LABELS, encoding="utf-8")
    return path


def test_acceptable_answers_follow_the_highest_label_share(labels_file: Path) -> None:
    by_title = {item.title.lower(): item for item in read_labels(labels_file)}
    assert set(by_title) == {"software engineer", "line cook", "truck driver", "mystery role"}
    engineer = by_title["software engineer"]
    assert engineer.sources == {"S1": {"15-1252", "15-1253"}, "S2": {"15-1252", "13-2011"}}
    assert engineer.acceptable == {"15-1252", "15-1253"}  # 0.8 is the highest share over all rows
    assert by_title["mystery role"].acceptable == set()


def test_figures_per_source_and_overall(labels_file: Path) -> None:
    figures = {f.source: f.to_dict() for f in score(read_labels(labels_file), PREDICTIONS)}
    assert list(figures) == ["S1", "S2", "overall"]

    s1 = figures["S1"]  # software engineer + line cook; the mystery title has no answer: left out
    assert s1["titles"] == 2
    assert (s1["top1"], s1["top5"], s1["top20"], s1["two_digit"]) == (0.5, 1.0, 1.0, 0.5)
    assert (s1["high_precision"], s1["high_coverage"]) == (1.0, 0.5)
    assert (s1["medium_precision"], s1["medium_coverage"]) == (0.0, 0.5)
    assert s1["low_precision"] is None and s1["low_coverage"] == 0.0

    s2 = figures["S2"]  # software engineer (tie: union) + truck driver
    assert s2["titles"] == 2
    assert (s2["top1"], s2["top5"], s2["two_digit"]) == (0.5, 1.0, 0.5)
    assert (s2["medium_precision"], s2["low_precision"], s2["low_coverage"]) == (1.0, 0.0, 0.5)

    overall = figures["overall"]
    assert overall["titles"] == 3
    assert (overall["top1"], overall["top5"], overall["top20"]) == (round(1 / 3, 4), 1.0, 1.0)
    assert overall["two_digit"] == round(1 / 3, 4)


def test_top_k_counts_distinct_soc_codes(labels_file: Path) -> None:
    labels = read_labels(labels_file)
    only_two_distinct = dict(PREDICTIONS)
    only_two_distinct["truck driver"] = Prediction(["43-4051.00", "43-4051.01", "11-1011.00", "53-3032.00"], "LOW")
    figures = {f.source: f for f in score(labels, only_two_distinct)}
    # 53-3032 is the 3rd distinct code: inside top-5 even though it is the 4th prediction.
    assert figures["S2"].top[5] == 2 and figures["S2"].top[1] == 1


def test_a_title_without_prediction_counts_as_wrong(labels_file: Path) -> None:
    figures = {f.source: f.to_dict() for f in score(read_labels(labels_file), {})}
    assert figures["overall"]["titles"] == 3
    assert figures["overall"]["top20"] == 0.0
    assert figures["overall"]["low_coverage"] == 1.0


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("title,code\nCook,35-2014\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="label_share"):
        read_labels(path)


def test_source_filter_keeps_only_those_rows(labels_file: Path) -> None:
    labels = read_labels(labels_file, sources={"S2"})
    assert {item.title.lower() for item in labels} == {"software engineer", "truck driver"}
    engineer = next(item for item in labels if item.title.lower() == "software engineer")
    # Over S2's rows alone the two 0.5 shares tie: both codes are acceptable overall too.
    assert engineer.acceptable == {"15-1252", "13-2011"} and set(engineer.sources) == {"S2"}
