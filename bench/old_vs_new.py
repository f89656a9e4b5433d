"""Section 1: "registrations in November 2025, and vs November 2024", the old way against the new.

Old way (what the previous server did): page `/api/v5/orders` with createdAt filters for each month,
100 orders a page, one request after another, and count. New way: the MCP tools `count_orders` and
`compare_periods` through a real fastmcp Client (in-process) over a store holding the same account.
Both run against the emulator over a real socket (`python -m retailcrm_emulator`) with the demo dataset
and a rate limit, once per latency profile. Memory is the tracemalloc peak of the question alone (a
separate, untimed pass), since the wall time of a traced run would be distorted.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.context import Bench
from bench.measure import sample
from bench.report import Check, SectionResult, Table
from bench.stores import new_data_version
from core.analytics import Analytics
from core.config import load_settings
from core.db import get_engine
from core.fallback import ApiQuery
from core.mcp import create_server
from core.params import encode_params
from core.periods import parse_period
from retailcrm_emulator import catalog, generate
from tests.support.emulator import API_KEY, EmulatorProcess
from tests.support.mcp_session import McpSession
from tests.support.store_loader import load_account

PERIOD_A, PERIOD_B = "2024-11", "2025-11"
USER_MEASURED = {PERIOD_A: 1163, PERIOD_B: 1447}  # the users' own counts on the demo dataset
RETRY_AFTER_503_S = 1.0


@dataclass(frozen=True)
class Answer:
    """The counts of both months, and what getting them cost."""

    counts: dict[str, int]
    seconds: float
    api_requests: int

    def describe(self) -> str:
        a, b = self.counts[PERIOD_A], self.counts[PERIOD_B]
        return f"{b:,} vs {a:,} ({b - a:+,})"


def count_by_paging(http: httpx.Client, period_text: str) -> tuple[int, int]:
    """The old way for one period: every `/orders` page of it, one by one; (orders, requests sent)."""
    period = parse_period(period_text, catalog.TIMEZONE)
    filters = ApiQuery(period.start, period.end, {}).params()
    count, requests, page, pages = 0, 0, 1, 1
    while page <= pages:
        response = http.get("/api/v5/orders", params=encode_params({"filter": filters, "limit": 100, "page": page}))
        requests += 1
        if response.status_code == 503:  # rate limited: the old server waited and asked again
            time.sleep(RETRY_AFTER_503_S)
            continue
        response.raise_for_status()
        body = response.json()
        count += len(body["orders"])
        pages = int(body["pagination"]["totalPageCount"])
        page += 1
    return count, requests


def old_way(url: str) -> Answer:
    """Both months paged sequentially."""
    started = time.perf_counter()
    counts, requests = {}, 0
    with httpx.Client(base_url=url, headers={"X-API-KEY": API_KEY}, timeout=120) as http:
        for period in (PERIOD_B, PERIOD_A):
            counts[period], sent = count_by_paging(http, period)
            requests += sent
    return Answer(counts, time.perf_counter() - started, requests)


def new_way(session: McpSession) -> dict[str, int]:
    """count_orders for November 2025, then compare_periods against November 2024."""
    count = session.answer("count_orders", {"period": PERIOD_B})
    compared = session.answer("compare_periods", {"period_a": PERIOD_A, "period_b": PERIOD_B})
    assert count["count"] == compared["b"]["count"]
    return {PERIOD_A: compared["a"]["count"], PERIOD_B: compared["b"]["count"]}


def traced_peak_mb(call: Callable[[], Any]) -> float:
    """Peak Python memory allocated while `call` runs (tracemalloc), in MB."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def api_requests(emulator: EmulatorProcess) -> int:
    """Requests the emulator has served so far."""
    return int(emulator.control("GET", "/_emulator/stats")["stats"]["requests"])


