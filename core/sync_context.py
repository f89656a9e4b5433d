"""What every step of a sync cycle shares: the store, the API client, options and counters.

Writes go through `SyncContext.write`, which runs one transaction in a worker thread (so API
requests in flight keep being served while the database works), bumps the data version and
commits: a step's rows, aggregates and cursor land together or not at all.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_for
from core.progress import ProgressCallback, ProgressMeter
from core.reference import ReferenceBook
from core.retailcrm_client import RetailCRMClient
from core.store import bump_data_version

T = TypeVar("T")


@dataclass
class CycleStats:
    """What one cycle did, for `sync_runs` and the caller."""

    pages: int = 0
    orders_upserted: int = 0
    customers_upserted: int = 0
    history_records: int = 0

    def count_upserted(self, stream: str, count: int) -> None:
        """Add `count` upserted records of `stream` ("orders" or "customers")."""
        if stream == "orders":
            self.orders_upserted += count
        else:
            self.customers_upserted += count


@dataclass
class SyncContext:
    """The shared state of one cycle; built by `core.sync` and handed to each step."""

    engine: Engine
    client: RetailCRMClient
    start_date: date | None = None
    concurrency: int = 48
    progress: ProgressCallback | None = None
    stop: threading.Event | None = None
    reference: ReferenceBook | None = None
    stats: CycleStats = field(default_factory=CycleStats)

    def stopping(self) -> bool:
        """Whether the caller asked the cycle to finish the current page and return."""
        return self.stop is not None and self.stop.is_set()

    def meter(self, phase: str, stream: str, pages_total: int | None = None) -> ProgressMeter:
        """A progress meter for one phase of one stream, reporting to the cycle's callback."""
        return ProgressMeter(phase=phase, stream=stream, callback=self.progress, pages_total=pages_total)

    async def write(self, work: Callable[[Session], T], *, changes_data: bool = True) -> T:
        """Run `work` in one transaction (in a worker thread) and commit; bump the data version if asked."""

        def run() -> T:
            with session_for(self.engine) as session:
                result = work(session)
                if changes_data:
                    bump_data_version(session)
                session.commit()
                return result

        return await asyncio.to_thread(run)

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run a read-only `work` in a worker thread."""

        def run() -> T:
            with session_for(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)
