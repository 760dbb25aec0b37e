"""The O*NET profile of the mapped occupation, including an unrated one that borrows from its parent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.db.models import SourceType
from jobforge.imputation.profile import (
    EXPERIENCE,
    HOT_TECHNOLOGIES,
    JOB_ZONE,
    TOP_KNOWLEDGE,
    TOP_SKILLS,
    TOP_TASKS,
    TYPICAL_EDUCATION,
    WORK_STYLES,
    nearest_with_data,
    onet_profile,
    profile_field_for,
)
from jobforge.imputation.service import impute_project
from tests.factories import CONFIRMED, NEEDS_INFO, PROPOSED, RoleSpec, build_project, cells

ONET_ONLY = ("onet",)


def test_profile_of_a_rated_occupation(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        profile = onet_profile(session, "15-1252.00")
    assert profile.title == "Software Developers"
    assert profile.value_for(JOB_ZONE) == "Job Zone 4: Considerable Preparation Needed"
    assert profile.job_zone_meaning["education"] == "Education for zone 4."
    assert profile.value_for(TYPICAL_EDUCATION) == "Bachelor's Degree"
    assert profile.typical_education_share == pytest.approx(0.7)
    assert profile.top_skills[0] == "Programming"  # highest importance (IM) first
    assert profile.top_knowledge and profile.work_styles
    assert profile.value_for(HOT_TECHNOLOGIES) == "Git; Python"
    assert "Analyze user needs" in profile.value_for(TOP_TASKS)
    # The tiny release has no Related Work Experience: the job zone's experience text stands in.
    assert profile.value_for(EXPERIENCE) == "Experience for zone 4."
    assert profile.donors == {}


def test_unrated_occupation_takes_ratings_from_its_parent(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        parent = onet_profile(session, "29-1141.00")
        acute = onet_profile(session, "29-1141.01")
    assert acute.title == "Acute Care Nurses"
    for field in (JOB_ZONE, TYPICAL_EDUCATION, TOP_SKILLS, TOP_KNOWLEDGE, WORK_STYLES, HOT_TECHNOLOGIES):
        assert acute.value_for(field) == parent.value_for(field)
        assert acute.source_code(field) == "29-1141.00"
    # Its own tasks exist, so they are its own.
    assert acute.top_tasks == ["Assess urgent and emergent health conditions using physiologically sensitive tools."]
    assert acute.source_code(TOP_TASKS) == "29-1141.01"
    assert acute.field_details(TOP_SKILLS)["donor_code"] == "29-1141.00"


def test_nearest_rated_relative_follows_the_soc_hierarchy() -> None:
    rated = {"15-1252.00", "15-1253.00", "15-1211.00", "29-1141.03"}
    assert nearest_with_data("15-1252.00", rated) == "15-1252.00"
    assert nearest_with_data("15-1252.01", rated) == "15-1252.00"  # the .00 parent
    assert nearest_with_data("29-1141.01", rated) == "29-1141.03"  # same detailed SOC
    assert nearest_with_data("15-1254.00", rated) == "15-1253.00"  # broad group 15-125, nearest code
    assert nearest_with_data("15-1299.08", rated) == "15-1253.00"  # minor group 15-12, nearest code
    assert nearest_with_data("15-1299.08", {"15-1211.00", "15-2011.00"}) == "15-1211.00"  # not another minor group
    assert nearest_with_data("11-1011.00", rated) is None


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("Education Level", TYPICAL_EDUCATION),
        ("Years of experience", EXPERIENCE),
        ("Key Skills", TOP_SKILLS),
        ("Knowledge areas", TOP_KNOWLEDGE),
        ("JOB ZONE", JOB_ZONE),
        ("Main duties", TOP_TASKS),
        ("Responsibilities", TOP_TASKS),
        ("Technology skills", HOT_TECHNOLOGIES),
        ("Software tools", HOT_TECHNOLOGIES),
        ("Work style", WORK_STYLES),
        ("Core competencies", WORK_STYLES),
        ("Work Environment", None),
        ("Shift Pattern", None),
    ],
)
def test_default_rules_map_attribute_columns_to_profile_fields(column: str, field: str | None) -> None:
    assert profile_field_for(column) == field


def test_custom_rules_come_first_and_can_exclude() -> None:
    rules = {"qualification": TYPICAL_EDUCATION, "skill": "none"}
    assert profile_field_for("Minimum qualification", rules) == TYPICAL_EDUCATION
    assert profile_field_for("Key Skills", rules) is None
    assert profile_field_for("Education", rules) == TYPICAL_EDUCATION


def test_confirmed_mapping_first_else_proposal_flagged(onet_engine: Engine) -> None:
    project_id, ids = build_project(
        onet_engine,
        ["Education", "Key Skills", "Work Environment"],
        [
            RoleSpec("Staff Nurse", mapping=("29-1141.00", CONFIRMED)),
            RoleSpec("ICU Nurse", mapping=("29-1141.01", PROPOSED)),
            RoleSpec("Mystery Role", mapping=("13-2011.00", NEEDS_INFO)),
            RoleSpec("Unmapped Role"),
            RoleSpec("Developer", source={"Education": "Self-taught"}, mapping=("15-1252.00", CONFIRMED)),
        ],
    )
    with session_factory(onet_engine)() as session:
        summary = impute_project(session, project_id, steps=ONET_ONLY)

    staff = cells(onet_engine, ids["Staff Nurse"])
    assert staff["Education"].value == "Bachelor's Degree"
    assert staff["Education"].source_type == SourceType.ONET
    assert staff["Education"].donor == "29-1141.00"
    assert staff["Education"].details["from_proposal"] is False
    assert "Work Environment" not in staff  # no O*NET rule for it

    icu = cells(onet_engine, ids["ICU Nurse"])
    assert icu["Key Skills"].value == staff["Key Skills"].value
    assert icu["Key Skills"].donor == "29-1141.00"  # the rated parent
    assert icu["Key Skills"].details["onet_code"] == "29-1141.01"
    assert icu["Key Skills"].details["from_proposal"] is True
    assert "not yet confirmed" in icu["Key Skills"].rationale
    assert "29-1141.00" in icu["Key Skills"].rationale

    assert cells(onet_engine, ids["Mystery Role"]) == {}  # "needs info": the analyst doubts the code
    assert cells(onet_engine, ids["Unmapped Role"]) == {}
    developer = cells(onet_engine, ids["Developer"])
    assert developer["Education"].value == "Self-taught"  # SOURCE beats ONET
    assert developer["Education"].source_type == SourceType.SOURCE
    assert developer["Key Skills"].value.startswith("Programming")
    assert summary.counts[SourceType.ONET] == 5
    assert summary.notes == []  # the LLM step was not asked for, so nothing to say


def test_without_a_release_the_onet_step_says_so(engine: Engine) -> None:
    project_id, ids = build_project(engine, ["Education"], [RoleSpec("Nurse", mapping=("29-1141.00", CONFIRMED))])
    with session_factory(engine)() as session:
        summary = impute_project(session, project_id, steps=ONET_ONLY)
    assert any("no O*NET release" in note for note in summary.notes)
    assert cells(engine, ids["Nurse"]) == {}


@pytest.mark.slow
def test_profiles_from_the_real_release(sqlite_engine: Engine, real_onet_zip) -> None:
    from jobforge.onet.loader import load_release

    load_release(sqlite_engine, real_onet_zip)
    with session_factory(sqlite_engine)() as session:
        nurse = onet_profile(session, "29-1141.00")
        web = onet_profile(session, "15-1255.00")  # no ratings of its own in 30.1
    assert nurse.value_for(TYPICAL_EDUCATION) == "Bachelor's Degree"
    assert nurse.experience_basis == "related work experience"  # element 3.A.1, scale RW
    assert nurse.value_for(EXPERIENCE).startswith("Over ")
    assert len(nurse.top_skills) == 5 and len(nurse.work_styles) == 5  # work styles on the 30.x WI scale
    assert nurse.donors == {}
    assert web.source_code(TOP_SKILLS) == "15-1255.01"  # same detailed SOC
    assert web.source_code(TOP_TASKS) == "15-1255.00"  # its own tasks


def test_attribute_rules_setting_maps_custom_columns(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_IMPUTATION_ATTRIBUTE_RULES", '{"qualification": "typical_education", "skill": "none"}')
    get_settings.cache_clear()
    project_id, ids = build_project(
        onet_engine, ["Minimum Qualification", "Key Skills"], [RoleSpec("Nurse", mapping=("29-1141.00", CONFIRMED))]
    )
    with session_factory(onet_engine)() as session:
        impute_project(session, project_id, steps=ONET_ONLY)
    stored = cells(onet_engine, ids["Nurse"])
    assert stored["Minimum Qualification"].value == "Bachelor's Degree"
    assert "Key Skills" not in stored  # excluded by the "none" rule


def test_role_provenance_lists_every_attribute_with_its_source(onet_engine: Engine) -> None:
    from jobforge.imputation.attributes import role_provenance

    project_id, ids = build_project(
        onet_engine,
        ["Education", "Key Skills", "Work Environment"],
        [RoleSpec("ICU Nurse", source={"Work Environment": "ICU"}, mapping=("29-1141.01", PROPOSED))],
    )
    with session_factory(onet_engine)() as session:
        impute_project(session, project_id, steps=ONET_ONLY)
        rows = {row["name"]: row for row in role_provenance(session, ids["ICU Nurse"])}
    assert list(rows) == ["Education", "Key Skills", "Work Environment"]
    assert rows["Work Environment"]["source_type"] == SourceType.SOURCE and rows["Work Environment"]["note"] is None
    education = rows["Education"]
    assert (education["value"], education["source_type"], education["donor"]) == (
        "Bachelor's Degree",
        SourceType.ONET,
        "29-1141.00",
    )
    assert "proposed" in education["note"] and "taken from 29-1141.00" in education["note"]
