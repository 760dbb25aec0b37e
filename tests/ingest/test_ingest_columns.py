"""Column detection: the suggestions the upload page starts from."""

from __future__ import annotations

import pandas as pd

from jobforge.ingest.columns import detect_columns


def frame(columns: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def test_typical_hr_export_is_recognised():
    df = frame(
        {
            "Employee ID": ["001", "002"],
            "Job Title": ["Accountant", "Nurse"],
            "Job Family": ["Finance", "Health"],
            "Job Function": ["Accounting", "Care"],
            "Department": ["Finance", "Ward 3"],
            "Grade": ["G5", "G6"],
            "Job Description": ["Keeps books", "Cares"],
            "FTE": ["1", "0.5"],
            "NOC Code": ["11100", "31301"],
            "Education": ["Bachelor", ""],
            "Years of Experience": ["3", "5"],
            "Key Skills": ["Excel", "Triage"],
            "Certifications": ["CPA", "RN"],
            "Work Environment": ["Office", "Hospital"],
        }
    )
    guess = detect_columns(df)
    assert guess.title == "Job Title"
    assert guess.context == {
        "job_family": "Job Family",
        "job_function": "Job Function",
        "department": "Department",
        "level": "Grade",
        "description": "Job Description",
        "headcount": "FTE",
        "unit_group": "NOC Code",
    }
    assert guess.attributes == ["Education", "Years of Experience", "Key Skills", "Certifications", "Work Environment"]


def test_other_title_header_names():
    for header in ("Position Title", "Role", "Business Title", "designation", "JOB_TITLE", "Position"):
        assert detect_columns(frame({"Emp No": ["1"], header: ["Cook"]})).title == header


def test_title_found_by_content_when_no_header_names_it():
    df = frame(
        {
            "Col A": ["1001", "1002", "1003", "1004"],
            "Col B": ["Accountant", "Registered Nurse", "Line Cook", "Truck Driver"],
            "Col C": ["1", "2", "1", "3"],
        }
    )
    assert detect_columns(df).title == "Col B"


def test_no_title_guess_when_nothing_looks_like_titles():
    assert detect_columns(frame({"A": ["1", "2"], "B": ["3", "4"]})).title is None
