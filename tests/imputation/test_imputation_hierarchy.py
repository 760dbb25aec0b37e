"""Inheritance within the organisation: siblings that agree fill a role's empty cell."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import RoleAttribute, SourceType
from jobforge.imputation.overrides import set_attribute
from jobforge.imputation.service import impute_project
from tests.factories import RoleSpec, build_project, cells

HIERARCHY_ONLY = ("hierarchy",)


def run(engine: Engine, project_id: int, steps=HIERARCHY_ONLY):
    with session_factory(engine)() as session:
        return impute_project(session, project_id, steps=steps)


def test_agreeing_family_fills_the_gap_with_donor_and_share(engine: Engine) -> None:
    project_id, ids = build_project(
        engine,
        ["Shift Pattern"],
        [
            RoleSpec("Staff Nurse", "Nursing", source={"Shift Pattern": "Days"}),
            RoleSpec("Charge Nurse", "Nursing", source={"Shift Pattern": "days "}),
            RoleSpec("Night Nurse", "Nursing", source={"Shift Pattern": "Nights"}),
            RoleSpec("Ward Nurse", "Nursing", source={"Shift Pattern": "Days"}),
            RoleSpec("Nurse Educator", "Nursing"),
        ],
    )
    summary = run(engine, project_id)

    value = cells(engine, ids["Nurse Educator"])["Shift Pattern"]
    assert value.value == "Days"  # spelling differences still agree; the most common spelling is used
    assert value.source_type == SourceType.HIERARCHY
    assert value.donor == "job_family=Nursing"
    assert value.details["agreement"] == 0.75  # 3 of the 4 siblings with a value
    assert value.details["siblings_with_value"] == 4
    assert value.confidence == 0.75
    assert "3 of 4" in value.rationale
    assert summary.counts[SourceType.HIERARCHY] == 1
    assert summary.counts[SourceType.SOURCE] == 4
    assert summary.counts["EMPTY"] == 0
    # The file's own values are untouched, including the one that disagrees.
    assert cells(engine, ids["Night Nurse"])["Shift Pattern"].value == "Nights"
    assert cells(engine, ids["Night Nurse"])["Shift Pattern"].source_type == SourceType.SOURCE


def test_disagreeing_family_falls_back_to_function_then_stays_empty(engine: Engine) -> None:
    project_id, ids = build_project(
        engine,
        ["Work Environment"],
        [
            RoleSpec("Staff Nurse", "Nursing", "Clinical", source={"Work Environment": "Ward"}),
            RoleSpec("Community Nurse", "Nursing", "Community", source={"Work Environment": "Homes"}),
            RoleSpec("Physiotherapist", "Therapy", "Clinical", source={"Work Environment": "Ward"}),
            RoleSpec("Theatre Nurse", "Nursing", "Clinical"),  # family split 1:1, function agrees 2:0
            RoleSpec("Outreach Nurse", "Nursing", "Outreach"),  # family split, function has no evidence
        ],
    )
    run(engine, project_id)

    theatre = cells(engine, ids["Theatre Nurse"])["Work Environment"]
    assert theatre.value == "Ward"
    assert theatre.source_type == SourceType.HIERARCHY
    assert theatre.donor == "job_function=Clinical"
    assert theatre.details["agreement"] == 1.0
    outreach = cells(engine, ids["Outreach Nurse"]).get("Work Environment")
    assert outreach is None or outreach.value is None


def test_a_single_sibling_is_not_agreement(engine: Engine) -> None:
    project_id, ids = build_project(
        engine,
        ["Education"],
        [RoleSpec("Line Cook", "Kitchen", source={"Education": "None"}), RoleSpec("Prep Cook", "Kitchen")],
    )
    summary = run(engine, project_id)
    assert cells(engine, ids["Prep Cook"]).get("Education") is None
    assert summary.counts["EMPTY"] == 1


def test_only_file_and_analyst_values_count_as_evidence(engine: Engine) -> None:
    project_id, ids = build_project(
        engine,
        ["Licence", "Uniform"],
        [
            RoleSpec("Driver A", "Transport", source={"Licence": "CDL"}),
            RoleSpec("Driver B", "Transport"),
            RoleSpec("Driver C", "Transport"),
            RoleSpec("Driver D", "Transport"),
        ],
    )
    with session_factory(engine)() as session:
        # Computed values on two siblings must not count towards agreement...
        for title in ("Driver B", "Driver C"):
            session.add(
                RoleAttribute(
                    role_id=ids[title], name="Licence", value="CDL", source_type=SourceType.LLM, confidence=0.4
                )
            )
        # ...but analysts' values do.
        set_attribute(session, ids["Driver A"], "Uniform", "Hi-vis", "ana")
        set_attribute(session, ids["Driver B"], "Uniform", "Hi-vis", "ana")
        session.commit()
    run(engine, project_id)

    licence = cells(engine, ids["Driver D"]).get("Licence")
    assert licence is None or licence.value is None  # 1 real sibling only
    uniform = cells(engine, ids["Driver D"])["Uniform"]
    assert (uniform.value, uniform.source_type, uniform.donor) == (
        "Hi-vis",
        SourceType.HIERARCHY,
        "job_family=Transport",
    )
    # HIERARCHY replaces the lower LLM value when the evidence supports it.
    assert cells(engine, ids["Driver C"])["Uniform"].source_type == SourceType.HIERARCHY


def test_grouping_columns_and_threshold_are_configurable(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    project_id, ids = build_project(
        engine,
        ["Shift Pattern"],
        [
            RoleSpec("Cook A", "Kitchen", department="North", source={"Shift Pattern": "Early"}),
            RoleSpec("Cook B", "Kitchen", department="North", source={"Shift Pattern": "Early"}),
            RoleSpec("Cook C", "Kitchen", department="North", source={"Shift Pattern": "Late"}),
            RoleSpec("Cook D", "Kitchen", department="South", source={"Shift Pattern": "Late"}),
            RoleSpec("Cook E", "Kitchen", department="North"),
        ],
    )
    monkeypatch.setenv("JOBFORGE_IMPUTATION_GROUP_COLUMNS", '["department"]')
    monkeypatch.setenv("JOBFORGE_IMPUTATION_AGREEMENT", "0.9")
    get_settings.cache_clear()
    run(engine, project_id)
    assert cells(engine, ids["Cook E"]).get("Shift Pattern") is None  # 2 of 3 < 0.9

    monkeypatch.setenv("JOBFORGE_IMPUTATION_AGREEMENT", "0.6")
    get_settings.cache_clear()
    run(engine, project_id)
    value = cells(engine, ids["Cook E"])["Shift Pattern"]
    assert (value.value, value.donor) == ("Early", "department=North")
    assert value.details["agreement"] == pytest.approx(0.6667, abs=1e-4)


def test_inherited_value_is_withdrawn_when_siblings_stop_agreeing(engine: Engine) -> None:
    project_id, ids = build_project(
        engine,
        ["Shift Pattern"],
        [
            RoleSpec("Nurse A", "Nursing", source={"Shift Pattern": "Days"}),
            RoleSpec("Nurse B", "Nursing", source={"Shift Pattern": "Days"}),
            RoleSpec("Nurse C", "Nursing"),
        ],
    )
    run(engine, project_id)
    assert cells(engine, ids["Nurse C"])["Shift Pattern"].source_type == SourceType.HIERARCHY

    with session_factory(engine)() as session:  # a new upload says Nurse B works nights
        row = session.get(RoleAttribute, cells(engine, ids["Nurse B"])["Shift Pattern"].id)
        row.value = "Nights"
        session.commit()
    summary = run(engine, project_id)
    withdrawn = cells(engine, ids["Nurse C"])["Shift Pattern"]
    assert withdrawn.value is None and withdrawn.source_type is None
    assert "no longer agree" in withdrawn.details["cleared"]
    assert summary.cleared == 1
