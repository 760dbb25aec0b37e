"""The journey's LLM variant (issue 12's done-when): with the fake server scripted as a model that
reads "Member of Technical Staff" as "Software Developers", the Upload page's estimate includes the
readings, the mapping job proposes 15-1252.00, and Review shows the reading in the rationale.

The app runs as a real Streamlit server (and, on Postgres, a worker) talking to the fake LLM server
of this test process through the real Anthropic SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fakes.llm_server import FakeLLMServer
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp
from tests.browser.test_journey import (
    GRID,
    USER,
    click_until_shown,
    create_project,
    go,
    mapping_of,
    settle,
    shot,
    sign_in,
)

pytestmark = pytest.mark.browser
MTS = "Member of Technical Staff"
TITLES = [MTS, "Line Cook", "Staff Accountant"]


@pytest.fixture
def fake_model() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        server.readings[MTS] = ["Software Developers"]
        yield server


@pytest.fixture
def live_app_env(fake_model: FakeLLMServer) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "test-anthropic-key",
        "JOBFORGE_ANTHROPIC_BASE_URL": fake_model.anthropic_base_url,
        "JOBFORGE_PROVIDER": "anthropic",
        "JOBFORGE_LLM_RETRY_BASE_DELAY": "0.001",
    }


@pytest.mark.timeout(600)
def test_the_models_reading_reaches_review(live_app: LiveApp, browser_page: Page, fake_model: FakeLLMServer) -> None:
    page, app = browser_page, live_app
    page.goto(app.url)
    sign_in(page, USER)
    create_project(page, "LLM journey")

    data = ("Job Title\n" + "\n".join(TITLES) + "\n").encode()
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "roles.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Add 3 roles to the project").click()
    expect(page.get_by_text("added: 3 new roles")).to_be_visible(timeout=60_000)
    settle(page)
    page.get_by_test_id("stRadio").get_by_text("Anthropic Claude").click()
    settle(page)
    expect(
        page.get_by_text(re.compile(r"including the model's readings of ~\d+ weakly matched titles"))
    ).to_be_visible()
    click_until_shown(
        page,
        page.get_by_role("button", name="Map 3 unmapped roles"),
        page.get_by_test_id("stProgress").or_(page.get_by_text("Mapping finished")),
    )
    expect(page.get_by_text("Mapping finished")).to_be_visible(timeout=180_000)

    mts = mapping_of(app, MTS)
    assert mts.onet_code == "15-1252.00" and "from the model's reading 'Software Developers'" in mts.rationale
    assert any("readings" in (call.schema or {}).get("properties", {}) for call in fake_model.model_calls())

    go(page, "Review", "Review")
    grid = page.frame_locator(GRID)
    grid.locator('.ag-cell[col-id="Title"]', has_text=re.compile(f"^{re.escape(MTS)}$")).first.click()
    expect(page.get_by_role("heading", name=MTS, exact=True)).to_be_visible()
    expect(page.get_by_text("from the model's reading 'Software Developers'").first).to_be_visible()
    shot(page, app, "llm-reading-review")
