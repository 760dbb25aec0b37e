"""Row-level values: a role's SOURCE value is what its rows hold, with the rows' agreement, per upload."""

from __future__ import annotations

from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import RoleAttribute, RowValueCount, SourceType, Upload
from jobforge.imputation.overrides import set_attribute
from jobforge.imputation.row_values import (
    ROLE_REQUIREMENT,
    VARIES_BY_PERSON,
    column_kinds,
    count_project_uploads,
    project_summaries,
    refresh_source_values,
    uncounted_uploads,
)
from jobforge.imputation.service import impute_project
from jobforge.ingest.uploads import create_upload
from tests.factories import WARD_ATTRIBUTES, propose, role_ids, upload_ward


def _cell(engine, role_id: int, name: str) -> RoleAttribute | None:
    with session_factory(engine)() as session:
        return session.scalar(select(RoleAttribute).where(RoleAttribute.role_id == role_id, RoleAttribute.name == name))


def test_a_role_value_is_its_rows_most_common_value_with_their_agreement(engine):
    project_id = upload_ward(engine)
    nurse = role_ids(engine, project_id)["Registered Nurse"]
    years = _cell(engine, nurse, "Years Experience")
    # Not "SOURCE 100%": two of the four nurses with a value have 3 years.
    assert (years.value, years.source_type, years.confidence) == ("3", SourceType.SOURCE, 0.5)
    assert years.details == {"rows": 5, "rows_with_value": 4, "agreeing": 2, "distinct": 3}
    assert "2 of the 4 rows" in years.rationale
    with session_factory(engine)() as session:
        summary = project_summaries(session, project_id)[(nurse, "Years Experience")]
    assert summary.label() == "3 · 2 of 4 rows" and summary.source_share == 0.8
    assert summary.agreement_text() == "2 of 4 rows (4 of 5 have a value)"
    education = _cell(engine, nurse, "Education")
    assert (education.value, education.confidence) == ("Bachelor's Degree", 1.0)
    # A role none of whose rows has a value gets no SOURCE value: imputation may fill it.
    assert _cell(engine, role_ids(engine, project_id)["Staff Nurse"], "Years Experience") is None


def test_each_upload_keeps_its_own_counts(engine):
    upload_ward(engine)
    with session_factory(engine)() as session:
        counts = session.execute(
            select(RowValueCount.value, RowValueCount.rows).where(RowValueCount.name == "Years Experience")
        ).all()
    # Empty cells are counted too (value None), so a role's rows always add up.
    assert sorted(counts, key=lambda item: (item[0] or "", item[1])) == [
        (None, 1),
        (None, 1),
        ("1", 1),
        ("2", 2),
        ("3", 2),
        ("6.5", 1),
    ]


def test_which_columns_are_role_requirements_and_which_vary_by_person(engine):
    project_id = upload_ward(engine)
    with session_factory(engine)() as session:
        kinds = column_kinds(WARD_ATTRIBUTES, project_summaries(session, project_id))
    assert kinds["Years Experience"].kind == VARIES_BY_PERSON and "'years'" in kinds["Years Experience"].reason
    assert kinds["Education"].kind == ROLE_REQUIREMENT and "100%" in kinds["Education"].reason
    # Nothing in the name: the nurses' shifts disagree (5 of 7 compared rows agree), so it varies by person.
    assert kinds["Shift"].kind == VARIES_BY_PERSON and "71%" in kinds["Shift"].reason
    assert column_kinds(["Required Years"], {})["Required Years"].kind == ROLE_REQUIREMENT


