"""Soak: the emulator in live mode, the daemon on a short interval, readers all along; no drift, no growth.

The emulator alternates between its live mode (new orders and status changes every 0.1 s) and a quiet
twin serving the same account on the same port, so there is a quiescent point after every live phase.
`sync_daemon.py` runs as a real process every 0.3 s throughout (it meets a server restart at every
switch). Meanwhile a reader thread asks the analytics core, the dashboard's data layer and an MCP client
again and again; none of them may fail. At each of the CYCLES quiescent points, once the daemon has
caught up, the store must equal the truth (rows, day aggregates, MCP answers) and the dashboard's cached
answers must show the new numbers; the daemon's resident memory is sampled there, and the last third
of the samples may not exceed the first third by more than a generous margin.

PostgreSQL only: it is the production store and takes the readers' connections from a pool while the
daemon writes; drift and memory are properties of the daemon's code, the same on SQLite, which the other
daemon scenarios cover.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, select

from core.analytics import Analytics
from core.config import load_settings
from core.dashboard.data import Store, analytics_for
from core.db import make_engine, session_for
from core.mcp import create_server
from core.models import SyncRun
from retailcrm_emulator import generate
from tests.conftest import new_database_url
from tests.resilience.harness import (ServedEmulator, caught_up, emulator_app, recent_start, rss_kib, spawn_daemon,
                                      stop_daemon)
from tests.support.daemon import daemon_env, wait_for
from tests.support.mcp_session import McpSession
from tests.support.resilience import Scenario
from tests.support.truth import expected_orders

CYCLES = 15
START = recent_start()
GROWTH_FACTOR, GROWTH_SLACK_KIB = 1.3, 16 * 1024


class Readers(threading.Thread):
    """Asks the analytics core, the dashboard data layer and an MCP client in a loop until stopped
    (20 rounds a second at most: it shares this process with the emulator)."""

    def __init__(self, database_url: str, months: list[str]) -> None:
        super().__init__(name="soak-readers", daemon=True)
        self.database_url, self.months = database_url, months
        self.stop = threading.Event()
        self.calls: Counter[str] = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        engine = make_engine(self.database_url)
        analytics = Analytics(engine, load_settings({"DATABASE_URL": self.database_url}, dotenv=False))
        mcp = McpSession(create_server(analytics))
        try:
            while not self.stop.is_set():
                for month in self.months:
                    self._ask("analytics", lambda: analytics.breakdown(month, "status"))
                    self._ask("dashboard", lambda: Store(self.database_url, analytics.data_version()).count_orders(month))
                    self._ask("mcp", lambda: mcp.answer("count_orders", {"period": month}))
                self._ask("analytics", analytics.sync_status)
                self.stop.wait(0.05)  # leave the GIL to the emulator thread and the checks
        finally:
            mcp.close()
            engine.dispose()

    def _ask(self, who: str, question) -> None:  # type: ignore[no-untyped-def]
        try:
            question()
            self.calls[who] += 1
        except Exception as failure:  # noqa: BLE001 - every failure is reported by the test
            self.errors.append(f"{who}: {type(failure).__name__}: {failure}")


def _runs(engine: Engine) -> int:
    with session_for(engine) as session:
        return int(session.execute(select(func.count()).select_from(SyncRun)).scalar_one())


def _switch(emulator: ServedEmulator, app) -> None:  # type: ignore[no-untyped-def]
    emulator.stop()
    emulator.app = app
    emulator.start()


def test_soak_live_mode_with_readers_no_drift_no_growth(tmp_path: Path) -> None:
    scenario = Scenario("soak: live mode, readers, short interval")
    account = generate(seed=101, scale=0.005)
    live, quiet = emulator_app(account, live_interval=0.1, live_seed=101), emulator_app(account)
    for database_url in new_database_url("postgresql", tmp_path):
        engine = make_engine(database_url)
        log = tmp_path / "daemon.log"
        samples: list[int] = []
        with ServedEmulator(quiet) as emulator:
            env = daemon_env(database_url, emulator.url, SYNC_INTERVAL_MINUTES="0.005",
                             SYNC_START_DATE=START.isoformat(), RETAILCRM_CONCURRENCY="4")
            daemon = spawn_daemon([], env, log)
            readers: Readers | None = None
            try:
                wait_for(lambda: _settled(engine, account), timeout=120, what="the backfill")
                months = sorted({f"{row['created_at']:%Y-%m}" for row in expected_orders(account, START).values()})
                readers = Readers(database_url, months[-3:])
                readers.start()
                for _ in range(CYCLES):
                    runs, changes = _runs(engine), len(account.order_history)
                    _switch(emulator, live)
                    wait_for(lambda: _runs(engine) > runs and len(account.order_history) > changes, timeout=60,
                             what="a daemon cycle and live changes")
                    _switch(emulator, quiet)
                    scenario.fault()  # a restart of the server with live changes behind it
                    wait_for(lambda: _settled(engine, account), timeout=60, what="the catch-up")
                    samples.append(rss_kib(daemon.pid))
                    scenario.verify(engine, database_url, account, since=START, months=months[-2:])
                    _dashboard_is_current(database_url, account, months[-1])
                    assert daemon.poll() is None, log.read_text()[-3000:]
            finally:
                if readers is not None:
                    readers.stop.set()
                    readers.join(timeout=30)
                code = stop_daemon(daemon)
        engine.dispose()
        assert code == 0, log.read_text()[-3000:]
        assert readers is not None and not readers.errors, readers.errors[:5]
        assert min(readers.calls.values()) > CYCLES and len(readers.calls) == 3, readers.calls
        third = len(samples) // 3
        first, last = max(samples[:third]), max(samples[-third:])
        assert last <= first * GROWTH_FACTOR + GROWTH_SLACK_KIB, f"daemon RSS grew: {samples} KiB"
        print(f"soak: daemon RSS KiB per cycle {samples}; reader calls {dict(readers.calls)}")


def _settled(engine: Engine, account) -> bool:  # type: ignore[no-untyped-def]
    try:
        return caught_up(engine, account)
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return False


def _dashboard_is_current(database_url: str, account, month: str) -> None:  # type: ignore[no-untyped-def]
    """The dashboard's cached answer at the store's new data version equals the truth."""
    truth = [row for row in expected_orders(account, START).values() if f"{row['created_at']:%Y-%m}" == month]
    store = Store(database_url, analytics_for(database_url).data_version())
    assert store.count_orders(month).count == len(truth)
