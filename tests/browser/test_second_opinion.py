"""Second opinions in a real browser (SQLite and Postgres), at 1366×768 and 1920×1080.

Bob codes blind (the page never shows the first decision, here a code that is not even among the
candidates), Cy adjudicates the disagreement, Ada reads the agreement on Admin → Second opinions.
Screenshots go to ``test-artifacts/<store>-opinions-*.png``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, SecondOpinionItem
from jobforge.review.actions import choose_code
from jobforge.review.second_opinion import blind_queue, draw_sample, record_blind_code
from tests.browser.conftest import CHROMIUM_ARGS, LiveApp
from tests.browser.test_journey import settle, shot
from tests.factories import ADMIN, FIRST, SECOND, THIRD, make_decided_project

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
LARGE = {"width": 1920, "height": 1080}


def _open_as(browser: Browser, app: LiveApp, name: str, viewport: dict[str, int], project: int, page_name: str) -> Page:
    """A browser of its own, signed in as ``name`` (the cookie the app sets), on the project's ``page_name``."""
    context = browser.new_context(viewport=viewport)
    host = urlparse(app.url).hostname
    context.add_cookies([{"name": "jobforge_user", "value": name, "domain": host, "path": "/"}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{app.url}/?project={project}")
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=page_name).click()
    expect(page.get_by_role("heading", name=page_name, exact=True)).to_be_visible()
    settle(page)
    return page


def _when(check: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_blind_coding_adjudication_and_agreement(live_app: LiveApp, chromium_path: str) -> None:
    engine = live_app.engine
    made = make_decided_project(engine)
    ids, project = made.role_ids, made.project_id
    with session_factory(engine)() as s:
        choose_code(s, ids["Staff Accountant"], "53-3032.00", FIRST)
    with session_factory(engine)() as s:
        draw_sample(s, project, 3, SECOND, ADMIN, seed=3)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # Bob, on a laptop: the blind queue.
            bob = _open_as(browser, live_app, SECOND, LAPTOP, project, "Second opinions")
            main = bob.get_by_test_id("stMain")
            expect(main.get_by_text("0 of 3 sampled roles coded blind")).to_be_visible()
            shot(bob, live_app, "opinions-blind-1366")
            text = main.inner_text()
            for hidden in ("53-3032", "HIGH", "MEDIUM", "LOW", "Why:", "onfirmed", "verridden", FIRST):
                assert hidden not in text, hidden
            title = main.get_by_role("heading", level=3).first.inner_text().strip()
            main.get_by_role("radio").first.check(force=True)
            main.get_by_role("button", name="Record ").click()
            expect(main.get_by_text("1 of 3 sampled roles coded blind")).to_be_visible()
            item = lambda: _item(live_app, ids[title])  # noqa: E731
            assert _when(lambda: item().answered_at is not None)
            assert item().answered_by == SECOND and item().second_code is not None
            bob.context.close()

            # Bob's other answers (the Staff Accountant differs from Ann's 53-3032.00).
            with session_factory(engine)() as s:
                rest = blind_queue(s, project, SECOND)
            for role in rest:
                with session_factory(engine)() as s:
                    code = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.00"}
                    record_blind_code(s, role.item_id, SECOND, code[role.title])

            # Cy, on a large screen: the adjudication queue.
            cy = _open_as(browser, live_app, THIRD, LARGE, project, "Second opinions")
            main = cy.get_by_test_id("stMain")
            main.get_by_role("tab", name="Adjudicate").click()
            settle(cy)
            shot(cy, live_app, "opinions-adjudicate-1920")
            adjudicated = main.get_by_role("heading", level=3).first.inner_text().strip()
            first = main.get_by_role("button", name="Keep ")
            keep = first.first.inner_text().split()[-1]
            first.first.click()
            settle(cy)
            assert _when(lambda: _mapping(live_app, ids[adjudicated]).confirmed_by == THIRD)
            assert _mapping(live_app, ids[adjudicated]).onet_code == keep
            cy.context.close()

            # Ada: the agreement on Admin, both screen sizes.
            for viewport, name in ((LAPTOP, "1366"), (LARGE, "1920")):
                ada = _open_as(browser, live_app, ADMIN, viewport, project, "Admin")
                ada.get_by_role("tab", name="Second opinions").click()
                settle(ada)
                expect(ada.get_by_text("Inter-coder agreement")).to_be_visible()
                shot(ada, live_app, f"opinions-admin-{name}")
                ada.context.close()
        finally:
            browser.close()


def _item(app: LiveApp, role_id: int) -> SecondOpinionItem:
    with session_factory(app.engine)() as s:
        return s.scalar(select(SecondOpinionItem).where(SecondOpinionItem.role_id == role_id))


def _mapping(app: LiveApp, role_id: int) -> Mapping:
    with session_factory(app.engine)() as s:
        return s.scalar(select(Mapping).where(Mapping.role_id == role_id))
