"""Upload page: the file uploader, column choice, counts before anything runs, the map job, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, LlmBatch, Mapping, Role, RoleAttribute, Upload
from jobforge.projects import create_project
from tests.ui.conftest import USER, run_jobs, texts
from tests.ui.sheets import ROLES_CSV, xlsx_bytes


@pytest.fixture
def project_id(ui_engine) -> int:
    with session_factory(ui_engine)() as s:
        project = create_project(s, "Upload test", USER)
        s.commit()
        return project.id


def _upload(open_app, project_id, name, data, mime="text/csv"):
    at = open_app("upload", project_id)
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _count(engine, model) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_csv_upload_detects_columns_counts_roles_and_maps(open_app, ui_engine, project_id):
    at = _upload(open_app, project_id, "roles.csv", ROLES_CSV.encode())
    page = texts(at)
    assert "Rows 13" in page and "Unique roles 12" in page  # "staff accountant" is the same role
    assert at.selectbox(key=next(k for k in at.session_state if k.startswith("title_col_"))).value == "Job Title"
    family_key = next(k for k in at.session_state if k.startswith("ctx_job_family_"))
    assert at.selectbox(key=family_key).value == "Job Family"
    attrs_key = next(k for k in at.session_state if k.startswith("attrs_"))
    assert at.multiselect(key=attrs_key).value == ["Education"]
    assert _count(ui_engine, Role) == 0  # nothing stored before the analyst says so

    at.button(key="add_roles").click().run()
    assert "added: 12 new roles" in texts(at)
    with session_factory(ui_engine)() as s:
        roles = {r.title_key: r for r in s.scalars(select(Role))}
        assert len(roles) == 12
        accountant = next(r for r in roles.values() if r.title.lower() == "staff accountant")
        assert accountant.row_count == 2 and accountant.job_family == "Finance"
        education = s.scalar(select(RoleAttribute).where(RoleAttribute.role_id == accountant.id))
        assert education.value == "Bachelor's Degree" and education.source_type == "SOURCE"
        assert s.scalar(select(Upload.created_by)) == USER

    assert at.radio(key="map_provider").value == "offline"
    at.button(key="map_start").click().run()
    with session_factory(ui_engine)() as s:
        job = s.scalar(select(Job))
        assert job.kind == "map" and job.params["provider"] == "offline" and job.created_by == USER
    assert "Mapping" in texts(at) or at.get("progress")
    assert run_jobs(ui_engine) == 1
    at.run()
    assert "Mapping finished" in texts(at)
    assert _count(ui_engine, Mapping) == 12


def test_changing_the_title_column(open_app, ui_engine, project_id):
    at = _upload(open_app, project_id, "roles.csv", ROLES_CSV.encode())
    key = next(k for k in at.session_state if k.startswith("title_col_"))
    at.selectbox(key=key).set_value("Department").run()
    assert "Unique roles 11" in texts(at)  # Accounting and Kitchen appear twice
    at.button(key="add_roles").click().run()
    with session_factory(ui_engine)() as s:
        assert "Ward 3" in set(s.scalars(select(Role.title)))


def test_xlsx_sheet_picker(open_app, ui_engine, project_id):
    data = xlsx_bytes(
        {
            "Notes": [["Read me"], ["This sheet has no roles"]],
            "Roles": [["Position", "Family"], ["Line Cook", "Kitchen"], ["Truck Driver", "Fleet"]],
        }
    )
    at = _upload(
        open_app, project_id, "roles.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    at.selectbox(key="upload_sheet").set_value("Roles").run()
    assert "Unique roles 2" in texts(at)
    at.button(key="add_roles").click().run()
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(Upload.sheet)) == "Roles"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("roles.pdf", b"%PDF-1.4 not a table", "unsupported file type"),
        ("roles.csv", b"", "is empty"),
        ("roles.csv", b"   \n\n", "is empty"),
        ("roles.xls", b"\xd0\xcf\x11\xe0 old excel", "old-style Excel"),
    ],
    ids=["wrong-type", "empty", "blank", "xls"],
)
def test_bad_files_get_a_clear_message_and_store_nothing(open_app, ui_engine, project_id, name, data, message):
    at = _upload(open_app, project_id, name, data)
    assert any(message in e.value for e in at.error), texts(at)
    assert _count(ui_engine, Upload) == 0 and _count(ui_engine, Role) == 0


def test_no_header(open_app, ui_engine, project_id):
    at = _upload(open_app, project_id, "roles.csv", b"1001,Staff Accountant,Finance\n1002,Registered Nurse,Clinical\n")
    assert at.error, texts(at)
    assert "header" in at.error[0].value.lower()


def test_title_column_without_values(open_app, ui_engine, project_id):
    at = _upload(open_app, project_id, "roles.csv", b"Job Title,Family\n,Finance\n,Clinical\n")
    assert any("has no values" in e.value for e in at.error), texts(at)
    assert all(b.key != "add_roles" for b in at.button)


def test_duplicate_column_names(open_app, ui_engine, project_id):
    at = _upload(open_app, project_id, "roles.csv", b"Job Title,Family,Family\nNurse,Clinical,Care\n")
    assert any("duplicate" in e.value.lower() or "twice" in e.value.lower() for e in at.error), texts(at)


def test_non_utf8_csv_is_decoded(open_app, ui_engine, project_id):
    data = "Job Title,Family\nCafé Manager,Hospitality\nRéceptionniste,Front office\n".encode("cp1252")
    at = _upload(open_app, project_id, "roles.csv", data)
    assert not at.error, texts(at)
    at.button(key="add_roles").click().run()
    with session_factory(ui_engine)() as s:
        assert "Café Manager" in set(s.scalars(select(Role.title)))


def test_xlsx_formulas_and_merged_cells_are_reported(open_app, ui_engine, project_id):
    data = xlsx_bytes(
        {
            "Roles": [
                ["Job Title", "Family", "Headcount"],
                ["Nurse", "Clinical", 3],
                ["Cook", "Kitchen", "=1+1"],
                ["Driver", "Fleet", 2],
            ]
        },
        merge="B3:B4",
    )
    at = _upload(
        open_app, project_id, "roles.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert any("merged cell range" in w.value for w in at.warning), texts(at)
    # A formula is read as the value Excel saved with it, never as formula text.
    preview = at.dataframe[0].value
    assert not preview.astype(str).apply(lambda col: col.str.startswith("=")).any().any()
    assert list(preview["Job Title"]) == ["Nurse", "Cook", "Driver"]


def test_file_over_the_size_limit(open_app, ui_engine, project_id, monkeypatch):
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    big = ("Job Title,Family\n" + "Nurse,Clinical\n" * 80_000).encode()
    at = _upload(open_app, project_id, "big.csv", big)
    assert any("over the upload limit of 1 MB" in e.value for e in at.error), texts(at)
    assert _count(ui_engine, Upload) == 0


def test_a_queued_job_shows_its_progress_after_a_refresh(open_app, ui_engine, project_id):
    from jobforge.ingest.uploads import create_upload
    from jobforge.jobs.queue import enqueue

    with session_factory(ui_engine)() as s:
        create_upload(s, project_id, "roles.csv", ROLES_CSV.encode(), None, "Job Title", {}, [], USER)
        enqueue(s, "map", project_id, {"provider": "offline", "scope": "unmapped"}, USER)
    at = open_app("upload", project_id)  # a new session, as after closing the tab
    bars = at.get("progress")
    assert bars and "waiting for a worker" in bars[0].proto.text
    assert run_jobs(ui_engine) == 1
    at.run()
    assert "Mapping finished" in texts(at) or not at.get("progress")


def test_mapping_through_the_providers_batch_api(open_app, ui_engine, project_id, fake_llm_env):
    """With a key, the analyst can send the run through the batch API: half-price estimate, llm proposals."""
    import streamlit as st

    st.cache_data.clear()  # provider status is cached for a minute; this test sets keys
    at = _upload(open_app, project_id, "roles.csv", ROLES_CSV.encode())
    at.button(key="add_roles").click().run()
    at.radio(key="map_provider").set_value("anthropic").run()
    plain = next(i.value for i in at.info if "Estimate for anthropic" in i.value)
    at.checkbox(key="map_batch_api").check().run()
    batch = next(i.value for i in at.info if "Estimate for anthropic (batch API)" in i.value)
    assert plain != batch  # the batch estimate is priced at half
    at.button(key="map_start").click().run()
    with session_factory(ui_engine)() as s:
        job = s.scalar(select(Job))
        assert job.params == {"provider": "anthropic", "scope": "unmapped", "batch_api": True}
    assert run_jobs(ui_engine) == 1
    with session_factory(ui_engine)() as s:
        sources = dict(s.execute(select(Mapping.source, func.count()).group_by(Mapping.source)).all())
        assert s.scalar(select(func.count()).select_from(LlmBatch)) == 1  # one provider batch, its id kept
    # "Xylophone Tuning Specialist" has no candidate at all, so it costs no call and stays a code-less LOW.
    assert sources == {"llm": 11, "fallback": 1}
    assert fake_llm_env.requests  # the roles went through the fake provider, not the offline selector
    st.cache_data.clear()


STORE_VARIANTS_CSV = (
    "Job Title,Store\n"
    "Store Manager - Store #123,123\n"
    "Store Manager - Dallas TX,221\n"
    "Store Manager - Austin TX,305\n"
    "Store Mgr 127,127\n"
    "Store Manager,400\n"
    "C++ Developer,1\n"
    "C# Developer,1\n"
    "C Developer,1\n"
)


def test_upload_says_which_titles_were_merged_and_keeps_distinct_ones(open_app, ui_engine, project_id):
    """Places and store numbers merge into one role (shown by its plain title); C++/C#/C stay three."""
    at = _upload(open_app, project_id, "stores.csv", STORE_VARIANTS_CSV.encode())
    page = texts(at)
    assert "Unique roles 4" in page
    assert at.expander[0].label == "1 roles merge titles written differently"
    shown = page.replace("\\", "")  # markdown escapes, as rendered
    assert "“Store Manager - Store #123” + 3 others → “Store Manager” (5 rows)" in shown
    at.button(key="add_roles").click().run()
    with session_factory(ui_engine)() as s:
        roles = dict(s.execute(select(Role.title, Role.row_count)).all())
    assert roles == {"Store Manager": 5, "C++ Developer": 1, "C# Developer": 1, "C Developer": 1}
