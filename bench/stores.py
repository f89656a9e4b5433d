"""Stores of N generated orders for the latency measurements, built once and cached between runs.

Each store is filled by `scripts/measure_queries.py`'s `prepare_store` (the emulator's generator written
through the store writers in big batches). SQLite stores live in `<data dir>/stores/`, PostgreSQL stores in
one schema per size (`<prefix>_<size>`). A marker file written after a build finishes makes an interrupted
build start again from scratch. Missing stores are built in parallel worker processes.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from core.db import get_engine, make_engine, remove_sqlite_store, session_for
from core.models import Customer, Order
from core.store import bump_data_version
from scripts import measure_queries

BACKENDS = ("sqlite", "postgresql")
# Part of every marker: a store built by an older layout is rebuilt.
LAYOUT = f"measure_queries end={measure_queries.END.isoformat()} seed=42"


@dataclass(frozen=True)
class StoreInfo:
    """A ready store: where it is and what it holds."""

    backend: str
    size: int
    url: str
    orders: int
    customers: int
    build_seconds: float | None  # None: reused from an earlier run


def schema_url(postgres_url: str, schema: str) -> str:
    """`postgres_url` with its search path set to `schema`."""
    separator = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{separator}options=-csearch_path%3D{schema}"


class StoreCache:
    """Finds or builds the stores of each (backend, size)."""

    def __init__(self, data_dir: Path, postgres_url: str | None, schema_prefix: str,
                 log: Callable[[str], None]) -> None:
        self.folder = data_dir / "stores"
        self.postgres_url = postgres_url
        self.schema_prefix = schema_prefix
        self.log = log
        self._ready: dict[tuple[str, int], StoreInfo] = {}

    def backends(self) -> tuple[str, ...]:
        """SQLite, and PostgreSQL when it is used."""
        return BACKENDS if self.postgres_url else BACKENDS[:1]

    def schema(self, size: int) -> str:
        return f"{self.schema_prefix}_{size}"

    def url(self, backend: str, size: int) -> str:
        """The database URL of a store."""
        if backend == "sqlite":
            return f"sqlite:///{self.folder / f'{self.schema_prefix}_{size}.db'}"
        assert self.postgres_url is not None
        return schema_url(self.postgres_url, self.schema(size))

    def get(self, backend: str, size: int) -> StoreInfo:
        """A ready store, built if needed."""
        self.ensure([size])
        return self._ready[(backend, size)]

    def ensure(self, sizes: list[int]) -> list[StoreInfo]:
        """Every store of `sizes` on every backend, building the missing ones in parallel."""
        wanted = [(backend, size) for size in sorted(sizes, reverse=True) for backend in self.backends()]
        missing = [key for key in wanted if key not in self._ready and not self._reuse(*key)]
        if missing:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.log("building stores (once; cached for later runs): "
                     + ", ".join(f"{backend} {size:,}" for backend, size in missing))
            for backend, size in missing:
                self._reset(backend, size)
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
                futures = {key: pool.submit(build_store, self.url(*key), key[1]) for key in missing}
                for (backend, size), future in futures.items():
                    seconds = future.result()
                    self._marker(backend, size).write_text(json.dumps({"layout": LAYOUT, "seconds": seconds}))
                    self._ready[(backend, size)] = self._describe(backend, size, seconds)
                    self.log(f"built the {backend} store of {size:,} orders in {seconds:.0f} s")
        return [self._ready[key] for key in wanted]

    def drop_postgres(self, sizes: list[int]) -> None:
        """Drop the PostgreSQL schemas of `sizes` (and their markers)."""
        if not self.postgres_url:
            return
        for size in sizes:
            self._reset("postgresql", size)
            self._ready.pop(("postgresql", size), None)

    def _marker(self, backend: str, size: int) -> Path:
        return self.folder / f"{self.schema_prefix}_{size}.{backend}.json"

    def _reuse(self, backend: str, size: int) -> bool:
        marker = self._marker(backend, size)
        if not marker.exists() or json.loads(marker.read_text()).get("layout") != LAYOUT:
            return False
        try:
            info = self._describe(backend, size, None)
        except Exception:  # noqa: BLE001 - a store we cannot read is rebuilt
            return False
        if info.orders == 0:
            return False
        self._ready[(backend, size)] = info
        return True

    def _reset(self, backend: str, size: int) -> None:
        """Remove whatever an earlier (maybe interrupted) build left."""
        self._marker(backend, size).unlink(missing_ok=True)
        if backend == "sqlite":
            remove_sqlite_store(Path(self.url(backend, size).removeprefix("sqlite:///")))
            return
        admin = create_engine(self.postgres_url)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {self.schema(size)} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {self.schema(size)}"))
        admin.dispose()

    def _describe(self, backend: str, size: int, seconds: float | None) -> StoreInfo:
        url = self.url(backend, size)
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                orders = connection.execute(
                    select(func.count()).select_from(Order).where(Order.is_deleted.is_(False))).scalar_one()
                customers = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
        finally:
            engine.dispose()
        return StoreInfo(backend, size, url, orders, customers, seconds)


def build_store(url: str, size: int) -> float:
    """Fill the store at `url` with about `size` orders (in a worker process); seconds taken."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress lines as they come
    started = time.perf_counter()
    engine = make_engine(url)
    measure_queries.prepare_store(engine, size)
    engine.dispose()
    return time.perf_counter() - started


def new_data_version(database_url: str) -> None:
    """Commit a new data version, as a sync does: every cached answer of that store goes cold."""
    with session_for(get_engine(database_url)) as session:
        bump_data_version(session)
        session.commit()
