"""AppTest: the Codebooks section on Projects (preview, counts, errors, import, disable, delete) and
Review's "Update proposals from decisions" button."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Codebook, Mapping, MappingStatus, Role
from jobforge.review.actions import choose_code
from tests.ui.conftest import USER, run_jobs, texts


def _csv(rows: list[tuple[str, str]]) -> bytes:
    return pd.DataFrame(rows, columns=["Job Title", "SOC Code"]).to_csv(index=False).encode()


def test_codebook_preview_counts_import_disable_and_delete(open_app, ui_engine, mapped_project):
    at = open_app("home")
    rows = [("Data Wrangler", "15-1132"), ("Cook", ""), ("Payroll Clerk", "13-2011.00")]
    at.file_uploader(key="codebook_file").set_value(("last_year.csv", _csv(rows), "text/csv")).run()
    assert at.selectbox(key="codebook_title_column").value == "Job Title"
    assert at.selectbox(key="codebook_code_column").value == "SOC Code"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["To import"] == "2" and metrics["Translated to O*NET-SOC 2019"] == "1"
    assert metrics["Skipped (empty title or code)"] == "1"
    preview = at.dataframe[0].value
    assert list(preview["O*NET-SOC 2019"]) == ["15-1252.00", "13-2011.00"]
    at.button(key="codebook_import").click().run()
    assert "Imported codebook “last\\_year”: 2 entries, 1 translated, 1 rows skipped" in texts(at)
    with session_factory(ui_engine)() as s:
        (book,) = s.scalars(select(Codebook))
        assert (book.imported_by, book.enabled) == (USER, True)
    at.button(key="codebook_toggle").click().run()
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(Codebook.enabled)) is False
    at.button(key="codebook_delete").click().run()
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(Codebook.id)) is None


def test_codebook_with_unknown_codes_shows_the_rows_and_offers_no_import(open_app, ui_engine, mapped_project):
    at = open_app("home")
    rows = [("Data Wrangler", "99-9999"), ("Cook", "35-2014.00")]
    at.file_uploader(key="codebook_file").set_value(("bad.csv", _csv(rows), "text/csv")).run()
    assert any("row 2: '99-9999'" in e.value and "Nothing was imported" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "codebook_import"]


def test_update_proposals_from_decisions_leaves_decided_roles_alone(open_app, ui_engine, mapped_project):
    with session_factory(ui_engine)() as s:
        decided_id = s.scalar(select(Role.id).where(Role.project_id == mapped_project).order_by(Role.id).limit(1))
        choose_code(s, decided_id, "11-1011.00", USER)
        s.commit()
    at = open_app("review", project_id=mapped_project)
    button = next(b for b in at.button if b.key == "update_proposals")
    assert "(1 new since the last update)" in button.label
    button.click().run()
    assert run_jobs(ui_engine) == 1
    at.run()
    assert "Updating proposals finished: Re-proposed" in texts(at) and "proposals changed" in texts(at)
    with session_factory(ui_engine)() as s:
        decided = s.scalar(select(Mapping).where(Mapping.role_id == decided_id))
        assert (decided.status, decided.onet_code) == (MappingStatus.OVERRIDDEN, "11-1011.00")
    assert "(0 new since the last update)" in next(b for b in at.button if b.key == "update_proposals").label