def test_a_second_upload_adds_its_rows_and_deleting_it_takes_them_back(engine):
    project_id = upload_ward(engine)
    more = (
        "Employee,Job Title,Job Family,Years Experience,Education,Shift\n"
        "E9,Registered Nurse,Clinical,6.5,,Day\nE10,Registered Nurse,Clinical,6.5,,Day\n"
        "E11,Registered Nurse,Clinical,6.5,,Day\nE12,Ward Clerk,Admin,1,High school,Day\n"
    )
    with session_factory(engine)() as session:
        create_upload(session, project_id, "more.csv", more.encode(), None, "Job Title", {}, WARD_ATTRIBUTES, "ann")
    ids = role_ids(engine, project_id)
    nurse, clerk = ids["Registered Nurse"], ids["Ward Clerk"]
    assert (_cell(engine, nurse, "Years Experience").value, _cell(engine, nurse, "Years Experience").details) == (
        "6.5",
        {"rows": 8, "rows_with_value": 7, "agreeing": 4, "distinct": 3},
    )
    # Deleting the second upload removes its counts; refreshing gives back the first file's figures.
    with session_factory(engine)() as session, session.begin():
        session.delete(session.scalar(select(Upload).where(Upload.filename == "more.csv")))
        session.flush()
        refresh_source_values(session, [nurse, clerk], "ann")
    years = _cell(engine, nurse, "Years Experience")
    assert (years.value, years.confidence, years.details["rows"]) == ("3", 0.5, 5)
    assert _cell(engine, clerk, "Education").value is None  # its only rows are gone


def test_an_analyst_value_stays_when_more_rows_arrive(engine):
    project_id = upload_ward(engine)
    nurse = role_ids(engine, project_id)["Registered Nurse"]
    with session_factory(engine)() as session, session.begin():
        set_attribute(session, nurse, "Education", "Master's Degree", "ann")
    with session_factory(engine)() as session:
        create_upload(
            session,
            project_id,
            "more.csv",
            b"Job Title,Education\nRegistered Nurse,Associate's Degree\n",
            None,
            "Job Title",
            {},
            ["Education"],
            "ann",
        )
    education = _cell(engine, nurse, "Education")
    assert (education.value, education.source_type) == ("Master's Degree", SourceType.ANALYST)


def test_imputation_fills_only_roles_whose_rows_are_all_empty(onet_engine):
    project_id = upload_ward(onet_engine)
    ids = role_ids(onet_engine, project_id)
    for title in ("Registered Nurse", "Staff Nurse"):
        propose(onet_engine, ids[title], "29-1141.00")
    with session_factory(onet_engine)() as session:
        impute_project(session, project_id, steps=("hierarchy", "onet"))
    years = _cell(onet_engine, ids["Registered Nurse"], "Years Experience")
    assert (years.value, years.source_type) == ("3", SourceType.SOURCE)
    assert _cell(onet_engine, ids["Registered Nurse"], "Education").source_type == SourceType.SOURCE
    # The staff nurse has no row with a value: its occupation's O*NET profile fills the role.
    staff_education = _cell(onet_engine, ids["Staff Nurse"], "Education")
    assert (staff_education.value, staff_education.source_type) == ("Bachelor's Degree", SourceType.ONET)


def test_uploads_stored_before_rows_were_counted_are_counted_from_their_files(engine):
    project_id = upload_ward(engine)
    nurse = role_ids(engine, project_id)["Registered Nurse"]
    with session_factory(engine)() as session, session.begin():  # as a store migrated from 0002 has it
        session.execute(RowValueCount.__table__.delete())
        session.execute(
            RoleAttribute.__table__.update()
            .where(RoleAttribute.source_type == SourceType.SOURCE)
            .values(confidence=1.0, details={})
        )
    with session_factory(engine)() as session:
        assert uncounted_uploads(session, project_id)
    with session_factory(engine)() as session:
        assert count_project_uploads(session, project_id, "ann") == 3  # roles refreshed
    years = _cell(engine, nurse, "Years Experience")
    assert (years.value, years.confidence, years.details["rows_with_value"]) == ("3", 0.5, 4)
    with session_factory(engine)() as session:
        assert uncounted_uploads(session, project_id) == []
