"""The whole analyst journey in Chromium against the real `streamlit run`: SQLite and Postgres.

Import a codebook, upload a 300-role spreadsheet, map it offline, filter LOW, confirm through the AgGrid grid and the
detail panel, choose another candidate, update the proposals from the decisions, override an attribute, export CSV and check the file.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role, RoleAttribute
from jobforge.review.queries import review_rows
from tests.browser.conftest import ARTIFACTS, LiveApp
from tests.browser.spreadsheet import HOSTILE, roles_csv

pytestmark = pytest.mark.browser
USER = "Browser Analyst"
CODEBOOK = b"Job Title,SOC Code\nData Wrangler,15-1132\nLine Chef,35-2014.00\n"
GRID = 'iframe[title*="agGrid"]'
expect.set_options(timeout=30_000)  # a shared 2-core CI box can be slow; waits end as soon as the page is ready


def settle(page: Page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(250)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(150)


def click_until_shown(page: Page, button: Locator, shown: Locator, attempts: int = 3) -> None:
    """Click ``button`` once the page is idle, until ``shown`` appears (a click that lands while the
    page is redrawing its widgets can be lost on a loaded machine; a second job request is harmless:
    the running job is returned)."""
    for attempt in range(attempts):
        settle(page)
        if attempt and shown.first.is_visible():
            return
        button.click()
        try:
            expect(shown.first).to_be_visible(timeout=30_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def sign_in(page: Page, name: str) -> None:
    """Answer the app's "Who are you?" and wait for the Projects page."""
    expect(page.get_by_text("Who are you?")).to_be_visible(timeout=60_000)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible(timeout=60_000)


def create_project(page: Page, name: str) -> None:
    """Create a project on the Projects page; the app moves on to Upload."""
    page.get_by_label("Project name").fill(name)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Upload roles")).to_be_visible(timeout=30_000)
    settle(page)


