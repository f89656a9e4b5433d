"""Measure the dashboard as a manager feels it: first render and interaction times per page, in chromium.

    DATABASE_URL=sqlite:///data/demo.db python scripts/measure_pages.py [--runs 3] [--json out.json]

First measures the stack's floor: `scripts/reference_page.py`, a bare Streamlit page and one with a single
small Plotly chart, which no page of ours can beat on this machine. Then starts `streamlit run app.py`
against the store and opens the Overview once: the server's very first
page view (nothing cached: the core loads the store). It waits until the filters' values have been
listed in the background, then for every page measures the first render of a new session in a
browser that has the app's scripts cached (the median of --runs), the same in a fresh browser profile,
and, where the page has them, interactions (from the click to the rerun drawn). A page counts as
drawn when its script stopped, no skeleton is left and every chart has drawn (see
core.dashboard.browser). Targets: render < 2 s, interaction < 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from core.config import load_settings  # noqa: E402
from core.dashboard.browser import (PAGE_PATHS, launch_chromium, mark, new_context, streamlit_server,  # noqa: E402
                                    wait_for_filters, wait_rendered, wait_rerun)

RENDER_TARGET_S = 2.0
INTERACTION_TARGET_S = 0.5


Interaction = tuple[Callable[[], None], Callable[[], None]]  # (prepare, commit): only the commit is timed


def _pick(page: Page, label: str | int, option: str) -> Interaction:
    """Open the selectbox labelled `label` (or the `label`-th of the page), type `option`; commit: click it."""
    def prepare() -> None:
        boxes = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']")
        (boxes.nth(label) if isinstance(label, int) else boxes.filter(has_text=label).first).click()
        page.keyboard.type(option)
        page.get_by_role("option", name=option, exact=True).wait_for()

    return prepare, lambda: page.get_by_role("option", name=option, exact=True).click()


def _toggle(page: Page, label: str) -> Interaction:
    switch = page.locator("[data-testid='stCheckbox']").filter(has_text=label).first
    return switch.wait_for, switch.click


def _search(page: Page, text: str) -> Interaction:
    box = page.get_by_role("textbox", name="Order number")
    return lambda: box.fill(text), lambda: box.press("Enter")


def interactions(name: str, page: Page) -> list[tuple[str, Interaction]]:
    """The interactions measured on a page (each commit causes one rerun)."""
    if name == "compare":
        return [("compare by site", _pick(page, "Compare by", "Site (store)")),
                ("align weekdays", _toggle(page, "Align weekdays")),
                ("previous month", _pick(page, 0, "Oct 2024"))]
    if name == "breakdown":
        return [("group by city", _pick(page, "Group by", "Delivery city")),
                ("then by site", _pick(page, "Then by", "Site (store)"))]
    if name == "orders":
        return [("search a number", _search(page, "1A")), ("clear the search", _search(page, ""))]
    return []


def render_time(page: Page, url: str) -> float:
    """Seconds from navigation to the page fully drawn."""
    started = time.perf_counter()
    page.goto(url)
    wait_rendered(page)
    return time.perf_counter() - started


def settle(browser, base: str, timeout: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The server's very first page view (nothing cached anywhere), then how long until the filters are listed."""
    page = new_context(browser).new_page()
    started = time.perf_counter()
    first = render_time(page, base + PAGE_PATHS["overview"])
    wait_for_filters(page, timeout)
    ready = time.perf_counter() - started
    page.context.close()
    return {"server_first_render": first, "filters_listed_after": ready}


def stack_floor(browser, database_url: str, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """First render (median of `runs`, scripts cached) of `scripts/reference_page.py`: a bare Streamlit page, and
    one holding a single small Plotly chart. What no page of ours can beat on this machine."""
    floor: dict[str, float] = {}
    with streamlit_server(database_url, script="scripts/reference_page.py") as base:
        profile = new_context(browser)
        for name, path in (("bare_page", "/?chart=none"), ("one_plotly_chart", "/")):
            first = profile.new_page()
            render_time(first, base + path)  # fills the browser's cache, as a page's fresh-browser view does
            first.close()
            times = []
            for _ in range(runs):
                page = profile.new_page()
                times.append(render_time(page, base + path))
                page.close()
            floor[name] = statistics.median(times)
        profile.close()
    return floor


def measure(database_url: str, runs: int, settle_timeout: float) -> dict[str, object]:
    """The stack's floor, the server's first view, then every page's first render (fresh and warm browser) and
    interactions."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        floor = stack_floor(browser, database_url, runs)
        with streamlit_server(database_url) as base:
            start = settle(browser, base, settle_timeout)
            pages = _measure_pages(browser, base, runs)
        browser.close()
    return {**start, "stack_floor": floor, "pages": pages}


def _measure_pages(browser, base: str, runs: int) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every page's first render (fresh and warm browser) and interactions on the server at `base`."""
    pages: dict[str, dict[str, object]] = {}
    for name, path in PAGE_PATHS.items():
        profile = new_context(browser)
        fresh = profile.new_page()
        fresh_render = render_time(fresh, base + path)
        fresh.close()
        warm: list[float] = []
        timings: dict[str, list[float]] = {}
        for _ in range(runs):
            page = profile.new_page()
            warm.append(render_time(page, base + path))
            for label, (prepare, commit) in interactions(name, page):
                prepare()
                since = mark(page)
                commit()
                timings.setdefault(label, []).append(wait_rerun(page, since) / 1000)
            page.close()
        profile.close()
        pages[name] = {"fresh_browser_first_render": fresh_render, "first_render": statistics.median(warm),
                       "interactions": {label: statistics.median(values) for label, values in timings.items()}}
    return pages


def report(results: dict[str, object]) -> str:
    """A Markdown table of the results, with the targets."""
    floor: dict[str, float] = results["stack_floor"]  # type: ignore[assignment]
    lines = [f"Server's first page view: {results['server_first_render']:.1f} s; "
             f"filters listed after {results['filters_listed_after']:.1f} s.",
             f"The stack's floor (scripts/reference_page.py): a bare Streamlit page {floor['bare_page']:.2f} s, "
             f"with one small Plotly chart {floor['one_plotly_chart']:.2f} s.", "",
             "| page | first render (s) | first render, fresh browser (s) | interactions (s) |",
             "| --- | ---: | ---: | --- |"]
    for name, result in results["pages"].items():  # type: ignore[attr-defined]
        steps = ", ".join(f"{label} {seconds:.2f}" for label, seconds in result["interactions"].items()) or "—"
        lines.append(f"| {name} | {result['first_render']:.2f} | {result['fresh_browser_first_render']:.2f} "
                     f"| {steps} |")
    lines.append(f"\nTargets: first render < {RENDER_TARGET_S:g} s, interaction < {INTERACTION_TARGET_S:g} s. "
                 "First render: a new session in a browser that has the app's scripts cached; fresh browser: "
                 "nothing cached in the browser.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL (or the configured store)")
    parser.add_argument("--runs", type=int, default=3, help="new sessions per page (the median is reported)")
    parser.add_argument("--settle-timeout", type=float, default=900,
                        help="seconds to wait for the filters' values to be listed before measuring pages")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    arguments = parser.parse_args()
    database_url = arguments.database_url or os.environ.get("DATABASE_URL") or load_settings().database_url
    results = measure(database_url, max(arguments.runs, 1), arguments.settle_timeout)
    print(report(results))
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