def run(bench: Bench) -> SectionResult:
    profile = bench.profile
    result = SectionResult("old_vs_new", "1. The users' question: old way vs new way")
    account = generate(42, scale=profile.demo_scale)
    database_url = f"sqlite:///{bench.workdir / 'old_vs_new.db'}"
    bench.log(f"old vs new: loading the demo dataset ({account.live_order_count:,} live orders) into {database_url}")
    load_account(get_engine(database_url), account)
    table = Table("Registrations in Nov 2025 and vs Nov 2024, against the emulator over HTTP "
                  f"({profile.rps:g} requests/s limit, demo dataset)",
                  ["latency per request", "way", "answer (Nov 2025 vs Nov 2024)", "wall time", "API requests",
                   "peak memory (traced)", "speed-up"])
    metrics: dict[str, Any] = {}
    answers_agree = True
    new_requests_total = 0
    for latency in profile.latencies:
        arguments = ["--latency", str(latency)]
        with EmulatorProcess(scale=profile.demo_scale, rps=profile.rps, arguments=arguments) as emulator:
            bench.log(f"old vs new, {latency:g} s per request: old way (paging /orders)")
            old = old_way(emulator.url)
            settings = load_settings({"DATABASE_URL": database_url, "RETAILCRM_URL": emulator.url,
                                      "RETAILCRM_API_KEY": API_KEY, "RETAILCRM_RPS": str(profile.rps)},
                                     dotenv=False)
            analytics = Analytics.from_settings(settings)
            session = McpSession(create_server(analytics))
            try:
                bench.log(f"old vs new, {latency:g} s per request: new way (MCP tools)")
                before = api_requests(emulator)
                new_way(session)  # first use: imports and connections are not part of the answer
                counts: dict[str, int] = {}
                cold = sample(lambda: counts.update(new_way(session)), count=profile.cold_calls,
                              budget_s=profile.cold_budget_s, before=lambda: new_data_version(database_url))
                warm = sample(lambda: new_way(session), count=profile.warm_calls, budget_s=profile.cold_budget_s)
                new_requests = api_requests(emulator) - before
                new_requests_total += new_requests
                old_memory = traced_peak_mb(lambda: old_way(emulator.url)) if latency == min(profile.latencies) else None
                new_data_version(database_url)
                new_memory = traced_peak_mb(lambda: new_way(session))
            finally:
                session.close()
        answers_agree &= old.counts == counts
        key = f"latency_{latency:g}s"
        metrics[key] = {
            "old_wall_s": old.seconds, "old_api_requests": old.api_requests, "old_counts": old.counts,
            "new_cold_p50_ms": cold.p50_ms(), "new_warm_p50_ms": warm.p50_ms(), "new_api_requests": new_requests,
            "new_counts": counts, "speedup_cold": old.seconds * 1000 / cold.p50_ms(),
            "new_peak_traced_mb": new_memory,
        }
        if old_memory is not None:
            metrics[key]["old_peak_traced_mb"] = old_memory
        memory = f"{old_memory:.2f} MB" if old_memory is not None else "same as below"
        table.add(f"{latency:g} s", "old: page /orders per month", old.describe(), f"{old.seconds:.1f} s",
                  old.api_requests, memory, "")
        new_answer = Answer(counts, cold.p50_ms() / 1000, new_requests)
        table.add(f"{latency:g} s", "new: MCP count_orders + compare_periods, cold", new_answer.describe(),
                  f"{cold.p50_ms():.1f} ms", new_requests, f"{new_memory:.2f} MB",
                  f"×{old.seconds * 1000 / cold.p50_ms():,.0f}")
        table.add(f"{latency:g} s", "new: same, warm (cached answer)", new_answer.describe(), f"{warm.p50_ms():.1f} ms",
                  0 if new_requests == 0 else "see above", "", f"×{old.seconds * 1000 / warm.p50_ms():,.0f}")
    table.notes += [
        "Old way: sequential `GET /api/v5/orders?filter[createdAtFrom]=…&filter[createdAtTo]=…&limit=100&page=N` "
        "for each month until `totalPageCount`, counting the orders (a 503 is retried after 1 s).",
        "New way: two tool calls through `fastmcp.Client` in-process; cold = first call after a new data version "
        f"(p50 of up to {profile.cold_calls}), warm = the same calls again (p50 of up to {profile.warm_calls}). "
        "The store holds the same generated account (`tests/support/store_loader.load_account`, the state a "
        "finished sync leaves); the analytics API fallback points at the same emulator, so any request it made "
        "would be counted.",
        "API requests are counted by the emulator. Peak memory: tracemalloc peak of one answer "
        f"(the old way's traced at {min(profile.latencies):g} s latency; it does not depend on latency).",
        f"Both ways answer the same: {'yes' if answers_agree else 'NO'}; the users measured "
        f"{USER_MEASURED[PERIOD_B]:,} and {USER_MEASURED[PERIOD_A]:,} on this dataset"
        + (" (the quick run uses a smaller dataset)" if profile.demo_scale != 1.0 else "") + ".",
    ]
    result.tables.append(table)
    result.metrics = metrics
    result.checks.append(Check("zero API requests for synced periods", f"{new_requests_total} requests",
                               new_requests_total == 0, "counted by the emulator during every new-way call"))
    result.checks.append(Check("old and new way give the same answer", "same" if answers_agree else "different",
                               answers_agree))
    return result

