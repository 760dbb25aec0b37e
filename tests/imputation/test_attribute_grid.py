"""The attribute table: vocabularies, conflicts with O*NET, versioned edits and bulk set."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, RoleAttribute, SourceType
from jobforge.imputation.edits import CellEdit, StaleCells, bulk_set, save_cells
from jobforge.imputation.grid import attribute_grid
from jobforge.imputation.overrides import OverrideError
from jobforge.imputation.profile import EXPERIENCE, TYPICAL_EDUCATION
from jobforge.imputation.vocabulary import education_level, experience_category, vocabulary_for
from tests.factories import RoleSpec, build_project, role_ids, upload_ward


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("bachelor's degree", 6),
        ("bsc", 6),
        ("bsn", 6),
        ("high school", 2),
        ("ged", 2),
        ("high school diploma - or the equivalent", 2),
        ("master's degree in nursing (msn)", 8),
        ("post-master's certificate", 9),
        ("phd", 11),
        ("associate's degree (or other 2-year degree)", 5),
        ("less than a high school diploma", 1),
        ("bachelor's or master's", None),  # two levels: not certain
        ("degree", None),
        ("nursing qualification", None),
    ],
)
def test_education_values_map_only_when_certain(text, level):
    assert education_level(text) == level


@pytest.mark.parametrize(
    ("text", "column", "category"),
    [
        ("3", "Years Experience", 7),  # over 2 years, up to 4
        ("6.5", "Years Experience", 9),
        ("1", "Years Experience", 5),  # up to and including 1 year
        ("3 years", "Experience", 7),
        ("6 months", "Experience", 4),
        ("none", "Experience", 1),
        ("3", "Experience", None),  # a bare number without a unit in the column name
        ("5+ years", "Experience", None),
        ("1-2 years", "Experience", None),
    ],
)
def test_experience_values_map_only_when_certain(text, column, category):
    assert experience_category(text, column) == category


def test_a_value_in_another_vocabulary_is_shown_as_written_and_mapped():
    education = vocabulary_for(TYPICAL_EDUCATION)
    assert education.mapped_label("BSc Nursing") == "Bachelor's Degree"
    assert education.mapped_label("Bachelor's Degree") is None  # already in the vocabulary
    assert (
        vocabulary_for(EXPERIENCE).mapped_label("3", "Years Experience") == "Over 2 years, up to and including 4 years"
    )


def test_the_grid_shows_source_agreement_kind_and_vocabulary(onet_engine):
    project_id = upload_ward(onet_engine)
    nurse = role_ids(onet_engine, project_id)["Registered Nurse"]
    with session_factory(onet_engine)() as session:
        grid = attribute_grid(session, project_id)
    assert grid.names == ["Years Experience", "Education", "Shift"]
    assert [grid.kinds[name].label() for name in grid.names] == [
        "varies by person",
        "role requirement",
        "varies by person",
    ]
    assert set(grid.vocabularies) == {"Years Experience", "Education"}
    # The release's own category labels are the vocabulary.
    assert "Bachelor's Degree" in grid.vocabularies["Education"].options()
    row = next(row for row in grid.rows if row.role_id == nurse)
    years = row.cells["Years Experience"]
    assert (years.value, years.source, years.confidence) == ("3", "SOURCE", 0.5)
    assert years.agreement == "2 of 4 rows (4 of 5 have a value)" and years.source_share == 0.8
    assert years.mapped == "Over 2 years, up to and including 4 years"
    assert years.version == 1
    cook = next(row for row in grid.rows if row.title == "Line Cook")
    assert cook.cells["Education"].mapped == "High School Diploma - or the equivalent"


def test_an_inherited_value_that_contradicts_onet_is_flagged(onet_engine):
    # Two registered nurses' rows say "High school": the third nurse role inherits it from the family.
    project_id, ids = build_project(
        onet_engine,
        ["Education"],
        [
            RoleSpec("Nurse Day", family="Clinical", source={"Education": "High school"}),
            RoleSpec("Nurse Night", family="Clinical", source={"Education": "High school"}),
            RoleSpec("Registered Nurse", family="Clinical", mapping=("29-1141.00", "confirmed")),
            RoleSpec(
                "Line Cook", family="Kitchen", source={"Education": "High school"}, mapping=("35-2014.00", "proposed")
            ),
        ],
    )
    from jobforge.imputation.service import impute_project

    with session_factory(onet_engine)() as session:
        impute_project(session, project_id, steps=("hierarchy",))
    with session_factory(onet_engine)() as session:
        grid = attribute_grid(session, project_id)
    rn = next(row for row in grid.rows if row.role_id == ids["Registered Nurse"])
    cell = rn.cells["Education"]
    assert (cell.value, cell.source) == ("High school", SourceType.HIERARCHY)
    assert cell.agreement == "2 of 2 roles"
    assert cell.conflict == ("10% of 29-1141.00 incumbents report this; most (70%) report Bachelor's Degree")
    cook = next(row for row in grid.rows if row.role_id == ids["Line Cook"])
    assert cook.cells["Education"].conflict is None  # cooks mostly report a high school diploma
    assert grid.conflicts() == 1


def test_edits_are_saved_with_the_version_shown_and_refused_when_stale(engine):
    project_id = upload_ward(engine)
    ids = role_ids(engine, project_id)
    nurse, staff = ids["Registered Nurse"], ids["Staff Nurse"]
    with session_factory(engine)() as session:
        result = save_cells(
            session,
            project_id,
            [
                CellEdit(nurse, "Education", "Master's Degree", 1),
                CellEdit(staff, "Education", "Bachelor's Degree", None),
            ],
            "ann",
        )
    assert (result.saved, result.cleared) == (2, 0)
    with session_factory(engine)() as session:
        cell = session.scalar(
            select(RoleAttribute).where(RoleAttribute.role_id == nurse, RoleAttribute.name == "Education")
        )
        assert (cell.value, cell.source_type, cell.version) == ("Master's Degree", "ANALYST", 2)
    # A screen still showing version 1 is refused, and nothing of its edits is saved.
    with session_factory(engine)() as session, pytest.raises(StaleCells, match="changed since the table was shown"):
        save_cells(
            session,
            project_id,
            [CellEdit(staff, "Shift", "Night", None), CellEdit(nurse, "Education", "Doctoral Degree", 1)],
            "bob",
        )
    with session_factory(engine)() as session:
        assert (
            session.scalar(
                select(RoleAttribute.value).where(RoleAttribute.role_id == nurse, RoleAttribute.name == "Education")
            )
            == "Master's Degree"
        )
        assert (
            session.scalar(select(RoleAttribute).where(RoleAttribute.role_id == staff, RoleAttribute.name == "Shift"))
            is None
        )
    # Emptying the analyst's value gives back the rows' own value.
    with session_factory(engine)() as session:
        assert save_cells(session, project_id, [CellEdit(nurse, "Education", "", 2)], "ann").cleared == 1
    with session_factory(engine)() as session:
        cell = session.scalar(
            select(RoleAttribute).where(RoleAttribute.role_id == nurse, RoleAttribute.name == "Education")
        )
        assert (cell.value, cell.source_type) == ("Bachelor's Degree", "SOURCE") and cell.version == 3
    # A value from the file cannot be emptied: only overridden.
    with session_factory(engine)() as session, pytest.raises(OverrideError, match="cannot be emptied"):
        save_cells(session, project_id, [CellEdit(nurse, "Education", " ", 3)], "ann")


def test_bulk_set_is_one_audited_action(engine):
    project_id = upload_ward(engine)
    ids = role_ids(engine, project_id)
    with session_factory(engine)() as session:
        versions = dict(
            session.execute(
                select(RoleAttribute.role_id, RoleAttribute.version).where(RoleAttribute.name == "Education")
            ).all()
        )
    chosen = {ids["Registered Nurse"]: versions[ids["Registered Nurse"]], ids["Staff Nurse"]: None}
    with session_factory(engine)() as session:
        result = bulk_set(session, project_id, "Education", "Bachelor's Degree", chosen, "ann")
    assert result.saved == 2
    with session_factory(engine)() as session:
        values = session.execute(
            select(RoleAttribute.role_id, RoleAttribute.value, RoleAttribute.source_type).where(
                RoleAttribute.name == "Education", RoleAttribute.role_id.in_(list(chosen))
            )
        ).all()
        assert {(value, source) for _, value, source in values} == {("Bachelor's Degree", "ANALYST")}
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "bulk_set_attribute"))
        assert event.user == "ann" and event.after["role_ids"] == sorted(chosen) and event.after["count"] == 2
        assert event.before["cells"][str(ids["Staff Nurse"])] is None
        assert (
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "set_attribute"))
            == 2
        )
    with session_factory(engine)() as session, pytest.raises(OverrideError):
        bulk_set(session, project_id, "Education", "  ", chosen, "ann")
