"""Shared fixtures: real stores on SQLite and on PostgreSQL.

PostgreSQL comes from `TEST_DATABASE_URL` (default: the server this machine kind starts). Each test
gets its own schema, dropped afterwards. Without a server the PostgreSQL cases skip with the reason,
except under `CI=true`, where they fail: CI must exercise both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import make_engine, init_db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(TEST_DATABASE_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"PostgreSQL at TEST_DATABASE_URL is not reachable ({str(exc).splitlines()[0][:120]})"
    return None


_PG_PROBLEM = _postgres_problem()


def require_postgres() -> None:
    """Skip (or, under CI=true, fail) when PostgreSQL is not reachable."""
    if _PG_PROBLEM is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true requires PostgreSQL: {_PG_PROBLEM}")
    pytest.skip(_PG_PROBLEM)


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"


def new_database_url(kind: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Yield the URL of a new, empty store of `kind` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A new empty store, once on SQLite and once on PostgreSQL."""
    yield from new_database_url(request.param, tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a new store with the schema created."""
    engine = make_engine(database_url)
    init_db(engine)
    yield engine
    engine.dispose()
