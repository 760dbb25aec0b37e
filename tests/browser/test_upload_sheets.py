"""Upload in Chromium: a two-sheet workbook with a cover note first, a sheet switch, remove and re-add, the size limit.

The sheet in the box, the sheet previewed and the sheet imported must be one and the same
(issue: after removing and re-adding a file the box said "Notes", the preview "Roster" and the
import used Notes). Screenshots at 1366×768 and 1920×1080 go to test-artifacts/.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Role, Upload
from tests.browser.conftest import ARTIFACTS, UPLOAD_LIMIT_MB, LiveApp
from tests.browser.test_journey import create_project, settle, sign_in

pytestmark = pytest.mark.browser
USER = "Sheet Analyst"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLES = ["Registered Nurse", "Staff Accountant", "Forklift Operator", "Line Cook", "Truck Driver", "TBD"]


def workbook() -> bytes:
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["This workbook lists every employee as of 30 September 2026."])
    notes.append(["The roster is on the next sheet; ask HR before sharing it."])
    roster = book.create_sheet("Roster")
    roster.append(["Acme Corp - Headcount by Job Title"])
    roster.append(["As of 30 Sep 2026 - Confidential"])
    roster.append([])
    roster.append(["Employee ID", "Job Title", "Job Family", "Education"])
    for number in range(30):
        roster.append([f"E{number}", TITLES[number % len(TITLES)], "Operations", "Bachelor's degree"])
    roster.merge_cells("A1:D1")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def shot(page: Page, app: LiveApp, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{app.store}-{name}.png"))


def choose_sheet(page: Page, name: str) -> None:
    page.get_by_role("combobox", name="Sheet").click()
    page.get_by_role("option", name=name, exact=True).click()
    settle(page)


def test_a_cover_note_first_a_sheet_switch_and_re_adding_the_file(live_app: LiveApp, browser_page: Page) -> None:
    page, app = browser_page, live_app
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(app.url)
    sign_in(page, USER)
    create_project(page, "Sheets")

    # The uploader states the limit Streamlit really enforces.
    expect(page.get_by_test_id("stFileUploaderDropzoneInstructions")).to_contain_text(f"{UPLOAD_LIMIT_MB}MB")

    data = workbook()
    files = page.locator('input[type="file"]')
    files.set_input_files(files=[{"name": "roster.xlsx", "mimeType": XLSX, "buffer": data}])
    note = page.get_by_text("Opened on sheet 'Roster' (2 of 2)")
    expect(note).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Passed over: 'Notes' has no title-like column")).to_be_visible()
    expect(page.get_by_role("combobox", name="Sheet")).to_have_value("Roster")
    expect(page.get_by_test_id("stNumberInputField").and_(page.get_by_label("Header row"))).to_have_value("4")
    expect(page.get_by_text("Header: row 4 (found automatically")).to_be_visible()
    add = page.get_by_role("button", name=re.compile(r"^Add 5 roles to the project from sheet “Roster”"))
    expect(add).to_be_visible()
    shot(page, app, "upload-sheets-1366x768")
    page.set_viewport_size({"width": 1920, "height": 1080})
    shot(page, app, "upload-sheets-1920x1080")
    page.set_viewport_size({"width": 1366, "height": 768})

    # The cover note is refused, with the reason; back to the roster.
    choose_sheet(page, "Notes")
    expect(page.get_by_text("Sheet 'Notes' has no title-like column")).to_be_visible()
    expect(page.get_by_role("combobox", name="Sheet")).to_have_value("Notes")
    expect(page.get_by_role("button", name=re.compile(r"^Add \d+ roles"))).to_have_count(0)
    shot(page, app, "upload-sheets-refused")

    # Remove the file while Notes is chosen and add it again: box, preview and import agree.
    page.get_by_test_id("stFileChipDeleteBtn").click()
    settle(page)
    files.set_input_files(files=[{"name": "roster.xlsx", "mimeType": XLSX, "buffer": data}])
    expect(note).to_be_visible(timeout=60_000)
    expect(page.get_by_role("combobox", name="Sheet")).to_have_value("Roster")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    add.click()
    expect(page.get_by_text("added: 5 new roles")).to_be_visible(timeout=60_000)
    with session_factory(app.engine)() as s:
        assert list(s.scalars(select(Upload.sheet))) == ["Roster"]
        assert set(s.scalars(select(Role.title))) == set(TITLES) - {"TBD"}  # a placeholder is no role

    # A file over the limit is refused by Streamlit before the server buffers it.
    page.get_by_test_id("stFileChipDeleteBtn").click()
    settle(page)
    big = b"Job Title\n" + b"Registered Nurse\n" * (UPLOAD_LIMIT_MB * 1024 * 1024 // 17 + 1000)
    files.set_input_files(files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": big}])
    expect(page.get_by_test_id("stFileChipIconError")).to_be_visible(timeout=30_000)
    with session_factory(app.engine)() as s:
        assert s.query(Upload).count() == 1
