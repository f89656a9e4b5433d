"""Section 2: how fast answers are, and how that grows with the store: 10k, 100k and 1M orders, SQLite and
PostgreSQL, warm and cold; the MCP tools through fastmcp; the dashboard pages in a browser.

- Analytics core: every question of `scripts/measure_queries.py` called directly on `Analytics`.
- MCP: every tool through an in-process `fastmcp.Client` (the protocol an agent speaks), at the largest size,
  next to a no-op tool that shows what the protocol alone costs.
- Dashboard: `scripts/measure_pages.py` (streamlit + chromium) at the largest size, on SQLite.

Cold = the first call after a new data version (what follows every sync commit: cached answers and reference
data dropped); warm = the same call again.
"""

from __future__ import annotations

from typing import Any

from fastmcp import FastMCP

from bench.context import Bench
from bench.measure import Samples, percentile, sample
from bench.pages import dashboard_measurement
from bench.questions import TOOL_QUESTIONS
from bench.report import Check, SectionResult, Table
from bench.stores import StoreInfo, new_data_version
from core.analytics import Analytics
from core.config import load_settings
from core.db import get_engine
from core.mcp import create_server
from scripts import measure_queries
from tests.support.mcp_session import McpSession

WARM_TARGET_MS = 5.0
COLD_TARGET_MS = 100.0
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _cell(samples: Samples) -> str:
    return f"{_ms(samples.p50_ms())} / {_ms(samples.p99_ms())}"