def shot(page: Page, app: LiveApp, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{app.store}-{name}.png"), full_page=True)


def go(page: Page, label: str, heading: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=30_000)
    settle(page)


def mapping_of(app: LiveApp, title: str) -> Mapping:
    with session_factory(app.engine)() as s:
        return s.scalar(select(Mapping).join(Role).where(Role.title == title))


def mapping_when(app: LiveApp, title: str, ready: Callable[[Mapping], bool], timeout: float = 30) -> Mapping:
    """The role's mapping once ``ready`` holds: a click's rerun may not have reached the store yet."""
    deadline = time.monotonic() + timeout
    while True:
        mapping = mapping_of(app, title)
        if ready(mapping) or time.monotonic() > deadline:
            return mapping
        time.sleep(0.2)


@pytest.mark.timeout(900)  # the whole journey, on a shared 2-core box; each step waits only as long as it must
def test_upload_map_review_override_export(live_app: LiveApp, browser_page: Page) -> None:
    page, app = browser_page, live_app
    page.goto(app.url)

    # Who: asked once.
    expect(page.get_by_text("Who are you?")).to_be_visible(timeout=60_000)
    shot(page, app, "0-sign-in")
    page.get_by_label("Your name").fill(USER)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible(timeout=60_000)

    # Codebooks: last year's decisions (SOC 2010 codes, translated), imported before any project exists.
    page.get_by_text("Codebooks: titles your organisation already decided").click()
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "last_year.csv", "mimeType": "text/csv", "buffer": CODEBOOK}]
    )
    expect(page.get_by_test_id("stMetric").filter(has_text="To import")).to_contain_text("2", timeout=60_000)
    page.get_by_role("button", name="Import codebook").click()
    expect(page.get_by_text("Imported codebook")).to_be_visible(timeout=60_000)
    settle(page)

    # Projects: create one; the app moves on to Upload.
    page.get_by_label("Project name").fill("Journey")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Upload roles")).to_be_visible(timeout=30_000)
    settle(page)

    # Upload: counts before anything runs.
    data = roles_csv(300)
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "roles.csv", "mimeType": "text/csv", "buffer": data}]
    )
    expect(page.get_by_test_id("stMetric").filter(has_text="Unique roles")).to_contain_text("300", timeout=60_000)
    row_count = len(data.splitlines()) - 1
    expect(page.get_by_test_id("stMetric").filter(has_text="Rows")).to_contain_text(f"{row_count:,}")
    shot(page, app, "2-upload")
    page.get_by_role("button", name="Add 300 roles to the project").click()
    expect(page.get_by_text("added: 300 new roles")).to_be_visible(timeout=60_000)

    # Map offline as a job, with a progress bar, until it finishes.
    click_until_shown(
        page,
        page.get_by_role("button", name="Map 300 unmapped roles"),
        page.get_by_test_id("stProgress").or_(page.get_by_text("Mapping finished")),
    )
    expect(page.get_by_text("Mapping finished")).to_be_visible(timeout=180_000)
    with session_factory(app.engine)() as s:
        assert s.query(Mapping).count() == 300
    shot(page, app, "3-mapped")

    # Review: LOW only.
    go(page, "Review", "Review")
    expect(page.frame_locator(GRID).locator(".ag-row").first).to_be_visible(timeout=60_000)
    shot(page, app, "4-review")
    # A title made of HTML and Markdown is shown as text and never runs.
    hostile = page.frame_locator(GRID).locator('.ag-cell[col-id="Title"]', has_text="<img src=x")
    expect(hostile.first).to_have_text(HOSTILE)
    grid_frame = next(f for f in page.frames if "agGrid" in f.url)
    assert grid_frame.evaluate("window.__xss") is None and page.evaluate("window.__xss") is None
    tiers = page.get_by_test_id("stButtonGroup").filter(has_text="MEDIUM")
    tiers.get_by_role("button", name="HIGH").click()
    settle(page)
    tiers.get_by_role("button", name="MEDIUM").click()
    settle(page)
    with session_factory(app.engine)() as s:
        low = review_rows(s, 1, tiers=["LOW"])
    assert len(low) > 0  # the junk titles in the spreadsheet
    expect(page.get_by_text(f"{len(low):,} of 300 roles match the filters")).to_be_visible()

    grid = page.frame_locator(GRID)

    def open_in_grid(title: str) -> None:
        grid.locator('.ag-cell[col-id="Title"]', has_text=re.compile(f"^{re.escape(title)}$")).first.click()
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        settle(page)

    # A LOW role: open it from the grid, find the right occupation with the search, use it.
    searched = low.iloc[0].title
    open_in_grid(searched)
    shot(page, app, "5-review-detail")
    if not page.get_by_label("Title or code").is_visible():
        page.get_by_text("Search any occupation").click()
    page.get_by_label("Title or code").fill("customer service")
    page.get_by_label("Title or code").press("Enter")
    page.get_by_role("button", name="Use 43-4051.00").click()
    settle(page)
    chosen = mapping_when(app, searched, lambda m: m.status != "proposed")
    assert chosen.onet_code == "43-4051.00" and chosen.status == "overridden" and chosen.confirmed_by == USER

    # Back to every tier: confirm the most uncertain role that has a proposal, from the detail panel.
    tiers.get_by_role("button", name="MEDIUM").click()
    settle(page)
    tiers.get_by_role("button", name="HIGH").click()
    settle(page)
    with session_factory(app.engine)() as s:
        pending = review_rows(s, 1, statuses=["proposed"])
    target = pending[pending["code"].notna()].iloc[0]
    open_in_grid(target.title)
    page.get_by_role("button", name=re.compile(r"^Confirm Shortcut")).click()
    settle(page)
    confirmed = mapping_when(app, target.title, lambda m: m.status != "proposed")
    assert confirmed.status == "confirmed" and confirmed.confirmed_by == USER
    # The next unreviewed role is selected, and the grid shows the new status.
    expect(page.get_by_role("heading", name=target.title, exact=True)).not_to_be_visible()
    row_id = grid.locator(".ag-pinned-left-cols-container .ag-row", has_text=target.title).first.get_attribute("row-id")
    status_cell = grid.locator(f'.ag-center-cols-container .ag-row[row-id="{row_id}"] .ag-cell[col-id="Status"]')
    expect(status_cell).to_have_text("Confirmed")

    # Keyboard: Ctrl+Down skips to the next unreviewed role.
    before = page.get_by_test_id("stHeading").filter(has=page.locator("h3")).first.inner_text().strip()
    page.get_by_role("heading", name="Review", exact=True).click()  # focus the page, not an input
    page.keyboard.press("Control+ArrowDown")
    expect(page.get_by_role("heading", name=before, exact=True)).not_to_be_visible()
    settle(page)

    # Choose another candidate for the role now open.
    heading = page.get_by_test_id("stHeading").filter(has=page.locator("h3")).first.inner_text().strip()
    current = mapping_of(app, heading)
    others = [c["code"] for c in current.candidates if c["code"] != current.onet_code]
    if others:
        page.get_by_test_id("stExpander").filter(has_text=others[0]).first.click()
        page.get_by_role("button", name=f"Choose {others[0]}").click()
        settle(page)
        changed = mapping_when(app, heading, lambda m: m.onet_code != current.onet_code)
        assert changed.onet_code == others[0] and changed.status == "overridden"

    # Update proposals from decisions: a job re-proposes the unreviewed roles; decided ones stay as they are.
    decided = {title: (mapping_of(app, title).onet_code, mapping_of(app, title).status) for title in (searched,)}
    page.get_by_role("button", name=re.compile(r"^Update proposals from decisions \(\d+ new since")).click()
    expect(page.get_by_text("Updating proposals finished")).to_be_visible(timeout=180_000)
    settle(page)
    assert {title: (mapping_of(app, title).onet_code, mapping_of(app, title).status) for title in decided} == decided

    # Attributes: complete the empty cells (inheritance only, as a job), then override one value in place.
    go(page, "Attributes", "Attributes")
    page.get_by_text("Complete missing values").click()
    page.get_by_text("None (inheritance only)").click()
    settle(page)
    page.get_by_role("button", name="Run inheritance + imputation").click()
    expect(page.get_by_text("Completing attributes finished")).to_be_visible(timeout=180_000)
    settle(page)
    expect(page.get_by_text("Vary by person: Years Experience").first).to_be_visible()
    for width, height in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, app, f"6-attributes-{width}x{height}")
    page.set_viewport_size({"width": 1600, "height": 1000})
    search = page.get_by_label("Search titles")
    search.fill(target.title)
    search.press("Enter")
    settle(page)
    with session_factory(app.engine)() as s:
        matching = sorted(
            (title.casefold(), role_id)
            for role_id, title in s.execute(select(Role.id, Role.title))
            if target.title.casefold() in title.casefold()
        )
    position = [role_id for _, role_id in matching].index(target.role_id)
    expect(page.get_by_text(f"{len(matching)} of 300 roles")).to_be_visible()  # the search reached the table
    table = page.get_by_test_id("stDataFrame").first
    editor = page.locator("textarea.gdg-input")
    for _attempt in range(3):  # the canvas may still be drawing the filtered table: try again, briefly
        box = table.bounding_box()
        page.mouse.click(box["x"] + 60, box["y"] + 35 * (position + 1) + 17)  # the role's Title cell
        for _ in range(4):  # Pick, Rows, O*NET code, Education
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(100)
        page.keyboard.press("Enter")  # opens the cell's editor
        try:
            editor.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
            continue
        if editor.is_enabled():
            break
        # A key press was lost while the canvas redrew, so the read-only O*NET code cell opened: one more step.
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        if editor.is_visible() and editor.is_enabled():
            break
        page.keyboard.press("Escape")
        settle(page)
    editor.fill("Master's Degree")
    editor.press("Enter")
    settle(page)
    shot(page, app, "6-attributes-edited")  # (the "Saved" toast may be gone by now: the store says)
    deadline = time.monotonic() + 30
    while True:  # the edit's rerun may still be writing
        with session_factory(app.engine)() as s:
            value = s.scalar(
                select(RoleAttribute).where(
                    RoleAttribute.role_id == int(target.role_id), RoleAttribute.name == "Education"
                )
            )
        if (value is not None and value.source_type == "ANALYST") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    with session_factory(app.engine)() as s:
        analysts = s.execute(
            select(Role.title, RoleAttribute.name, RoleAttribute.value)
            .join(Role)
            .where(RoleAttribute.source_type == "ANALYST")
        ).all()
    assert value is not None and value.source_type == "ANALYST", f"edited {analysts} instead of {target.title}"
    assert value.value == "Master's Degree" and value.updated_by == USER

    # Export CSV and check the downloaded file.
    go(page, "Export", "Export")
    page.get_by_role("button", name="Prepare the file").click()
    download_button = page.get_by_role("button", name=re.compile(r"^Download CSV"))
    expect(download_button).to_be_visible(timeout=60_000)
    shot(page, app, "7-export")
    with page.expect_download() as info:
        download_button.click()
    content = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 300
    row = next(r for r in rows if target.title in r.values())
    assert target.code in row.values()
    assert "confirmed" in row.values() and USER in row.values()
    assert "Master's Degree" in row.values()

    # Every original row: each person's own Years Experience survives exactly as written ("6.50" too).
    page.get_by_text(re.compile(r"^Every original row")).click()
    download_button = page.get_by_role("button", name=re.compile(r"^Download CSV"))
    expect(download_button).to_have_count(0)  # the one-row-per-role file is gone: never download it again
    settle(page)
    page.get_by_role("button", name="Prepare the file").click()
    expect(download_button).to_be_visible(timeout=60_000)
    with page.expect_download() as info:
        download_button.click()
    exported = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_bytes().decode("utf-8-sig"))))
    uploaded = {r["Employee ID"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8")))}
    assert len(exported) == len(uploaded) == row_count
    for out in exported:
        own = uploaded[out["Employee ID"]]["Years Experience"]
        assert out["Years Experience"] == own
        if own:
            assert (out["Years Experience (JobForge)"], out["Years Experience [source]"]) == (own, "SOURCE")
        else:  # an empty cell takes its role's value, never labelled as the row's own
            assert out["Years Experience [source]"] != "SOURCE"
    by_role: dict[str, set[str]] = {}
    for out in exported:
        if out["Years Experience"]:
            by_role.setdefault(out["role_id"], set()).add(out["Years Experience (JobForge)"])
    assert any(len(values) > 1 for values in by_role.values())  # rows of one role keep their different values
    assert any("6.50" in values for values in by_role.values())

    # Home shows the project's figures; Admin shows the audit trail.
    go(page, "Projects", "Projects")
    shot(page, app, "1-projects")
    go(page, "Admin", "Admin")
    page.get_by_role("tab", name="Audit log").click()
    expect(page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]')).to_be_visible()
    shot(page, app, "8-admin")
