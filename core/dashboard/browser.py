"""Driving the real dashboard: a `streamlit run` server on a free port and headless Debian chromium.

Used by the browser test and by `scripts/measure_pages.py`. A page counts as rendered when its
script has stopped running, no lazy-loading skeleton is left and every Plotly chart has drawn.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from core.config import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGE_PATHS = {
    "overview": "/",
    "compare": "/compare",
    "breakdown": "/breakdown",
    "orders": "/orders",
    "sync_health": "/sync_health",
}
RENDERED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""
# Installed before every page load: remembers when the app's script state changed.
STATE_RECORDER_JS = """
window.__scriptStates = [];
new MutationObserver((mutations) => {
  for (const m of mutations) {
    window.__scriptStates.push({state: m.target.getAttribute('data-test-script-state'), t: performance.now()});
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_server(database_url: str, *, script: str = "app.py", startup_timeout: float = 60.0) -> Iterator[str]:
    """`streamlit run <script>` (a path from the repo root) against `database_url`; yields its base URL and stops
    it afterwards."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1", "--server.fileWatcherType=none",
               "--browser.gatherUsageStats=false"]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited with {server.returncode}: {server.stdout.read()[-2000:]}")
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {base} within {startup_timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Headless Debian chromium (Playwright cannot download browsers here)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def new_context(browser, *, width: int = 1400, height: int = 1000,  # type: ignore[no-untyped-def]
                downloads: bool = False):
    """A browser profile (own cookies and HTTP cache) whose pages record script-state changes (see `wait_rerun`)."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=downloads)
    context.add_init_script(STATE_RECORDER_JS)
    return context


def new_page(browser, **options):  # type: ignore[no-untyped-def]
    """A page in a fresh profile: a new Streamlit session with nothing cached in the browser."""
    return new_context(browser, **options).new_page()


def wait_rendered(page, timeout_ms: float = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page's script stopped and every element has drawn."""
    page.wait_for_function(RENDERED_JS, timeout=timeout_ms)


def mark(page) -> float:  # type: ignore[no-untyped-def]
    """The page's clock now (ms), to pass to `wait_rerun` before an interaction."""
    return float(page.evaluate("() => performance.now()"))


def wait_rerun(page, since: float, timeout_ms: float = 60_000) -> float:  # type: ignore[no-untyped-def]
    """Wait until a rerun started after `since` has finished and drawn; returns its duration in ms from `since`."""
    finished = (f"() => (window.__scriptStates || []).some(s => s.state === 'notRunning' && s.t > {since})"
                f" && ({RENDERED_JS})()")
    page.wait_for_function(finished, timeout=timeout_ms)
    return mark(page) - since


def filters_pending(page) -> bool:  # type: ignore[no-untyped-def]
    """True while the page says the filters' values are still being listed."""
    return "still being listed" in (page.locator("[data-testid='stSidebar']").text_content() or "")


def wait_for_filters(page, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """Reload the (drawn) page until its filters' values have been listed, or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while filters_pending(page) and time.monotonic() < deadline:
        time.sleep(2)
        page.reload()
        wait_rendered(page)
