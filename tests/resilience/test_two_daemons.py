"""Two daemons against one store: one syncs, the other says so and exits, or waits its turn with --wait.

`tests/test_daemon.py` starts a second daemon after the first has finished its first cycle. Here both
start at the same instant on an empty store (racing for the schema and the lock), and a third started
with `--wait` must stay out until the first is stopped, then take over and sync what changed meanwhile.
Both databases: the lock is an advisory lock on PostgreSQL and a file lock on SQLite.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from core.db import StoreUnavailable, init_db, make_engine, session_for
from core.models import SyncRun
from retailcrm_emulator import generate
from tests.conftest import new_database_url
from tests.resilience.harness import ServedEmulator, caught_up, emulator_app, recent_start, spawn_daemon, stop_daemon
from tests.support.daemon import daemon_env, wait_for
from tests.support.resilience import Scenario

START = recent_start()
BUSY = "another sync is running against"
STARTED = "sync daemon started"


def _runs(engine: Engine) -> int:
    with session_for(engine) as session:
        return int(session.execute(select(func.count()).select_from(SyncRun)).scalar_one())


def _settled(engine: Engine, account) -> bool:  # type: ignore[no-untyped-def]
    try:
        return caught_up(engine, account)
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return False


def test_one_of_two_daemons_syncs_and_a_waiting_one_takes_over(database_url: str, tmp_path: Path) -> None:
    scenario = Scenario("two daemons, then a waiting third")
    account = generate(seed=61, scale=0.01)
    engine = make_engine(database_url)
    logs = [tmp_path / f"daemon-{name}.log" for name in ("a", "b", "c")]
    with ServedEmulator(emulator_app(account)) as emulator:
        env = daemon_env(database_url, emulator.url, SYNC_INTERVAL_MINUTES="0.01", SYNC_START_DATE=START.isoformat())
        pair = [spawn_daemon([], env, logs[0]), spawn_daemon([], env, logs[1])]
        scenario.fault()
        try:
            wait_for(lambda: any(process.poll() is not None for process in pair), timeout=90,
                     what="one of the two daemons giving way")
            loser = next(i for i, process in enumerate(pair) if process.poll() is not None)
            winner = pair[1 - loser]
            assert pair[loser].returncode == 0, logs[loser].read_text()[-3000:]
            assert BUSY in logs[loser].read_text() and STARTED not in logs[loser].read_text()
            wait_for(lambda: _settled(engine, account), timeout=120, what="the first sync")
            assert winner.poll() is None, logs[1 - loser].read_text()[-3000:]

            waiting = spawn_daemon(["--wait"], env, logs[2])
            pair.append(waiting)
            scenario.fault()
            seen = _runs(engine)
            wait_for(lambda: _runs(engine) >= seen + 3, timeout=60, what="three more cycles of the first daemon")
            assert waiting.poll() is None and STARTED not in logs[2].read_text()

            account.random_activity(random.Random(61), 200)
            assert stop_daemon(winner) == 0, logs[1 - loser].read_text()[-3000:]
            wait_for(lambda: _settled(engine, account), timeout=120, what="the waiting daemon's catch-up")
            assert STARTED in logs[2].read_text()
            assert stop_daemon(waiting) == 0, logs[2].read_text()[-3000:]
        finally:
            for process in pair:
                stop_daemon(process)
        scenario.verify(engine, database_url, account, since=START)
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path, kind: str) -> None:
    """What two daemons (or a daemon and the MCP server) starting together do first: create the schema."""
    for database_url in new_database_url(kind, tmp_path):
        engines = [make_engine(database_url) for _ in range(6)]
        start = threading.Barrier(len(engines))
        failures: list[StoreUnavailable] = []

        def open_store(engine: Engine) -> None:
            start.wait()
            try:
                init_db(engine)
            except StoreUnavailable as failure:
                failures.append(failure)

        threads = [threading.Thread(target=open_store, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for engine in engines:
            engine.dispose()
        assert not failures, failures[0]
