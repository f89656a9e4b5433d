"""What every step of a sync cycle shares: the store, the API client, options and counters.

Writes go through `SyncContext.write`, which runs one transaction in a worker thread (so API
requests in flight keep being served while the database works), bumps the data version and
commits: a step's rows, aggregates and cursor land together or not at all. A page is committed by
`commit_page`, which also brings the cycle's `sync_runs` row up to date in the same transaction, so
a cycle killed at any point leaves a record of what it did.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_for
from core.models import SyncRun
from core.progress import ProgressCallback, ProgressMeter
from core.reference import ReferenceBook
from core.retailcrm_client import RetailCRMClient
from core.store import bump_data_version
from core.sync_apply import Applied

T = TypeVar("T")


@dataclass
class CycleStats:
    """What one cycle did, for `sync_runs` and the caller."""

    pages: int = 0
    orders_upserted: int = 0
    customers_upserted: int = 0
    history_records: int = 0

    def after_page(self, stream: str, upserted: int, history_records: int = 0) -> CycleStats:
        """These counts plus one page of `stream` ("orders" or "customers") that upserted `upserted` records."""
        orders, customers = (upserted, 0) if stream == "orders" else (0, upserted)
        return replace(self, pages=self.pages + 1, orders_upserted=self.orders_upserted + orders,
                       customers_upserted=self.customers_upserted + customers,
                       history_records=self.history_records + history_records)

    def save(self, run: SyncRun, api_requests: int) -> None:
        """Copy these counts and `api_requests` into the cycle's `sync_runs` row."""
        run.pages, run.api_requests = self.pages, api_requests
        run.orders_upserted, run.customers_upserted = self.orders_upserted, self.customers_upserted
        run.history_records = self.history_records


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
    run_id: int | None = None
    requests_before: int = 0
    stats: CycleStats = field(default_factory=CycleStats)

    def api_requests(self) -> int:
        """API requests made since the cycle began."""
        return self.client.requests_made - self.requests_before

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

    async def commit_page(
        self, work: Callable[[Session], Applied], *, stream: str, history_records: int = 0
    ) -> Applied:
        """Commit one page's `work` and count it, in `stats` and in the cycle's `sync_runs` row, together."""

        def counted(session: Session) -> tuple[Applied, CycleStats]:
            applied = work(session)
            stats = self.stats.after_page(stream, applied.upserted, history_records)
            run = session.get(SyncRun, self.run_id) if self.run_id is not None else None
            if run is not None:
                stats.save(run, self.api_requests())
            return applied, stats

        applied, self.stats = await self.write(counted)
        return applied

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run a read-only `work` in a worker thread."""

        def run() -> T:
            with session_for(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)
