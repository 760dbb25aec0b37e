"""Review at the scale of the file, in Chromium: a laptop-size screen, a bulk decision by search with undo
after a reload, and deleting an upload whose counts then agree everywhere (SQLite and Postgres).

Screenshots (viewport only: what the analyst sees without scrolling) go to test-artifacts/; the ones
in docs/screenshots/ are copied from there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from jobforge.ingest.uploads import create_upload
from jobforge.mapping.service import map_roles
from jobforge.projects import create_project, project_stats
from jobforge.ui.badges import STATUS_LABELS
from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, LiveApp
from tests.browser.test_journey import settle

pytestmark = pytest.mark.browser
USER = "Bulk Analyst"
GRID = 'iframe[title*="agGrid"]'
HELP_DESK = ["Help Desk Agent", "Help Desk Technician", "Help Desk Coordinator"]
ROSTER = "Job Title,Job Family\n" + "".join(
    f"{title},{family}\n"
    for title, family in [
        *[(title, "Service") for title in HELP_DESK for _ in range(2)],
        ("Registered Nurse", "Clinical"),
        ("Registered Nurse", "Clinical"),
        ("Staff Accountant", "Finance"),
        ("Truck Driver", "Logistics"),
        ("Line Cook", "Hospitality"),
        ("Chief Happiness Wizard", "Executive"),
        ("TBD", "Service"),
    ]
)
EXTRA = "Job Title,Job Family\nRegistered Nurse,Clinical\nForklift Wrangler,Logistics\nVacant,Logistics\n"


def _prepare(app: LiveApp) -> int:
    with session_factory(app.engine)() as s:
        project = create_project(s, "Hospital", USER)
        s.commit()
        for name, text in (("roster.csv", ROSTER), ("extra.csv", EXTRA)):
            create_upload(s, project.id, name, text.encode(), None, "Job Title", {"job_family": "Job Family"}, [], USER)
        map_roles(s, project.id, provider="offline")
        s.commit()
        return project.id


def _open(browser: Browser, app: LiveApp, project: int, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "jobforge_user", "value": USER, "domain": urlparse(app.url).hostname, "path": "/"}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{app.url}/?project={project}")
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible(timeout=60_000)
    expect(page.frame_locator(GRID).locator(".ag-row").first).to_be_visible(timeout=60_000)
    settle(page)
    return page


def _shot(page: Page, app: LiveApp, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / f"{app.store}-{name}.png"))


def _when(check: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _help_desk(app: LiveApp) -> list[Mapping]:
    with session_factory(app.engine)() as s:
        return list(s.scalars(select(Mapping).join(Role).where(Role.title.in_(HELP_DESK))))


def _in_view(page: Page, locator_box: dict | None, height: int) -> bool:
    return locator_box is not None and locator_box["y"] >= 0 and locator_box["y"] + locator_box["height"] <= height


def _in_panel(page: Page, text: str, width: int, height: int) -> bool:
    """Whether ``text`` is shown in the detail panel (the right-hand column) without scrolling."""
    for item in page.get_by_text(text, exact=True).all():
        box = item.bounding_box()
        if box and box["x"] > width * 0.5 and _in_view(page, box, height):
            return True
    return False


def _check_laptop_screen(page: Page, app: LiveApp, width: int, height: int) -> None:
    """Title, proposal, tier, status and Confirm are on screen without scrolling; the grid row is the open role."""
    heading = page.get_by_test_id("stHeading").filter(has=page.locator("h3")).first
    expect(heading).to_be_visible()
    _shot(page, app, f"review-{width}x{height}")
    title = heading.inner_text().strip()
    mapping = _mapping(app, title)
    confirm = page.get_by_role("button", name=re.compile(r"^Confirm Shortcut"))
    for element in (heading, confirm, page.get_by_text(mapping.onet_code or "No proposal").last):
        assert _in_view(page, element.bounding_box(), height), f"not visible at {width}×{height} without scrolling"
    assert _in_panel(page, mapping.tier, width, height), "the tier is not visible without scrolling"
    assert _in_panel(page, STATUS_LABELS[mapping.status], width, height), "the status is not visible"
    selected = page.frame_locator(GRID).locator(".ag-pinned-left-cols-container .ag-row-selected")
    expect(selected).to_contain_text(title)


def _scroll_to_top(page: Page) -> None:
    page.evaluate("document.querySelectorAll('[data-testid=stMain], section.main').forEach(e => e.scrollTo(0, 0))")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)


def _mapping(app: LiveApp, title: str) -> Mapping:
    with session_factory(app.engine)() as s:
        return s.scalar(select(Mapping).join(Role).where(Role.title == title))


@pytest.mark.timeout(600)
def test_bulk_by_search_undo_after_reload_delete_an_upload_and_screens_that_fit(
    live_app: LiveApp, chromium_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    app = live_app
    project = _prepare(app)
    before = {m.role_id: (m.onet_code, m.status) for m in _help_desk(app)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        for width, height in ((1920, 1080), (1366, 768)):
            page = _open(browser, app, project, width, height)
            _check_laptop_screen(page, app, width, height)

        # Bulk by search: every "help desk" role gets 43-4051.00 in one step, after a preview.
        search = page.get_by_label("Search titles")
        search.fill("help desk")
        search.press("Enter")
        settle(page)
        with session_factory(app.engine)() as s:
            roles = project_stats(s, project).roles
        expect(page.get_by_text(f"3 of {roles} roles match the filters")).to_be_visible()
        page.get_by_text(re.compile(r"^Apply one code to many roles: 3 \(the search")).click()  # the toggle
        settle(page)
        page.get_by_label("Occupation to apply").fill("43-4051")
        page.get_by_label("Occupation to apply").press("Enter")
        settle(page)
        expect(page.get_by_text(re.compile(r"3 roles · 6 rows \(employees\) would get 43-4051\.00"))).to_be_visible()
        _shot(page, app, "review-bulk-1366x768")
        page.get_by_role("button", name="Apply 43-4051.00 to 3 roles").click()
        settle(page)
        assert _when(lambda: all(m.decided_in_bulk for m in _help_desk(app)))
        assert {m.onet_code for m in _help_desk(app)} == {"43-4051.00"}

        # Clearing the search: the highlighted row is still the role the panel shows.
        search.fill("")
        search.press("Enter")
        settle(page)
        _scroll_to_top(page)
        _check_laptop_screen(page, app, width, height)

        # A reload: a new session. The project is still open (in the URL) and the undo comes from the server.
        page.reload()
        expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible(timeout=60_000)
        settle(page)
        undo = page.get_by_role("button", name=re.compile(r"Undo: applied 43-4051\.00 to 3 role"))
        expect(undo).to_be_visible()
        undo.click()
        settle(page)
        assert _when(lambda: not any(m.decided_in_bulk for m in _help_desk(app)))
        assert {m.role_id: (m.onet_code, m.status) for m in _help_desk(app)} == before

        # Delete the second upload on the Projects page: its own roles go, the shared nurse keeps 2 rows.
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Projects").click()
        expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
        settle(page)
        expect(page.get_by_text("2 row(s) have no title (2 of them placeholders")).to_be_visible()
        row = page.get_by_test_id("stHorizontalBlock").filter(has_text="extra.csv").last
        row.get_by_role("button", name=re.compile("Delete$")).click()
        settle(page)
        page.get_by_role("button", name="Yes, delete the upload").scroll_into_view_if_needed()
        _shot(page, app, "projects-delete-upload-1366x768")
        page.get_by_role("button", name="Yes, delete the upload").click()
        settle(page)
        expect(page.get_by_text("1 roles only it contributed were deleted, 1 shared roles keep")).to_be_visible()
        _shot(page, app, "projects-deleted-upload-1366x768")
        with session_factory(app.engine)() as s:
            assert s.scalar(select(Role.row_count).where(Role.title == "Registered Nurse")) == 2
            assert s.scalar(select(Role.id).where(Role.title == "Forklift Wrangler")) is None
            stats = project_stats(s, project)
        expect(page.get_by_test_id("stMetric").filter(has_text="Spreadsheet rows")).to_contain_text(f"{stats.rows:,}")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Review").click()
        settle(page)
        expect(page.get_by_text(f"{stats.roles} of {stats.roles} roles match the filters")).to_be_visible()
        browser.close()