def _ms(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def analytics_of(url: str) -> Analytics:
    """The analytics of a store, without an API fallback (everything asked is in the store)."""
    return Analytics(get_engine(url), load_settings({"DATABASE_URL": url}, dotenv=False))


def measure_pair(bench: Bench, url: str, ask: Any) -> tuple[Samples, Samples]:
    """(cold, warm) samples of one call on one store."""
    profile = bench.profile
    ask()  # first use of this question: imports, plans; not what is measured
    cold = sample(ask, count=profile.cold_calls, budget_s=profile.cold_budget_s, before=lambda: new_data_version(url))
    warm = sample(ask, count=profile.warm_calls, budget_s=profile.cold_budget_s)
    return cold, warm


def core_latency(bench: Bench, store: StoreInfo) -> dict[str, tuple[Samples, Samples]]:
    """Cold and warm samples of every core question on one store."""
    analytics = analytics_of(store.url)
    results = {}
    for name, ask in measure_queries.questions(analytics).items():
        bench.log(f"queries: {store.backend} {store.orders:,} orders: {name}")
        results[name] = measure_pair(bench, store.url, ask)
    return results


def mcp_latency(bench: Bench, store: StoreInfo) -> dict[str, tuple[Samples, Samples]]:
    """Cold and warm samples of every MCP tool through an in-process client on one store."""
    session = McpSession(create_server(analytics_of(store.url)))
    try:
        results = {}
        for tool, arguments in TOOL_QUESTIONS:
            bench.log(f"queries: MCP {tool} on {store.backend} {store.orders:,} orders")
            results[tool] = measure_pair(bench, store.url, lambda: session.answer(tool, arguments))
        return results
    finally:
        session.close()


def protocol_floor(bench: Bench) -> Samples:
    """A tool that does nothing, through the same in-process client: the cost of the protocol itself."""
    server = FastMCP("floor")

    @server.tool
    def ping() -> int:
        return 1

    session = McpSession(server)
    try:
        session.call("ping")
        return sample(lambda: session.call("ping"), count=bench.profile.warm_calls, budget_s=bench.profile.cold_budget_s)
    finally:
        session.close()


def run(bench: Bench) -> SectionResult:
    result = SectionResult("queries", "2. Query latency")
    sizes = list(bench.options.sizes)
    stores = bench.stores.ensure(sizes)
    core = {(store.backend, store.size): (store, core_latency(bench, store)) for store in stores}
    largest = [store for store in stores if store.size == max(sizes)]
    mcp = {store.backend: (store, mcp_latency(bench, store)) for store in largest}
    floor = protocol_floor(bench)
    result.tables += _core_tables(bench, core) + [_growth_table(bench, core), _mcp_table(mcp, floor)]
    result.metrics["core"] = {f"{backend}_{size}": {"orders": store.orders, "questions": _raw(samples)}
                              for (backend, size), (store, samples) in core.items()}
    result.metrics["mcp"] = {backend: {"orders": store.orders, "tools": _raw(samples)}
                             for backend, (store, samples) in mcp.items()}
    result.metrics["mcp_noop_p50_ms"] = floor.p50_ms()
    result.checks += _latency_checks(core, mcp, floor, max(sizes))
    sqlite_largest = next(store for store in largest if store.backend == "sqlite")
    pages = dashboard_measurement(bench, sqlite_largest)
    result.tables.append(pages.table())
    result.metrics["dashboard"] = pages.metrics()
    result.checks += pages.checks()
    return result


def _raw(samples: dict[str, tuple[Samples, Samples]]) -> dict[str, dict[str, float]]:
    return {name: {"cold_p50_ms": cold.p50_ms(), "cold_p99_ms": cold.p99_ms(), "cold_calls": len(cold),
                   "warm_p50_ms": warm.p50_ms(), "warm_p99_ms": warm.p99_ms(), "warm_calls": len(warm)}
            for name, (cold, warm) in samples.items()}


def _core_tables(bench: Bench, core: dict[tuple[str, int], Any]) -> list[Table]:
    tables = []
    for backend in bench.stores.backends():
        stores = sorted((key[1], value) for key, value in core.items() if key[0] == backend)
        columns = ["question"]
        for _, (store, _) in stores:
            columns += [f"{store.orders:,} warm p50 / p99", f"{store.orders:,} cold p50 / p99"]
        table = Table(f"Analytics core on {LABELS[backend]}, ms (orders in the store)", columns)
        for name in stores[0][1][1]:
            cells = [name]
            for _, (_, samples) in stores:
                cold, warm = samples[name]
                cells += [_cell(warm), _cell(cold)]
            table.add(*cells)
        table.notes.append(
            "Direct `Analytics` calls, the questions of `scripts/measure_queries.py`. Warm: up to "
            f"{bench.profile.warm_calls} calls answered from the cache; cold: up to {bench.profile.cold_calls} calls, "
            "each right after a new data version (as after a sync commit), at least 3, fewer when one question "
            f"takes over {bench.profile.cold_budget_s:g} s; p99 of few samples is close to their maximum.")
        tables.append(table)
    return tables


def _growth_table(bench: Bench, core: dict[tuple[str, int], Any]) -> Table:
    table = Table("How latency grows with the store (all questions, ms)",
                  ["database", "orders", "median cold p50", "slowest cold p50", "slowest cold p99",
                   "median warm p50", "cold p50 vs smallest"])
    for backend in bench.stores.backends():
        rows = sorted((size, value) for (name, size), value in core.items() if name == backend)
        baseline = None
        for _, (store, samples) in rows:
            cold_p50 = [cold.p50_ms() for cold, _ in samples.values()]
            median = percentile(cold_p50, 0.5)
            baseline = baseline or median
            table.add(LABELS[backend], f"{store.orders:,}", _ms(median), _ms(max(cold_p50)),
                      _ms(max(cold.p99_ms() for cold, _ in samples.values())),
                      _ms(percentile([warm.p50_ms() for _, warm in samples.values()], 0.5)),
                      f"×{median / baseline:.1f}")
    slowest = _slowest(core, max(bench.options.sizes))
    if slowest:
        table.notes.append(f"Slowest cold question at the largest size: {slowest}.")
    return table


def _slowest(core: dict[tuple[str, int], Any], size: int) -> str:
    found = [(cold.p50_ms(), name, backend) for (backend, store_size), (_, samples) in core.items()
             if store_size == size for name, (cold, _) in samples.items()]
    if not found:
        return ""
    ms, name, backend = max(found)
    return f"{name} on {LABELS[backend]}, {_ms(ms)} ms"


def _mcp_table(mcp: dict[str, Any], floor: Samples) -> Table:
    table = Table("MCP tools through an in-process fastmcp Client, largest store, ms",
                  ["tool", "database", "orders", "warm p50", "warm p99", "cold p50", "cold p99"])
    for backend, (store, samples) in mcp.items():
        for tool, (cold, warm) in samples.items():
            table.add(tool, LABELS[backend], f"{store.orders:,}", _ms(warm.p50_ms()), _ms(warm.p99_ms()),
                      _ms(cold.p50_ms()), _ms(cold.p99_ms()))
    table.add("no-op tool (protocol only)", "—", "—", _ms(floor.p50_ms()), _ms(floor.p99_ms()), "—", "—")
    table.notes.append("The no-op row is a tool returning 1 through the same client: the cost of fastmcp's "
                       "in-process protocol itself, included in every row above.")
    return table


def _latency_checks(core: dict[tuple[str, int], Any], mcp: dict[str, Any], floor: Samples, size: int) -> list[Check]:
    at_size = {backend: samples for (backend, store_size), (_, samples) in core.items() if store_size == size}
    orders = max(store.orders for (_, store_size), (store, _) in core.items() if store_size == size)

    def worst(values: dict[str, Any], pick: Any) -> tuple[float, str]:
        return max((pick(pair), f"{name} on {LABELS[backend]}")
                   for backend, samples in values.items() for name, pair in samples.items())

    warm_core, warm_core_where = worst(at_size, lambda pair: pair[1].p50_ms())
    cold_core, cold_core_where = worst(at_size, lambda pair: pair[0].p99_ms())
    mcp_samples = {backend: samples for backend, (_, samples) in mcp.items()}
    warm_mcp, warm_mcp_where = worst(mcp_samples, lambda pair: pair[1].p50_ms())
    cold_mcp, cold_mcp_where = worst(mcp_samples, lambda pair: pair[0].p99_ms())
    scale = f"{orders:,} orders"
    return [
        Check(f"warm answers p50 ≤ {WARM_TARGET_MS:g} ms at {scale}, analytics core",
              f"{_ms(warm_core)} ms (slowest: {warm_core_where})", warm_core <= WARM_TARGET_MS),
        Check(f"warm answers p50 ≤ {WARM_TARGET_MS:g} ms at {scale}, through MCP",
              f"{_ms(warm_mcp)} ms (slowest: {warm_mcp_where})", warm_mcp <= WARM_TARGET_MS,
              f"a no-op tool alone takes {_ms(floor.p50_ms())} ms p50 through fastmcp in-process"),
        Check(f"cold p99 ≤ {COLD_TARGET_MS:g} ms at {scale}, analytics core",
              f"{_ms(cold_core)} ms (slowest: {cold_core_where})", cold_core <= COLD_TARGET_MS),
        Check(f"cold p99 ≤ {COLD_TARGET_MS:g} ms at {scale}, through MCP",
              f"{_ms(cold_mcp)} ms (slowest: {cold_mcp_where})", cold_mcp <= COLD_TARGET_MS),
    ]
