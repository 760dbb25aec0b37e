"""Upload in Chromium: titles that differ only by a place, a store number or a gender tag are one
role, and the page says which were merged. Screenshots at 1366×768 and 1920×1080 go to
test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp
from tests.browser.test_journey import create_project, sign_in
from tests.browser.test_upload_sheets import shot

pytestmark = pytest.mark.browser
CSV = (
    "Job Title,Store\n"
    "Store Manager - Store #123,123\n"
    "Store Manager - Dallas TX,221\n"
    "Store Manager - Austin TX,305\n"
    "Store Mgr 127,127\n"
    "Store Manager,400\n"
    "Cashier (m/w/d),400\n"
    "Cashier - 2nd Shift,221\n"
    "C++ Developer,1\n"
    "C# Developer,1\n"
)


def test_the_upload_page_lists_merged_titles(live_app: LiveApp, browser_page: Page) -> None:
    page, app = browser_page, live_app
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(app.url)
    sign_in(page, "Merge Analyst")
    create_project(page, "Stores")
    files = page.locator('input[type="file"]')
    files.set_input_files(files=[{"name": "stores.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    merged = page.get_by_text("2 roles merge titles written differently")
    expect(merged).to_be_visible(timeout=60_000)
    merged.click()
    expect(page.get_by_text("“Store Manager - Store #123” + 3 others → “Store Manager” (5 rows)")).to_be_visible()
    expect(page.get_by_text("“Cashier - 2nd Shift” → “Cashier (m/w/d)” (2 rows)")).to_be_visible()
    expect(page.get_by_role("button", name="Add 4 roles to the project")).to_be_visible()
    shot(page, app, "upload-merged-1366x768")
    page.set_viewport_size({"width": 1920, "height": 1080})
    shot(page, app, "upload-merged-1920x1080")
