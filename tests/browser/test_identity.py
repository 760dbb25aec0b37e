"""Who is who, in two real browsers against `streamlit run` (SQLite and Postgres).

Without OIDC the name belongs to a browser session (and that browser's cookie), never to the server:
a second browser is asked its own name, never signed in as the first; "Switch user" in one browser
leaves the other signed in; each browser's actions are recorded under its own name; once an admin
adds a second user, each sees only their projects.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Project
from tests.browser.conftest import ARTIFACTS, LiveApp
from tests.browser.test_journey import settle

ADMIN, ANALYST = "Ada Admin", "Bea Analyst"


def _sign_in(page: Page, url: str, name: str) -> None:
    page.goto(url)
    expect(page.get_by_text("Who are you?")).to_be_visible(timeout=60_000)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible(timeout=60_000)
    settle(page)


def _signed_in_as(page: Page) -> str:
    return page.get_by_test_id("stSidebar").get_by_text("Signed in as").inner_text()


def _create_project(page: Page, name: str) -> None:
    if not page.get_by_label("Project name").is_visible():
        page.get_by_text("New project").click()
    page.get_by_label("Project name").fill(name)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Upload roles")).to_be_visible(timeout=30_000)
    settle(page)


def _projects_offered(page: Page) -> list[str]:
    """The projects the Projects page lets this browser open."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Projects").click()
    settle(page)
    page.get_by_test_id("stMain").get_by_label("Open a project").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = [text.strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    settle(page)
    return names


def _new_tab(app: LiveApp, context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app.url)
    settle(page)
    return page


def test_two_browsers_are_two_people(live_app: LiveApp, browser_page: Page) -> None:
    app, page_a = live_app, browser_page
    browser = page_a.context.browser
    _sign_in(page_a, app.url, ADMIN)
    assert ADMIN in _signed_in_as(page_a) and "admin" in _signed_in_as(page_a)  # the store's first user

    # Browser B is asked who it is: it is not signed in as the last person who typed a name.
    context_b = browser.new_context(viewport={"width": 1366, "height": 768})
    page_b = context_b.new_page()
    page_b.set_default_timeout(30_000)
    _sign_in(page_b, app.url, ANALYST)
    assert ANALYST in _signed_in_as(page_b)
    _create_project(page_b, "Bea's roles")

    # A new tab of browser A is still A (its own cookie), not B.
    again_a = _new_tab(app, page_a.context)
    expect(again_a.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_contain_text(ADMIN)
    with session_factory(app.engine)() as s:
        project = s.scalar(select(Project).where(Project.name == "Bea's roles"))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "create_project"))
    assert project.created_by == ANALYST and event.user == ANALYST

    # A (admin) adds B as an analyst: from now on each sees only their projects.
    again_a.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    expect(again_a.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    again_a.get_by_role("tab", name="Users").click()
    again_a.get_by_label("Name (as they sign in").fill(ANALYST)
    again_a.get_by_role("button", name="Add user").click()
    expect(again_a.get_by_text(f"{ANALYST} is now an analyst")).to_be_visible()
    settle(again_a)
    again_a.screenshot(path=str(ARTIFACTS / f"{app.store}-identity-users.png"), full_page=True)
    again_a.get_by_test_id("stSidebarNav").get_by_role("link", name="Projects").click()
    settle(again_a)
    _create_project(again_a, "Ada's roles")

    page_b.reload()
    settle(page_b)
    expect(page_b.get_by_text("Signed in as")).to_contain_text(f"{ANALYST} · analyst")
    sidebar_b = page_b.get_by_test_id("stSidebar")
    expect(sidebar_b.get_by_role("link", name="Admin")).to_have_count(0)
    assert _projects_offered(page_b) == ["Bea's roles"]
    assert set(_projects_offered(again_a)) == {"Bea's roles", "Ada's roles"}  # admins see every project

    # "Switch user" in B signs out B only; A stays signed in.
    page_b.get_by_role("button", name="Switch user").click()
    expect(page_b.get_by_text("Who are you?")).to_be_visible()
    page_b.reload()
    expect(page_b.get_by_text("Who are you?")).to_be_visible(timeout=60_000)  # B's browser forgot the name
    again_a.reload()
    settle(again_a)
    expect(again_a.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_contain_text(ADMIN)
    context_b.close()
