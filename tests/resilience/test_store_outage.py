"""The database goes away while the daemon syncs: the cycle waits or fails cleanly, the next one recovers.

PostgreSQL (a database of its own, so it can be closed to everyone): first a table lock held by another
session while a backfill pages (the cycle must wait), then the database closed to new connections with
every backend terminated in a loop for a few seconds during an incremental cycle (the cycle fails, the
daemon lives on, and recovers by itself once the database is back). SQLite: another writer holds the file
with BEGIN EXCLUSIVE, once during the backfill and once during an incremental cycle (the cycle waits on
the busy timeout). Each outage starts at a chosen API request of the daemon, so it lands mid-cycle.
Afterwards the daemon stops cleanly on SIGTERM and the store equals the truth. A database that stays
closed costs the daemon one log line per cycle, without a traceback.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.db import get_engine, init_db, make_engine
from core.locking import advisory_key, sync_lock
from retailcrm_emulator import Account, generate
from tests.conftest import TEST_DATABASE_URL, new_database_url, require_postgres
from tests.resilience.harness import (AtRequest, ServedEmulator, Tap, caught_up, emulator_app, recent_start,
                                      spawn_daemon, stop_daemon)
from sync_daemon import daemon_cycle
from tests.support.daemon import daemon_env, wait_for
from tests.support.emulator import API_KEY, sync_settings
from tests.support.resilience import Scenario

START = recent_start()
OUTAGE_SECONDS = 3.0


@pytest.fixture
def own_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database, dropped afterwards (with whatever still holds it)."""
    require_postgres()
    name = f"resilience_{uuid.uuid4().hex[:10]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def lock_postgres_table(database_url: str, table: str, seconds: float) -> None:
    """Hold an ACCESS EXCLUSIVE lock on `table` from another session for `seconds`."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            time.sleep(seconds)
    finally:
        engine.dispose()


def close_postgres_database(database_url: str, seconds: float) -> None:
    """Refuse new connections to the database and terminate its backends in a loop for `seconds`."""
    name = make_url(database_url).database
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
                time.sleep(0.1)
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()


@contextmanager
def postgres_database_closed(database_url: str) -> Iterator[None]:
    """The database refuses new connections and its sessions are ended, for the block."""
    name = make_url(database_url).database
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            try:
                yield
            finally:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()


def lock_sqlite_file(path: Path, seconds: float) -> None:
    """Hold the database file with BEGIN EXCLUSIVE from another connection for `seconds`."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


def _run_through_outages(tmp_path: Path, database_url: str, engine: Engine, account: Account,
                         outages: list[tuple[int, object]], scenario: Scenario) -> str:
    """Run the daemon while each outage (at_request, action) happens in turn, activity before each
    but the first; stop it with SIGTERM once caught up; verify; return its log."""
    rng = random.Random(51)
    log = tmp_path / "daemon.log"
    first_at, first_action = outages[0]
    trigger = AtRequest(first_at, first_action)  # type: ignore[arg-type]
    with ServedEmulator(Tap(emulator_app(account), before=trigger.before)) as emulator:
        env = daemon_env(database_url, emulator.url, SYNC_INTERVAL_MINUTES="0.01",
                         SYNC_START_DATE=START.isoformat(), RETAILCRM_CONCURRENCY="4")
        process = spawn_daemon([], env, log)
        try:
            for index, (at_request, action) in enumerate(outages):
                if index:
                    trigger.rearm(at_request, action)  # type: ignore[arg-type]
                    account.random_activity(rng, 200)
                assert trigger.done.wait(timeout=120), log.read_text()[-3000:]
                scenario.fault()
                wait_for(lambda: caught_up(engine, account), timeout=120, what="recovery after the outage")
                assert process.poll() is None, log.read_text()[-3000:]
        finally:
            code = stop_daemon(process)
        assert code == 0, log.read_text()[-3000:]
        scenario.verify(engine, database_url, account, since=START)
    return log.read_text()


def test_postgres_locked_then_closed_while_the_daemon_syncs(tmp_path: Path, own_database: str) -> None:
    scenario = Scenario("PostgreSQL table locked, then the database closed")
    engine = make_engine(own_database)
    init_db(engine)
    outages = [
        (25, lambda: lock_postgres_table(own_database, "orders", OUTAGE_SECONDS)),
        (1, lambda: close_postgres_database(own_database, OUTAGE_SECONDS)),
    ]
    try:
        logs = _run_through_outages(tmp_path, own_database, engine, generate(seed=51, scale=0.01), outages, scenario)
    finally:
        engine.dispose()
    assert "sync cycle failed: store unavailable" in logs and "Traceback" not in logs, logs[-3000:]


def test_sqlite_held_by_another_writer_while_the_daemon_syncs(tmp_path: Path) -> None:
    scenario = Scenario("SQLite file held by another writer")
    path = tmp_path / "store.db"
    database_url = f"sqlite:///{path}"
    engine = make_engine(database_url)
    init_db(engine)
    outages = [(25, lambda: lock_sqlite_file(path, OUTAGE_SECONDS)), (1, lambda: lock_sqlite_file(path, OUTAGE_SECONDS))]
    try:
        logs = _run_through_outages(tmp_path, database_url, engine, generate(seed=52, scale=0.01), outages, scenario)
    finally:
        engine.dispose()
    assert "sync cycle failed" not in logs and "crashed" not in logs  # it waited: the busy timeout outlasts the lock


def test_a_lock_whose_postgres_session_died_is_left_without_an_error(tmp_path: Path) -> None:
    """The daemon holds its PostgreSQL lock for life: when the server ends that session (restart,
    pg_terminate_backend) the lock is gone with it, and leaving the block must not raise."""
    for database_url in new_database_url("postgresql", tmp_path):
        engine = make_engine(database_url)
        other = make_engine(database_url)
        try:
            with sync_lock(engine, name="daemon"):
                with other.connect() as connection:
                    database, schema = connection.execute(text("select current_database(), current_schema()")).one()
                    key = advisory_key(database, schema, "daemon") & 0xFFFF_FFFF_FFFF_FFFF
                    terminated = connection.execute(text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objsubid = 1 AND classid::bigint = :high AND objid::bigint = :low"),
                        {"high": key >> 32, "low": key & 0xFFFF_FFFF}).scalar_one()
                assert terminated == 1
            with sync_lock(other, name="daemon"):  # free again
                pass
        finally:
            engine.dispose()
            other.dispose()


def test_a_closed_database_is_one_log_line_per_cycle(own_database: str, caplog: pytest.LogCaptureFixture) -> None:
    """No traceback for an outage the daemon expects: the reason and when it tries again, never the key."""
    settings = sync_settings(own_database, url="http://127.0.0.1:9", SYNC_INTERVAL_MINUTES="2")
    engine = get_engine(own_database)  # the daemon opens its store at start-up, while the database is up
    caplog.set_level(logging.INFO)
    try:
        with postgres_database_closed(own_database):
            outcomes = [daemon_cycle(settings, threading.Event(), wait=False) for _ in range(2)]
    finally:
        engine.dispose()
    assert outcomes == [None, None]  # the daemon lives on
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage().split(":")[0] for record in problems] == ["sync cycle failed"] * 2, caplog.text
    for record in problems:
        assert record.exc_info is None and "\n" not in record.getMessage()
        message = record.getMessage()
        assert "store unavailable" in message and "not currently accepting connections" in message
        assert message.endswith("retrying in 120 s")
    assert "Traceback" not in caplog.text and API_KEY not in caplog.text
