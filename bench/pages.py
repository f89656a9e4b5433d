"""The dashboard measured in a real browser by `scripts/measure_pages.py`, with the RSS of its streamlit server.

Section 2 reports the render and interaction times, section 4 the memory; whichever runs first measures,
the other reuses the measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.context import Bench
from bench.measure import RssSampler, children_matching
from bench.report import Check, Table
from bench.stores import StoreInfo
from scripts import measure_pages

RENDER_TARGET_S = measure_pages.RENDER_TARGET_S
INTERACTION_TARGET_S = measure_pages.INTERACTION_TARGET_S


@dataclass
class DashboardMeasurement:
    """The results of measure_pages (seconds), the server's RSS over the run, or why it failed."""

    store: StoreInfo
    results: dict[str, Any] = field(default_factory=dict)
    rss_peak_mb: float = float("nan")
    rss_median_mb: float = float("nan")
    error: str | None = None

    @property
    def pages(self) -> dict[str, dict[str, Any]]:
        return self.results.get("pages", {})

    def floor(self, name: str) -> float:
        """First render of the reference page (`bare_page` or `one_plotly_chart`), s."""
        return self.results.get("stack_floor", {}).get(name, float("nan"))

    def table(self) -> Table:
        table = Table(f"Dashboard pages in chromium, {self.store.backend} store of {self.store.orders:,} orders, s",
                      ["page", "first render", "first render, fresh browser", "interactions"])
        for name, result in self.pages.items():
            steps = ", ".join(f"{label} {seconds:.2f}" for label, seconds in result["interactions"].items())
            table.add(name, f"{result['first_render']:.2f}", f"{result['fresh_browser_first_render']:.2f}",
                      steps or "—")
        if self.results:
            table.notes.append(f"The stack's floor on this machine (`scripts/reference_page.py`, same browser, "
                               f"scripts cached): a bare Streamlit page {self.floor('bare_page'):.2f} s, one with a "
                               f"single small Plotly chart {self.floor('one_plotly_chart'):.2f} s.")
            table.notes.append(f"The server's very first page view (nothing cached): "
                               f"{self.results['server_first_render']:.2f} s; the filters' values (listed in the "
                               f"background) were ready after {self.results['filters_listed_after']:.1f} s.")
        table.notes.append("Measured by `scripts/measure_pages.py`: `streamlit run app.py` and headless chromium; "
                           "first render = a new session in a browser with the app's scripts cached (median), "
                           "fresh browser = nothing cached in the browser; interactions from the click to the "
                           "rerun drawn.")
        if self.error:
            table.notes.append(f"The measurement failed: {self.error}")
        return table

    def metrics(self) -> dict[str, Any]:
        return {"orders": self.store.orders, **self.results, "error": self.error}

    def checks(self) -> list[Check]:
        scale = f"{self.store.orders:,} orders"
        if not self.pages:
            return [Check(f"dashboard first render < {RENDER_TARGET_S:g} s at {scale}", "not measured", False,
                          self.error or ""),
                    Check(f"dashboard interaction < {INTERACTION_TARGET_S:g} s at {scale}", "not measured", False)]
        render, render_page = max((result["first_render"], name) for name, result in self.pages.items())
        first_view = self.results["server_first_render"]
        steps = [(seconds, f"{name}: {label}") for name, result in self.pages.items()
                 for label, seconds in result["interactions"].items()]
        interaction, where = max(steps) if steps else (float("nan"), "none measured")
        return [
            Check(f"dashboard first render < {RENDER_TARGET_S:g} s at {scale}",
                  f"{render:.2f} s (slowest: {render_page})", render < RENDER_TARGET_S,
                  self.error or f"a page with one small Plotly chart and nothing else takes "
                                f"{self.floor('one_plotly_chart'):.2f} s here"),
            Check(f"dashboard first render < {RENDER_TARGET_S:g} s at {scale}, server's very first view",
                  f"{first_view:.2f} s", first_view < RENDER_TARGET_S,
                  f"filters' values ready after {self.results['filters_listed_after']:.0f} s"),
            Check(f"dashboard interaction < {INTERACTION_TARGET_S:g} s at {scale}",
                  f"{interaction:.2f} s (slowest: {where})", interaction < INTERACTION_TARGET_S),
        ]


def dashboard_measurement(bench: Bench, store: StoreInfo) -> DashboardMeasurement:
    """Measure the dashboard on `store` once per run (a later call returns the same measurement)."""
    key = f"dashboard:{store.url}"
    if key not in bench.shared:
        bench.shared[key] = _measure(bench, store)
    return bench.shared[key]


def _measure(bench: Bench, store: StoreInfo) -> DashboardMeasurement:
    bench.log(f"dashboard: measuring every page in chromium on the {store.backend} store of {store.orders:,} orders")
    measurement = DashboardMeasurement(store)
    with RssSampler(lambda: next(iter(children_matching("streamlit")), None), tree=True) as rss:
        try:
            measurement.results = measure_pages.measure(store.url, bench.profile.page_runs,
                                                        bench.profile.settle_timeout_s)
        except Exception as failure:  # noqa: BLE001 - reported in the table, the run goes on
            measurement.error = " ".join(f"{type(failure).__name__}: {failure}".split())[:300]
    measurement.rss_peak_mb = rss.peak_mb
    measurement.rss_median_mb = rss.median_mb
    return measurement
