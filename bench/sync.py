"""Section 3: the sync. Backfill throughput against the rate-limit ceiling, the first full sync of the demo
dataset, and what an incremental cycle costs for 0, 100 and 10,000 changes (with the aggregate refresh).

Backfill throughput comes from `scripts/measure_backfill.py` (the real sync against the emulator over a
socket, stopped after a bounded time). Incremental cycles run `core.sync.run_cycle` against an emulator with
the same latency and rate limit, after `random_activity` changes made through its control API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bench.context import Bench
from bench.report import Check, SectionResult, Table
from core.db import get_engine, session_for
from core.models import Order
from core.store import refresh_order_days, utcnow
from core.sync import CycleResult, run_cycle
from scripts import measure_backfill
from tests.support.emulator import EmulatorProcess, sync_settings

BACKFILL_TARGET = 0.90
ORDERS_PER_PAGE = 100
INCREMENTAL_LATENCY = 0.15
CONCURRENCY = 48


@dataclass(frozen=True)
class Incremental:
    """One incremental cycle after `changes` changes, and the aggregate refresh of the days it touched."""

    changes: int
    cycle: CycleResult
    seconds: float
    days: int
    refresh_ms: float


def backfill_throughput(bench: Bench) -> list[measure_backfill.Measurement]:
    """A bounded backfill per latency profile (fast profile first)."""
    profile = bench.profile
    results = []
    for latency in sorted(profile.latencies):
        bench.log(f"sync: backfilling for {profile.backfill_seconds:g} s at {latency:g} s per request, "
                  f"{profile.rps:g} requests/s")
        results.append(measure_backfill.measure(latency=latency, seconds=profile.backfill_seconds, rps=profile.rps,
                                                scale=profile.backfill_scale, concurrency=CONCURRENCY))
    return results


def refresh_days(database_url: str, since: Any) -> tuple[int, float]:
    """Recompute the daily aggregates of every day holding an order written since `since`: (days, ms)."""
    engine = get_engine(database_url)
    with session_for(engine) as session:
        days = list(session.execute(select(Order.created_date).distinct().where(Order.synced_at >= since)).scalars())
        started = time.perf_counter()
        refresh_order_days(session, days)
        session.commit()
        return len(days), (time.perf_counter() - started) * 1000


def incremental_cycles(bench: Bench) -> tuple[CycleResult, float, list[Incremental]]:
    """A first full sync of the demo dataset, then one incremental cycle per number of changes."""
    profile = bench.profile
    database_url = f"sqlite:///{bench.workdir / 'incremental.db'}"
    arguments = ["--latency", str(INCREMENTAL_LATENCY)]
    with EmulatorProcess(scale=profile.demo_scale, rps=profile.rps, arguments=arguments) as emulator:
        settings = sync_settings(database_url, url=emulator.url, RETAILCRM_RPS=str(profile.rps))
        bench.log(f"sync: first full sync of the demo dataset at {INCREMENTAL_LATENCY:g} s per request, "
                  f"{profile.rps:g} requests/s")
        started = time.perf_counter()
        first = run_cycle(settings)
        first_seconds = time.perf_counter() - started
        cycles = []
        for seed, changes in enumerate(profile.changes, start=1):
            if changes:
                emulator.control("POST", "/_emulator/activity", {"n": changes, "seed": seed})
            bench.log(f"sync: incremental cycle after {changes:,} changes")
            since = utcnow()
            started = time.perf_counter()
            cycle = run_cycle(settings)
            seconds = time.perf_counter() - started
            days, refresh_ms = refresh_days(database_url, since)
            cycles.append(Incremental(changes, cycle, seconds, days, refresh_ms))
    return first, first_seconds, cycles


def run(bench: Bench) -> SectionResult:
    profile = bench.profile
    result = SectionResult("sync", "3. Sync")
    ceiling = profile.rps * ORDERS_PER_PAGE
    backfills = backfill_throughput(bench)
    table = Table(f"Backfill throughput, bounded runs of {profile.backfill_seconds:g} s "
                  f"(ceiling {profile.rps:g} requests/s × {ORDERS_PER_PAGE} orders = {ceiling:,.0f} orders/s)",
                  ["latency per request", "orders committed", "seconds", "orders/s overall",
                   "orders/s from the first commit", "orders/s, second half", "share of ceiling (second half)",
                   "requests", "503 answers", "first page committed after", "sync CPU (one core)"])
    result.metrics["backfill"] = {}
    for measured in backfills:
        steady = measured.steady_orders_per_second()
        late = measured.second_half_orders_per_second()
        cpu_share = measured.cpu_seconds / measured.seconds
        table.add(f"{measured.latency:g} s", f"{measured.orders:,}", f"{measured.seconds:.1f}",
                  f"{measured.orders_per_second():,.0f}", f"{steady:,.0f}", f"{late:,.0f}", f"{late / ceiling:.0%}",
                  measured.requests, measured.rate_limited, f"{measured.first_page_after:.1f} s", f"{cpu_share:.0%}")
        result.metrics["backfill"][f"latency_{measured.latency:g}s"] = {
            "orders": measured.orders, "wall_s": measured.seconds, "overall_per_s": measured.orders_per_second(),
            "from_first_commit_per_s": steady, "second_half_per_s": late, "second_half_fraction": late / ceiling,
            "requests": measured.requests,
            "rate_limited": measured.rate_limited, "first_page_after_s": measured.first_page_after,
            "sync_cpu_fraction": cpu_share}
        result.checks.append(Check(f"backfill ≥ {BACKFILL_TARGET:.0%} of the rate-limit ceiling at "
                                   f"{measured.latency:g} s latency",
                                   f"{late / ceiling:.0%} over the second half ({steady / ceiling:.0%} from the first "
                                   f"commit, {measured.orders_per_second() / ceiling:.0%} overall)",
                                   late / ceiling >= BACKFILL_TARGET))
    table.notes += [
        "`scripts/measure_backfill.py`: the real sync (`core.sync.run_cycle`, 48 requests in flight) into a new "
        f"SQLite store from `python -m retailcrm_emulator --scale {profile.backfill_scale:g}` with that latency and "
        "rate limit, stopped after the time above (it finishes the page in hand and commits).",
        "Overall counts from the start of the cycle (reference data, finding where history ends, planning month "
        "windows); from the first commit excludes that start-up but still includes filling the pipeline (up to "
        f"{2 * CONCURRENCY} pages are fetched ahead of the page being committed, and those in flight when the run "
        "stops are never committed); the second half is the commit rate once the pipeline is full, which is what "
        "a long backfill runs at, and is what the target is judged on.",
        "Sync CPU: CPU time of the syncing process (every thread) over the run, as a share of one core; the "
        "emulator runs in its own process on the same cores.",
    ]
    result.tables.append(table)

    first, first_seconds, cycles = incremental_cycles(bench)
    first_table = Table(f"First full sync of the demo dataset ({INCREMENTAL_LATENCY:g} s per request, "
                        f"{profile.rps:g} requests/s)",
                        ["orders", "customers", "seconds", "API requests", "orders/s"])
    first_table.add(f"{first.orders_upserted:,}", f"{first.customers_upserted:,}", f"{first_seconds:.1f}",
                    first.api_requests, f"{first.orders_upserted / first_seconds:,.0f}")
    result.tables.append(first_table)
    incremental = Table(f"Incremental cycles ({INCREMENTAL_LATENCY:g} s per request, {profile.rps:g} requests/s)",
                        ["changes since the last cycle", "history records", "API requests", "seconds",
                         "orders re-fetched", "aggregate refresh"])
    for cycle in cycles:
        incremental.add(f"{cycle.changes:,}", f"{cycle.cycle.history_records:,}", cycle.cycle.api_requests,
                        f"{cycle.seconds:.1f}", f"{cycle.cycle.orders_upserted:,}",
                        f"{cycle.days} days in {cycle.refresh_ms:.0f} ms")
    incremental.notes += [
        "Changes are the emulator's `random_activity` (new orders, status and field changes, moves of createdAt, "
        "deletions, merges, customer edits) made through its control API just before the cycle.",
        "Aggregate refresh: `core.store.refresh_order_days` for every day holding an order the cycle wrote, timed "
        "again on its own after the cycle (the cycle already did it inside its commits).",
    ]
    result.tables.append(incremental)
    result.metrics["first_sync"] = {"orders": first.orders_upserted, "customers": first.customers_upserted,
                                    "wall_s": first_seconds, "api_requests": first.api_requests}
    result.metrics["incremental"] = {str(c.changes): {"history_records": c.cycle.history_records,
                                                      "api_requests": c.cycle.api_requests, "wall_s": c.seconds,
                                                      "orders_upserted": c.cycle.orders_upserted,
                                                      "refresh_days": c.days, "refresh_ms": c.refresh_ms}
                                     for c in cycles}
    return result
