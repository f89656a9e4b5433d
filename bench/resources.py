"""Section 4: memory and disk. RSS of the sync daemon during a large backfill (it streams pages, so it should
stay flat), of the MCP server and of the dashboard under load, and the database size per million orders.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from bench.context import Bench
from bench.measure import RssSampler
from bench.mcp_load import LoadResult, run_load
from bench.pages import dashboard_measurement
from bench.processes import MCP_TOKEN, Child, answers_http, mcp_http_server
from bench.report import Check, SectionResult, Table
from bench.stores import StoreInfo
from core.db import get_engine
from core.models import Order
from retailcrm_emulator.dataset import expected_orders
from tests.support.daemon import daemon_env
from tests.support.emulator import EmulatorProcess

DAEMON_RSS_TARGET_MB = 300.0
EMULATOR_STARTUP_S = 900
PROGRESS_EVERY_S = 5.0


@dataclass
class DaemonRun:
    """A bounded `sync_daemon.py --once` backfill: RSS samples, orders stored over time, how it ended."""

    emulator_orders: int
    seconds: float = 0.0
    exit_code: int | None = None
    finished: bool = False
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    stored: list[tuple[float, int]] = field(default_factory=list)  # (seconds, live orders in the store)

    @property
    def orders(self) -> int:
        return self.stored[-1][1] if self.stored else 0

    def peak_mb(self) -> float:
        return max((mb for _, mb in self.rss), default=float("nan"))

    def rss_near(self, moment: float) -> float:
        return min(self.rss, key=lambda sample: abs(sample[0] - moment))[1] if self.rss else float("nan")


def _live_orders(database_url: str) -> int:
    try:
        with get_engine(database_url).connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(Order).where(Order.is_deleted.is_(False))).scalar_one())
    except Exception:  # noqa: BLE001 - the daemon may not have created the schema yet
        return 0


def daemon_backfill(bench: Bench) -> DaemonRun:
    """`sync_daemon.py --once` against an emulator of `daemon_orders` orders without a rate limit, for at
    most `daemon_seconds`, then SIGTERM (it commits the page in hand and exits)."""
    profile = bench.profile
    scale = profile.daemon_orders / expected_orders(date.today(), 1.0)
    bench.log(f"resources: starting an emulator with about {profile.daemon_orders:,} orders (generation takes a while)")
    database_url = f"sqlite:///{bench.workdir / 'daemon.db'}"
    with EmulatorProcess(scale=scale, rps=0, startup_timeout=EMULATOR_STARTUP_S) as emulator:
        total = int(emulator.control("GET", "/_emulator/truth")["truth"]["liveOrders"])
        run = DaemonRun(total)
        env = daemon_env(database_url, emulator.url, RETAILCRM_RPS="1000")
        bench.log(f"resources: sync_daemon.py --once backfilling {total:,} orders for at most "
                  f"{profile.daemon_seconds:g} s, sampling its RSS")
        with Child(["sync_daemon.py", "--once"], env, bench.workdir / "daemon.log") as daemon, \
                RssSampler(lambda: daemon.pid, interval=0.5) as sampler:
            started = time.monotonic()
            next_progress = 0.0
            while daemon.running() and time.monotonic() - started < profile.daemon_seconds:
                elapsed = time.monotonic() - started
                if elapsed >= next_progress:
                    run.stored.append((elapsed, _live_orders(database_url)))
                    next_progress = elapsed + PROGRESS_EVERY_S
                time.sleep(0.2)
            run.finished = not daemon.running()
            run.exit_code = daemon.stop()
            run.seconds = time.monotonic() - started
        run.rss = list(sampler.samples)
        run.stored.append((run.seconds, _live_orders(database_url)))
    return run


def mcp_under_load(bench: Bench, store: StoreInfo) -> tuple[float, float, LoadResult]:
    """(median RSS, peak RSS) of `mcp_server.py --http` over `store` while clients ask mixed questions."""
    profile = bench.profile
    child, url = mcp_http_server(store.url, bench.workdir / "mcp-resources.log")
    with child:
        child.wait_until(lambda: answers_http(url), timeout=120, what="mcp_server.py --http")
        with RssSampler(lambda: child.pid, interval=0.25) as sampler:
            time.sleep(0.5)
            bench.log(f"resources: {profile.load_clients} MCP clients for {profile.resource_load_seconds:g} s on the "
                      f"{store.backend} store of {store.orders:,} orders, sampling the server's RSS")
            load = run_load(url, MCP_TOKEN, clients=profile.load_clients, seconds=profile.resource_load_seconds)
    return sampler.median_mb, sampler.peak_mb, load


def database_sizes(stores: list[StoreInfo]) -> list[tuple[StoreInfo, int]]:
    """(store, bytes on disk) for each store: the SQLite file with its WAL, or the PostgreSQL schema's relations."""
    sizes = []
    for store in stores:
        engine = get_engine(store.url)
        if store.backend == "sqlite":
            with engine.begin() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            path = Path(engine.url.database or "")
            size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        else:
            with engine.connect() as connection:
                size = int(connection.execute(text(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')")).scalar_one())
        sizes.append((store, size))
    return sizes


def run(bench: Bench) -> SectionResult:
    result = SectionResult("resources", "4. Resources")
    largest = max(bench.options.sizes)
    stores = bench.stores.ensure([largest])
    sqlite_store = next(store for store in stores if store.backend == "sqlite")

    daemon = daemon_backfill(bench)
    table = Table(f"Sync daemon RSS during a backfill of {daemon.emulator_orders:,} orders "
                  "(emulator without rate limit, RETAILCRM_RPS=1000)",
                  ["moment", "seconds", "orders stored", "RSS"])
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        moment, orders = min(daemon.stored, key=lambda sample: abs(sample[0] - fraction * daemon.seconds))
        table.add(f"{fraction:.0%} of the run", f"{moment:.0f}", f"{orders:,}", f"{daemon.rss_near(moment):.0f} MB")
    done = "finished the backfill" if daemon.finished else (
        f"stopped after {daemon.seconds:.0f} s with {daemon.orders:,} of {daemon.emulator_orders:,} orders "
        f"({daemon.orders / max(daemon.emulator_orders, 1):.0%})")
    table.notes.append(f"`python sync_daemon.py --once` as a subprocess, RSS sampled every 0.5 s; it {done}; "
                       f"peak {daemon.peak_mb():.0f} MB.")
    result.tables.append(table)
    early, late = daemon.rss_near(0.25 * daemon.seconds), daemon.rss_near(daemon.seconds)
    result.checks.append(Check(f"daemon RSS < {DAEMON_RSS_TARGET_MB:g} MB during a large backfill",
                               f"peak {daemon.peak_mb():.0f} MB; {early:.0f} → {late:.0f} MB from 25% to 100% "
                               "of the run", daemon.peak_mb() < DAEMON_RSS_TARGET_MB, done))

    mcp_median, mcp_peak, load = mcp_under_load(bench, sqlite_store)
    dashboard = dashboard_measurement(bench, sqlite_store)
    processes = Table(f"Memory of the servers on the SQLite store of {sqlite_store.orders:,} orders",
                      ["process", "load", "median RSS", "peak RSS"])
    processes.add("mcp_server.py --http", f"{load.clients} clients × {load.seconds:.0f} s, {load.calls:,} calls",
                  f"{mcp_median:.0f} MB", f"{mcp_peak:.0f} MB")
    processes.add("streamlit run app.py (with its child processes)",
                  "every page in chromium (scripts/measure_pages.py)",
                  f"{dashboard.rss_median_mb:.0f} MB", f"{dashboard.rss_peak_mb:.0f} MB")
    processes.notes.append(f"MCP load: clients asking mixed questions back to back (`bench/mcp_load.py`), "
                           f"p50 {load.p50_ms():.0f} ms, p99 {load.p99_ms():.0f} ms, {load.errors} errors.")
    if load.error_samples:
        processes.notes.append("Errors seen: " + "; ".join(load.error_samples))
    result.tables.append(processes)

    sizes = database_sizes(stores)
    disk = Table("Database size", ["database", "orders", "customers", "size", "per million orders"])
    for store, size in sizes:
        disk.add(store.backend, f"{store.orders:,}", f"{store.customers:,}", f"{size / 2**20:,.0f} MB",
                 f"{size / 2**20 / store.orders * 1e6:,.0f} MB")
    disk.notes.append("Everything in the store: orders (with their scrubbed raw payload), customers, reference "
                      "data, daily aggregates and indexes; SQLite file after a WAL checkpoint, PostgreSQL "
                      "`pg_total_relation_size` of every table of the schema.")
    result.tables.append(disk)
    result.metrics = {
        "daemon": {"emulator_orders": daemon.emulator_orders, "orders_stored": daemon.orders,
                   "finished": daemon.finished, "run_s": daemon.seconds, "peak_rss_mb": daemon.peak_mb(),
                   "rss_at_25pct_mb": early, "rss_at_end_mb": late},
        "mcp_server": {"median_rss_mb": mcp_median, "peak_rss_mb": mcp_peak, "calls": load.calls,
                       "errors": load.errors, "error_samples": load.error_samples},
        "dashboard": {"median_rss_mb": dashboard.rss_median_mb, "peak_rss_mb": dashboard.rss_peak_mb},
        "database": {store.backend: {"orders": store.orders, "size_bytes": size,
                                     "per_million_orders_bytes": size / store.orders * 1e6}
                     for store, size in sizes},
    }
    return result
