"""Database engine and schema management: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from core import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from core.config import PROJECT_ROOT

DATA_DIRECTORY = (PROJECT_ROOT / "data").resolve()
SQLITE_BUSY_TIMEOUT_S = 30  # how long a SQLite statement waits for another process's lock


# Serialises schema creation between processes opening one new PostgreSQL store at the same time
# (concurrent CREATE TABLE fails with "duplicate key value violates unique constraint pg_type_...").
_SCHEMA_LOCK_KEY = 0x7265_7461_696C_6462  # "retaildb"


class StoreUnavailable(RuntimeError):
    """The database cannot be reached; the message says which and why, without credentials."""


def store_unavailable(error: BaseException, engine: Engine) -> StoreUnavailable | None:
    """The `StoreUnavailable` a driver error stands for (connection refused or lost, database closed or
    locked), or None for any other error (a bug, whose traceback must be kept)."""
    lost = isinstance(error, DBAPIError) and error.connection_invalidated
    if not (lost or isinstance(error, (OperationalError, InterfaceError))):
        return None
    return StoreUnavailable(f"store unavailable ({describe(engine)}): {driver_reason(error)}")


def driver_reason(error: BaseException) -> str:
    """The driver's own first line of `error` (no SQL, no parameters), or the error's type."""
    original = getattr(error, "orig", None) or error
    lines = [" ".join(line.split()) for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """`PRAGMA journal_mode=WAL`, retried while the file is locked: unlike other statements it answers
    "database is locked" at once, without waiting on the busy timeout, when another process is opening
    or writing the same new store (two daemons started together)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _ensure_directory(directory: Path) -> None:
    """Create directories under the project's data/; any other missing directory is a mistyped path."""
    if directory.is_dir():
        return
    resolved = directory.resolve()
    if resolved != DATA_DIRECTORY and DATA_DIRECTORY not in resolved.parents:
        raise StoreUnavailable(f"cannot open the SQLite store: directory {directory} does not exist")
    directory.mkdir(parents=True)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite store (None for PostgreSQL and in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite store that does not exist yet (opening it would create an empty store), else None."""
    path = sqlite_file(database_url)
    return path if path is not None and not path.exists() else None


def remove_sqlite_store(path: Path) -> None:
    """Delete the SQLite file `path` with its WAL companions (`-wal`, `-shm`), those that exist."""
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        file.unlink(missing_ok=True)


def make_engine(database_url: str) -> Engine:
    """A new engine for `database_url`; SQLite files get WAL mode and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(database_url)
        if path is not None:
            _ensure_directory(path.parent)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def get_engine(database_url: str) -> Engine:
    """The process-wide engine for `database_url`, with the schema created or upgraded."""
    engine = make_engine(database_url)
    init_db(engine)
    return engine


def describe(engine: Engine) -> str:
    """A printable name of the store, with any password hidden."""
    return engine.url.render_as_string(hide_password=True)


def init_db(engine: Engine) -> None:
    """Create missing tables and add missing columns; safe to run any number of times, also by several
    processes opening the same new store at once (they take turns)."""
    try:
        with engine.begin() as connection:
            _take_turns(connection)
            SQLModel.metadata.create_all(connection)
            _add_missing_columns(connection)
    except Exception as exc:  # noqa: BLE001 - any driver error means the same to the user
        raise StoreUnavailable(f"cannot open the store {describe(engine)}: {driver_reason(exc)}") from exc


def _take_turns(connection: Connection) -> None:
    """Hold the store's schema lock until the transaction ends, so concurrent openers do not race."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock; others wait on the busy timeout


def _add_missing_columns(connection: Connection) -> None:
    """Upgrade older stores in place: every model column missing from its table is added."""
    inspector = inspect(connection)
    for table in SQLModel.metadata.sorted_tables:
        existing = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            column_type = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {column_type}'))


def session_for(engine: Engine) -> Session:
    """A session that keeps loaded objects usable after commit."""
    return Session(engine, expire_on_commit=False)
