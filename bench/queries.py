"""Section 2: how fast answers are, and how that grows with the store: 10k, 100k and 1M orders, SQLite and
PostgreSQL, warm and cold; the MCP tools through fastmcp; the dashboard pages in a browser.

- Analytics core: every question of `scripts/measure_queries.py` called directly on `Analytics`.
- MCP: every tool through an in-process `fastmcp.Client` (the protocol an agent speaks), at the largest size,
  next to a no-op tool that shows what the protocol alone costs.
- Dashboard: `scripts/measure_pages.py` (streamlit + chromium) at the largest size, on SQLite.

Cold = the first call after a new data version (what follows every sync commit: cached answers and reference
data dropped); warm = the same call again. Each core question also gets a new `Analytics`, whose first call is
what a freshly started server pays (nothing loaded in memory yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Latency:
    """One question on one store: its first call (seconds), then cold and warm samples."""

    first_s: float
    cold: Samples
    warm: Samples


def measure_question(bench: Bench, url: str, ask: Callable[[], object]) -> Latency:
    """Time the first call, then cold calls (each after a new data version), then warm calls."""
    profile = bench.profile
    started = time.perf_counter()
    ask()
    first = time.perf_counter() - started
    cold = sample(ask, count=profile.cold_calls, budget_s=profile.cold_budget_s, before=lambda: new_data_version(url))
    warm = sample(ask, count=profile.warm_calls, budget_s=profile.cold_budget_s)
    return Latency(first, cold, warm)


def core_latency(bench: Bench, store: StoreInfo) -> dict[str, Latency]:
    """Every core question on one store, each on a new `Analytics` (so its first call is a fresh process's)."""
    results = {}
    for name in measure_queries.questions(analytics_of(store.url)):
        bench.log(f"queries: {store.backend} {store.orders:,} orders: {name}")
        results[name] = measure_question(bench, store.url, measure_queries.questions(analytics_of(store.url))[name])
    return results


def mcp_latency(bench: Bench, store: StoreInfo) -> dict[str, Latency]:
    """Cold and warm samples of every MCP tool through an in-process client on one store."""
    session = McpSession(create_server(analytics_of(store.url)))
    try:
        results = {}
        for tool, arguments in TOOL_QUESTIONS:
            bench.log(f"queries: MCP {tool} on {store.backend} {store.orders:,} orders")
            results[tool] = measure_question(bench, store.url, lambda: session.answer(tool, arguments))
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
    result.tables += _core_tables(bench, core) + [_first_call_table(bench, core), _growth_table(bench, core),
                                                  _mcp_table(mcp, floor)]
    result.metrics["core"] = {f"{backend}_{size}": {"orders": store.orders, "questions": _raw(latencies)}
                              for (backend, size), (store, latencies) in core.items()}
    result.metrics["mcp"] = {backend: {"orders": store.orders, "tools": _raw(latencies)}
                             for backend, (store, latencies) in mcp.items()}
    result.metrics["mcp_noop_p50_ms"] = floor.p50_ms()
    result.checks += _latency_checks(core, mcp, floor, max(sizes))
    sqlite_largest = next(store for store in largest if store.backend == "sqlite")
    pages = dashboard_measurement(bench, sqlite_largest)
    result.tables.append(pages.table())
    result.metrics["dashboard"] = pages.metrics()
    result.checks += pages.checks()
    return result


Measured = dict[tuple[str, int], tuple[StoreInfo, dict[str, Latency]]]


def _raw(latencies: dict[str, Latency]) -> dict[str, dict[str, float]]:
    return {name: {"first_call_ms": latency.first_s * 1000,
                   "cold_p50_ms": latency.cold.p50_ms(), "cold_p99_ms": latency.cold.p99_ms(),
                   "cold_calls": len(latency.cold), "warm_p50_ms": latency.warm.p50_ms(),
                   "warm_p99_ms": latency.warm.p99_ms(), "warm_calls": len(latency.warm)}
            for name, latency in latencies.items()}


def _by_size(core: Measured, backend: str) -> list[tuple[StoreInfo, dict[str, Latency]]]:
    return [value for (name, _), value in sorted(core.items(), key=lambda item: item[0][1]) if name == backend]


def _core_tables(bench: Bench, core: Measured) -> list[Table]:
    tables = []
    for backend in bench.stores.backends():
        stores = _by_size(core, backend)
        columns = ["question"]
        for store, _ in stores:
            columns += [f"{store.orders:,} warm p50 / p99", f"{store.orders:,} cold p50 / p99"]
        table = Table(f"Analytics core on {LABELS[backend]}, ms (orders in the store)", columns)
        for name in stores[0][1]:
            cells = [name]
            for _, latencies in stores:
                cells += [_cell(latencies[name].warm), _cell(latencies[name].cold)]
            table.add(*cells)
        table.notes.append(
            "Direct `Analytics` calls, the questions of `scripts/measure_queries.py`. Warm: up to "
            f"{bench.profile.warm_calls} calls answered from the cache; cold: up to {bench.profile.cold_calls} calls, "
            "each right after a new data version (what a sync commit does: cached answers dropped, in-memory "
            "frames refreshed for the changed days, here none), at least 3, fewer when one question takes over "
            f"{bench.profile.cold_budget_s:g} s; p99 of few samples is close to their maximum.")
        tables.append(table)
    return tables


def _first_call_table(bench: Bench, core: Measured) -> Table:
    columns = ["question"]
    groups = [_by_size(core, backend) for backend in bench.stores.backends()]
    for stores in groups:
        columns += [f"{LABELS[store.backend]} {store.orders:,}" for store, _ in stores]
    table = Table("First call in a fresh process (a new `Analytics`: nothing loaded yet), ms", columns)
    for name in groups[0][0][1]:
        table.add(name, *(_ms(latencies[name].first_s * 1000) for stores in groups for _, latencies in stores))
    table.notes.append("What the first question costs a newly started MCP server or dashboard: the analytics core "
                       "loads the months a question touches into memory (all of them for list_dimensions).")
    return table


def _growth_table(bench: Bench, core: Measured) -> Table:
    table = Table("How latency grows with the store (all questions, ms)",
                  ["database", "orders", "median cold p50", "slowest cold p50", "slowest cold p99",
                   "median warm p50", "slowest first call", "cold p50 vs smallest"])
    for backend in bench.stores.backends():
        baseline = None
        for store, latencies in _by_size(core, backend):
            cold_p50 = [latency.cold.p50_ms() for latency in latencies.values()]
            median = percentile(cold_p50, 0.5)
            baseline = baseline or median
            table.add(LABELS[backend], f"{store.orders:,}", _ms(median), _ms(max(cold_p50)),
                      _ms(max(latency.cold.p99_ms() for latency in latencies.values())),
                      _ms(percentile([latency.warm.p50_ms() for latency in latencies.values()], 0.5)),
                      _ms(max(latency.first_s * 1000 for latency in latencies.values())),
                      f"×{median / baseline:.1f}")
    slowest = _slowest(core, max(bench.options.sizes))
    if slowest:
        table.notes.append(f"Slowest cold question at the largest size: {slowest}.")
    return table


def _slowest(core: Measured, size: int) -> str:
    found = [(latency.cold.p50_ms(), name, backend) for (backend, store_size), (_, latencies) in core.items()
             if store_size == size for name, latency in latencies.items()]
    if not found:
        return ""
    ms, name, backend = max(found)
    return f"{name} on {LABELS[backend]}, {_ms(ms)} ms"


def _mcp_table(mcp: dict[str, tuple[StoreInfo, dict[str, Latency]]], floor: Samples) -> Table:
    table = Table("MCP tools through an in-process fastmcp Client, largest store, ms",
                  ["tool", "database", "orders", "warm p50", "warm p99", "cold p50", "cold p99"])
    for backend, (store, latencies) in mcp.items():
        for tool, latency in latencies.items():
            table.add(tool, LABELS[backend], f"{store.orders:,}", _ms(latency.warm.p50_ms()),
                      _ms(latency.warm.p99_ms()), _ms(latency.cold.p50_ms()), _ms(latency.cold.p99_ms()))
    table.add("no-op tool (protocol only)", "—", "—", _ms(floor.p50_ms()), _ms(floor.p99_ms()), "—", "—")
    table.notes.append("One server per database answering every tool in turn (its first calls are not counted); "
                       "the no-op row is a tool returning 1 through the same kind of client: the cost of fastmcp's "
                       "in-process protocol itself, included in every row above.")
    return table


def _latency_checks(core: Measured, mcp: dict[str, tuple[StoreInfo, dict[str, Latency]]], floor: Samples,
                    size: int) -> list[Check]:
    at_size = {backend: latencies for (backend, store_size), (_, latencies) in core.items() if store_size == size}
    orders = max(store.orders for (_, store_size), (store, _) in core.items() if store_size == size)

    def worst(values: dict[str, dict[str, Latency]], pick: Callable[[Latency], float]) -> tuple[float, str]:
        return max((pick(latency), f"{name} on {LABELS[backend]}")
                   for backend, latencies in values.items() for name, latency in latencies.items())

    warm_core, warm_core_where = worst(at_size, lambda latency: latency.warm.p50_ms())
    cold_core, cold_core_where = worst(at_size, lambda latency: latency.cold.p99_ms())
    mcp_latencies = {backend: latencies for backend, (_, latencies) in mcp.items()}
    warm_mcp, warm_mcp_where = worst(mcp_latencies, lambda latency: latency.warm.p50_ms())
    cold_mcp, cold_mcp_where = worst(mcp_latencies, lambda latency: latency.cold.p99_ms())
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
