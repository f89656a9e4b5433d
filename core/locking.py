"""One sync at a time per store.

PostgreSQL: a session-level advisory lock whose key is derived from `current_database()` and
`current_schema()` (tests use one schema per test). SQLite: an exclusive `flock` on a file next to
the database. Both are released by the operating system or the server when the holder dies, so a
killed daemon never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from core.db import describe, sqlite_file

_memory_locks: dict[str, threading.Lock] = {}


class SyncAlreadyRunning(RuntimeError):
    """Another process (or thread) holds the sync lock of this store."""


def lock_file_path(database_url: str, name: str = "sync") -> Path | None:
    """The lock file of a SQLite store (None for PostgreSQL and in-memory SQLite)."""
    path = sqlite_file(database_url)
    return path.with_name(f"{path.name}.{name}.lock") if path is not None else None


@contextmanager
def sync_lock(engine: Engine, *, wait: bool = False, name: str = "sync") -> Iterator[None]:
    """Hold the store's lock `name` for the block; `SyncAlreadyRunning` if taken (unless `wait`).

    "sync" guards one cycle; the daemon also holds "daemon" for its whole life, so a second daemon
    on the same store stops at once while a one-off sync can still run between the daemon's cycles.
    """
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine, name, wait=wait):
            yield
        return
    path = lock_file_path(engine.url.render_as_string(hide_password=False), name)
    if path is None:
        with _process_lock(f"{describe(engine)}#{name}", describe(engine), wait=wait):
            yield
        return
    with _file_lock(path, describe(engine), wait=wait):
        yield


def _already_running(engine_name: str) -> SyncAlreadyRunning:
    return SyncAlreadyRunning(f"another sync is running against {engine_name}")


def advisory_key(database: str, schema: str, name: str = "sync") -> int:
    """A stable signed 64-bit advisory lock key for a lock `name` of a database and schema."""
    digest = hashlib.sha256(f"retailcrm-{name}:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _postgres_lock(engine: Engine, name: str, *, wait: bool) -> Iterator[None]:
    with engine.connect() as connection:
        database, schema = connection.execute(text("select current_database(), current_schema()")).one()
        key = advisory_key(database, schema or "public", name)
        if wait:
            connection.execute(text("select pg_advisory_lock(:key)"), {"key": key})
        elif not connection.execute(text("select pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            raise _already_running(describe(engine))
        connection.commit()
        try:
            yield
        finally:
            _postgres_unlock(connection, key)


def _postgres_unlock(connection: Connection, key: int) -> None:
    """Release an advisory lock; if the session died meanwhile (server restart, terminated backend) the
    server already released it with the session, and the dead connection is discarded."""
    try:
        connection.execute(text("select pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise


@contextmanager
def _file_lock(path: Path, engine_name: str, *, wait: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(descriptor, flags)
        except BlockingIOError:
            raise _already_running(engine_name) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def _process_lock(key: str, engine_name: str, *, wait: bool) -> Iterator[None]:
    lock = _memory_locks.setdefault(key, threading.Lock())
    acquired = lock.acquire() if wait else lock.acquire(blocking=False)
    if not acquired:
        raise _already_running(engine_name)
    try:
        yield
    finally:
        lock.release()
