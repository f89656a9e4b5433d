"""The real dashboard in a real browser: `streamlit run app.py` on the demo store, driven by headless chromium.

Screenshots of every page land in artifacts/screenshots/ (gitignored) for people to look at.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.analytics import Analytics
from core.config import load_settings
from core.dashboard.browser import (CHROMIUM, PAGE_PATHS, filters_pending, launch_chromium, mark, new_page,
                                    streamlit_server, wait_for_filters, wait_rendered, wait_rerun)
from tests.test_dashboard_app import demo_store  # noqa: F401 - the shared session fixture

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's chromium through Playwright (skipped only outside CI when it is not installed)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser test needs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard(demo_store: str, chromium) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    """The dashboard served on the demo store, once its filters' values have been listed."""
    with streamlit_server(demo_store) as base_url:
        page = new_page(chromium)
        page.goto(base_url + "/compare")
        wait_rendered(page)
        wait_for_filters(page, timeout=120)
        assert not filters_pending(page)
        page.context.close()
        yield base_url


def _shown_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("[data-testid='stMain']").inner_text()


def test_every_page_renders_and_is_photographed(chromium, dashboard: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(chromium, height=2200)
    for name, path in PAGE_PATHS.items():
        page.goto(dashboard + path)
        wait_rendered(page)
        assert page.locator("[data-testid='stException']").count() == 0, name
        assert "Data as of" in _shown_text(page), name
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.context.close()


def test_compare_view_totals_dimension_switch_and_csv(  # type: ignore[no-untyped-def]
        chromium, dashboard: str, demo_store: str) -> None:  # noqa: F811
    analytics = Analytics.from_settings(replace(load_settings(dotenv=False), database_url=demo_store))
    page = new_page(chromium, height=2200, downloads=True)
    page.goto(dashboard + "/compare")
    wait_rendered(page)
    text = _shown_text(page)
    for shown in ("Nov 2024 · registrations", "1,163", "Nov 2025 · registrations", "1,447", "+284 (+24.4%)"):
        assert shown in text

    since = mark(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Compare by").click()
    page.get_by_role("option", name="Site (store)", exact=True).click()
    wait_rerun(page, since)
    assert "by=site" in page.url

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").last.click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    expected = analytics.compare_periods("2024-11", "2025-11", by="site").rows
    assert [row["Code"] for row in rows] == [row.key for row in expected]
    assert [int(row["Nov 2025"]) for row in rows] == [row.b for row in expected]
    assert sum(int(row["Nov 2024"]) for row in rows) == 1163
    assert download.value.suggested_filename == "compare_2024-11_vs_2025-11_by_site.csv"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "compare_by_site.png"), full_page=True)
    page.context.close()


def test_a_shared_link_opens_the_same_view(chromium, dashboard: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(chromium)
    page.goto(dashboard + "/compare?a=2025-10&b=2025-11&status_group=complete")
    wait_rendered(page)
    text = _shown_text(page)
    assert "Oct 2025 · registrations" in text and "Filters: Status group: Выполнен (complete)" in text
    page.get_by_role("link", name="Breakdown").click()
    wait_rendered(page)
    assert "status_group=complete" in page.url
    assert "Filters: Status group: Выполнен (complete)" in _shown_text(page)
    page.context.close()
