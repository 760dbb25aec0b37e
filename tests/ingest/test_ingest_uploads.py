"""Unique roles and storing an upload (SQLite and Postgres)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Role, RoleAttribute, SourceType, Upload
from jobforge.ingest.reader import IngestError
from jobforge.ingest.uploads import build_roles, create_upload, unique_roles
from jobforge.projects import create_project

CONTEXT = {"job_family": "Family", "headcount": "FTE", "level": "Level"}
CSV = (
    b"Job Title,Family,FTE,Level,Education,Skills\n"
    b"Senior Accountant,Finance,1,P3,Bachelor,Excel\n"
    b"senior   ACCOUNTANT ,Finance,2,P3,Bachelor,\n"
    b"Senior Accountant.,Accounting,1.5,,Master,Excel\n"
    b"Registered Nurse,Health,1,,,\n"
    b",Health,1,,,\n"
    b"   ,Health,1,,,\n"
)


def df_of(rows: dict[str, list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object)


def test_titles_differing_in_case_spacing_punctuation_are_one_role():
    df = df_of({"Title": ["Senior Accountant", "senior  accountant", "SENIOR ACCOUNTANT!", "Accountant"]})
    roles = unique_roles(df, "Title", {}, [])
    assert [(role.title, role.row_count) for role in roles] == [("Senior Accountant", 3), ("Accountant", 1)]


def test_context_is_most_common_value_and_headcount_is_summed():
    df = df_of(
        {
            "Title": ["Cook", "cook", "Cook", "Cook"],
            "Family": ["Food", "Kitchen", "Kitchen", ""],
            "FTE": ["1", "0.5", "1,000", "x"],
            "Education": ["", "", "High school", ""],
        }
    )
    (role,) = unique_roles(df, "Title", {"job_family": "Family", "headcount": "FTE"}, ["Education"])
    assert role.row_count == 4
    assert role.context == {"job_family": "Kitchen", "headcount": "1001.5"}
    assert role.attributes == {"Education": "High school"}


def test_ties_take_the_value_seen_first():
    df = df_of({"Title": ["Cook", "Cook"], "Family": ["Food", "Kitchen"]})
    assert unique_roles(df, "Title", {"job_family": "Family"}, [])[0].context == {"job_family": "Food"}


def test_blank_titles_are_counted_not_roles():
    df = df_of({"Title": ["Cook", "", "  ", None, "Nurse"]})
    built = build_roles(df, "Title")
    assert [role.title for role in built.roles] == ["Cook", "Nurse"]
    assert (built.rows, built.blank_titles) == (5, 3)


def test_titles_without_letters_still_become_roles():
    df = df_of({"Title": ["🙂🙂", "12345", "中文职位"]})
    assert len(unique_roles(df, "Title")) == 3


def test_title_column_without_values_is_refused():
    with pytest.raises(IngestError, match="'Title' has no values"):
        unique_roles(df_of({"Title": ["", " "], "Family": ["a", "b"]}), "Title")


def test_unknown_columns_are_refused():
    with pytest.raises(IngestError, match="'Job' is not in the file"):
        unique_roles(df_of({"Title": ["Cook"]}), "Job")
    with pytest.raises(IngestError, match="'Dept'"):
        unique_roles(df_of({"Title": ["Cook"]}), "Title", {"department": "Dept"})


def _upload(session, project_id, data=CSV, name="roles.csv", **kwargs):
    params = {"title_column": "Job Title", "context_columns": CONTEXT, "attribute_columns": ["Education", "Skills"]}
    params.update(kwargs)
    return create_upload(session, project_id, name, data, None, user="ann", **params)


def test_create_upload_stores_roles_bytes_attributes_and_summary(engine):
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        upload = _upload(session, project.id)
        summary = upload.summary
        assert (summary.rows, summary.unique_roles, summary.new_roles, summary.blank_titles) == (6, 2, 2, 2)
        assert any("no title" in warning for warning in summary.warnings)

    with session_factory(engine)() as session:
        stored = session.scalar(select(Upload))
        assert stored.content == CSV and stored.row_count == 6 and stored.created_by == "ann"
        assert stored.context_columns == CONTEXT and stored.attribute_columns == ["Education", "Skills"]
        roles = {role.title: role for role in session.scalars(select(Role))}
        accountant = roles["Senior Accountant"]
        assert (accountant.row_count, accountant.headcount) == (3, 4.5)
        assert (accountant.job_family, accountant.level) == ("Finance", "P3")
        assert roles["Registered Nurse"].job_family == "Health"
        attributes = {(a.role_id, a.name): (a.value, a.source_type) for a in session.scalars(select(RoleAttribute))}
        assert attributes == {
            (accountant.id, "Education"): ("Bachelor", SourceType.SOURCE),
            (accountant.id, "Skills"): ("Excel", SourceType.SOURCE),
        }
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "upload"))
        assert event.user == "ann" and event.after["unique_roles"] == 2


def test_second_upload_merges_into_existing_roles(engine):
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        _upload(session, project.id)
        more = (
            b"Job Title,Family,FTE,Level,Education,Skills\nSENIOR ACCOUNTANT,Audit,1,,PhD,\nLine Cook,Food,2,,,Knives\n"
        )
        upload = _upload(session, project.id, data=more, name="more.csv")
        assert (upload.summary.unique_roles, upload.summary.new_roles, upload.summary.merged_roles) == (2, 1, 1)

    with session_factory(engine)() as session:
        roles = {role.title: role for role in session.scalars(select(Role))}
        assert set(roles) == {"Senior Accountant", "Registered Nurse", "Line Cook"}
        accountant = roles["Senior Accountant"]
        # Rows and headcount add up; context already known stays; the first upload's value stays.
        assert (accountant.row_count, accountant.headcount, accountant.job_family) == (4, 5.5, "Finance")
        education = session.scalar(
            select(RoleAttribute.value).where(RoleAttribute.role_id == accountant.id, RoleAttribute.name == "Education")
        )
        assert education == "Bachelor"
        assert session.scalar(select(func.count()).select_from(Upload)) == 2


def test_bad_upload_writes_nothing(engine):
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        with pytest.raises(IngestError, match="no values"):
            _upload(
                session,
                project.id,
                data=b"Job Title,Family\n,Finance\n",
                context_columns={"job_family": "Family"},
                attribute_columns=[],
            )
        with pytest.raises(IngestError, match="duplicate"):
            _upload(session, project.id, data=b"Job Title,Job Title\nA,B\n")
        with pytest.raises(IngestError, match="unsupported"):
            _upload(session, project.id, name="roles.docx")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0
        assert session.scalar(select(func.count()).select_from(Role)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "upload")) == 0


def test_failure_while_storing_rolls_back_everything(engine, monkeypatch):
    import jobforge.ingest.uploads as uploads

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        monkeypatch.setattr(uploads, "_store_source_attributes", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            _upload(session, project.id)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0
        assert session.scalar(select(func.count()).select_from(Role)) == 0


def test_very_long_titles_are_cut_to_500_characters_and_flagged(engine):
    long_title = "Senior " + "Accounting " * 70  # 777 characters: a pasted description
    data = f"Job Title\n{long_title}\n{long_title.upper()}\nCook\n".encode()
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        upload = create_upload(session, project.id, "roles.csv", data, None, "Job Title", {}, [], "ann")
        assert upload.summary.unique_roles == 2
        assert any("2 title(s) were longer than 500 characters" in w for w in upload.summary.warnings)
    with session_factory(engine)() as session:
        titles = {role.title: role.row_count for role in session.scalars(select(Role))}
        cut = long_title[:500].rstrip() + "…"
        assert titles == {cut: 2, "Cook": 1}


def test_title_key_ignores_case_and_spacing_as_unique_roles_assumes():
    # build_roles folds case and spacing before calling title_key, once per distinct spelling.
    from jobforge.retrieval.normalize import title_key

    for title in ["Sr. Software  Engineer II", "RN - Nights", "VP, Sales (Remote)", "ÉLECTRICIEN Chef", "Mgr  of IT"]:
        assert title_key(title) == title_key(" ".join(title.casefold().split()))


def test_uploading_the_same_file_twice_warns(engine):
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        assert not any("already uploaded" in w for w in _upload(session, project.id).summary.warnings)
        again = _upload(session, project.id)
        assert any("already uploaded" in w for w in again.summary.warnings)
        assert again.summary.merged_roles == 2 and again.summary.new_roles == 0


def test_create_upload_can_reuse_the_frame_already_read(engine):
    from jobforge.ingest.reader import read_table

    frame = read_table(CSV, "roles.csv")
    with session_factory(engine)() as session:
        project = create_project(session, "Acme", "ann")
        upload = _upload(session, project.id, frame=frame)
        assert upload.summary.unique_roles == 2
    with session_factory(engine)() as session:
        assert session.scalar(select(Upload.content)) == CSV
