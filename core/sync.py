"""The sync engine: one cycle brings the store level with the RetailCRM account.

A cycle refreshes reference data when stale, then for orders and then customers either continues
the backfill (plan month windows, page them, catch up history, verify counts) or applies new
history. The history cursor of a backfill is found before its first page, so nothing that changes
during a long backfill is lost. Every page commits its rows, day aggregates, cursor and data version
together, so a killed sync resumes where it stopped and a re-run changes nothing. Each cycle is
recorded in `sync_runs`; `sync_state` and `store_meta.last_sync_at` say how the last one ended.

Entry points: `run_cycle(settings, ...)` (blocking; from a script or a thread) and
`run_cycle_async(settings, ...)`; `SyncEngine` runs cycles over a client and an engine you own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from core.config import ConfigError, Settings
from core.db import StoreUnavailable, get_engine, store_unavailable
from core.locking import SyncAlreadyRunning, sync_lock
from core.models import SyncRun, SyncState
from core.progress import ProgressCallback
from core.reference import ReferenceBook
from core.retailcrm_client import ApiError, ApiUnavailable, RetailCRMClient
from core.store import store_meta, utcnow
from core.sync_apply import load_state
from core.sync_backfill import backfill_pages, verify_windows
from core.sync_context import CycleStats, SyncContext
from core.sync_history import find_history_end, sync_history
from core.sync_streams import STREAMS, Stream
from core.sync_tasks import gather_all
from core.sync_windows import BackfillCursor, plan_backfill

logger = logging.getLogger("retailcrm.sync")

# Failures a caller should report as one line (no traceback): bad settings, API, store, lock.
EXPECTED_FAILURES: tuple[type[Exception], ...] = (ConfigError, ApiError, StoreUnavailable, SyncAlreadyRunning)
_ERROR_LIMIT = 500


def failure_message(failure: BaseException, settings: Settings) -> str:
    """The one line to show a person for an expected failure (names the API when it was unreachable)."""
    text = _one_line(failure)
    if isinstance(failure, ApiUnavailable):
        return f"RetailCRM at {settings.retailcrm_url} is unavailable: {text}"
    return text


@dataclass(frozen=True)
class CycleResult:
    """How one cycle went: "ok", "stopped" (asked to stop; progress kept) or "error"."""

    run_id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime
    pages: int
    api_requests: int
    orders_upserted: int
    customers_upserted: int
    history_records: int
    error: str | None = None

    def describe(self) -> str:
        """One log line summing the cycle up."""
        seconds = (self.finished_at - self.started_at).total_seconds()
        text = (
            f"{self.kind} sync {self.status} in {seconds:.1f} s: {self.pages} pages, {self.api_requests} requests, "
            f"{self.orders_upserted:,} orders, {self.customers_upserted:,} customers, "
            f"{self.history_records:,} history records"
        )
        return f"{text}; error: {self.error}" if self.error else text


class SyncEngine:
    """Runs sync cycles of one store against one API client."""

    def __init__(self, engine: Engine, client: RetailCRMClient, settings: Settings) -> None:
        self.engine = engine
        self.client = client
        self.settings = settings
        self.reference = ReferenceBook(engine, client, timezone_override=settings.timezone_override)

    async def cycle(
        self, *, progress: ProgressCallback | None = None, stop: threading.Event | None = None
    ) -> CycleResult:
        """One cycle: backfill whatever is unfinished, else apply new history. Raises on failure (recorded)."""
        ctx = SyncContext(
            engine=self.engine, client=self.client, start_date=self.settings.sync_start_date,
            concurrency=self.settings.concurrency, progress=progress, stop=stop, reference=self.reference,
        )
        self.reference.refreshed_this_cycle = False
        ctx.requests_before = self.client.requests_made
        kind = await ctx.read(_cycle_kind)
        run_id, started_at = await ctx.write(lambda session: _start_run(session, kind), changes_data=False)
        ctx.run_id = run_id
        current: Stream | None = None
        try:
            await self.reference.ensure_fresh()
            status = "ok"
            for current in STREAMS:
                if not await self._sync_stream(ctx, current):
                    status = "stopped"
                    break
                await ctx.write(lambda session, name=current.name: _stream_succeeded(session, name), changes_data=False)
            current = None
            await self.reference.settle()
        except Exception as failure:
            self.reference.cancel()
            message = _one_line(failure)
            stream_names = [current.name] if current is not None else [stream.name for stream in STREAMS]
            await _record_failure(ctx, stream_names, message,
                                  store_failed=store_unavailable(failure, self.engine) is not None)
            raise
        except BaseException:  # KeyboardInterrupt, cancellation: say what the run did before it ends
            self.reference.cancel()
            await _record_interruption(ctx)
            raise
        return await ctx.write(
            lambda session: _finish_run(session, run_id, kind, status, started_at, ctx.stats, ctx.api_requests()),
            changes_data=False,
        )

    async def _reconcile_if_asked(self, ctx: SyncContext, stream: Stream) -> bool:
        """Reconcile the windows when history held a record it could not apply; False if stopped."""
        state = await ctx.read(lambda session: _state_snapshot(session, stream.name))
        if not state.backfill_cursor or not state.backfill_cursor.get("reconcile"):
            return True
        cursor = BackfillCursor.from_json(state.backfill_cursor)
        if not await verify_windows(ctx, stream, cursor):
            return False
        cursor.reconcile, cursor.reconcile_from = False, None
        await ctx.write(lambda session: _set_cursor(session, stream.name, cursor), changes_data=False)
        return True

    async def _sync_stream(self, ctx: SyncContext, stream: Stream) -> bool:
        state = await ctx.read(lambda session: _state_snapshot(session, stream.name))
        if state.backfill_done:
            if not await sync_history(ctx, stream, state.history_since_id or 0):
                return False
            return await self._reconcile_if_asked(ctx, stream)
        cursor = BackfillCursor.from_json(state.backfill_cursor) if state.backfill_cursor else None
        since_id = state.history_since_id or 0
        if cursor is None:
            now_local = datetime.now(ZoneInfo(await asyncio.to_thread(self.reference.timezone))).replace(tzinfo=None)
            since_id, cursor = await gather_all(
                find_history_end(ctx.client, stream, now_local),
                plan_backfill(ctx.client, stream, today=now_local.date(), start_date=ctx.start_date),
            )
            logger.info("%s backfill planned: %d windows from %s; history resumes after record %d",
                        stream.name, len(cursor.windows()), cursor.first, since_id)
            await ctx.write(lambda session: _begin_backfill(session, stream.name, since_id, cursor), changes_data=False)
        if cursor.phase == "pages":
            if not await backfill_pages(ctx, stream, cursor):
                return False
            cursor.phase, cursor.window, cursor.page = "verify", len(cursor.windows()), 1
            await ctx.write(lambda session: _set_cursor(session, stream.name, cursor), changes_data=False)
        if not await sync_history(ctx, stream, since_id):
            return False
        stored = (await ctx.read(lambda session: _state_snapshot(session, stream.name))).backfill_cursor or {}
        cursor.reconcile, cursor.reconcile_from = bool(stored.get("reconcile")), stored.get("reconcile_from")
        if not await verify_windows(ctx, stream, cursor):
            return False
        cursor.phase, cursor.reconcile, cursor.reconcile_from = "done", False, None
        await ctx.write(lambda session: _finish_backfill(session, stream.name, cursor), changes_data=False)
        logger.info("%s backfill finished", stream.name)
        return True


async def run_cycle_async(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    wait_for_lock: bool = False,
    engine: Engine | None = None,
) -> CycleResult:
    """Create the client and engine, take the store's sync lock and run one cycle.

    Raises one of `EXPECTED_FAILURES` (one-line messages) on expected problems, e.g.
    `SyncAlreadyRunning("another sync is running against <db>")`, `AuthError` or `StoreUnavailable`
    (the database refused or lost the connection).
    """
    url, key = settings.require_api()
    engine = engine or get_engine(settings.database_url)
    try:
        with sync_lock(engine, wait=wait_for_lock):
            async with RetailCRMClient(
                url, key, rps=settings.rps, concurrency=settings.concurrency, transport=transport
            ) as client:
                return await SyncEngine(engine, client, settings).cycle(progress=progress, stop=stop)
    except DBAPIError as error:
        unavailable = store_unavailable(error, engine)
        if unavailable is None:
            raise
        raise unavailable from error


def run_cycle(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    wait_for_lock: bool = False,
    engine: Engine | None = None,
) -> CycleResult:
    """Blocking `run_cycle_async` for scripts and threads (e.g. a dashboard's "Sync now" button)."""
    return asyncio.run(
        run_cycle_async(settings, transport=transport, progress=progress, stop=stop,
                        wait_for_lock=wait_for_lock, engine=engine)
    )


# --- bookkeeping, each run inside one transaction --------------------------------------------


def _cycle_kind(session: Session) -> str:
    done = [load_state(session, stream.name).backfill_done for stream in STREAMS]
    session.rollback()
    return "incremental" if all(done) else "backfill"


def _state_snapshot(session: Session, stream: str) -> SyncState:
    state = load_state(session, stream)
    session.expunge(state)
    session.rollback()
    return state


def _start_run(session: Session, kind: str) -> tuple[int, datetime]:
    """Close runs left "running" by a killed process, and open this one."""
    session.execute(
        update(SyncRun).where(SyncRun.status == "running").values(status="interrupted", finished_at=utcnow())
    )
    run = SyncRun(kind=kind, started_at=utcnow(), status="running")
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id, run.started_at


def _begin_backfill(session: Session, stream: str, since_id: int, cursor: BackfillCursor) -> None:
    state = load_state(session, stream)
    state.history_since_id = since_id
    state.backfill_cursor = cursor.to_json()
    state.backfill_done = False
    state.backfill_started_at = utcnow()
    state.backfill_finished_at = None


def _set_cursor(session: Session, stream: str, cursor: BackfillCursor) -> None:
    load_state(session, stream).backfill_cursor = cursor.to_json()


def _finish_backfill(session: Session, stream: str, cursor: BackfillCursor) -> None:
    state = load_state(session, stream)
    state.backfill_cursor = cursor.to_json()
    state.backfill_done = True
    state.backfill_finished_at = utcnow()


def _stream_succeeded(session: Session, stream: str) -> None:
    state = load_state(session, stream)
    state.last_success_at = utcnow()
    state.last_error = None
    state.last_error_at = None


def _finish_run(
    session: Session, run_id: int, kind: str, status: str, started_at: datetime, stats: CycleStats, requests: int
) -> CycleResult:
    finished_at = utcnow()
    run = session.get(SyncRun, run_id)
    assert run is not None
    run.finished_at, run.status = finished_at, status
    stats.save(run, requests)
    if status == "ok":
        store_meta(session).last_sync_at = finished_at
    return CycleResult(
        run_id=run_id, kind=kind, status=status, started_at=started_at, finished_at=finished_at,
        pages=stats.pages, api_requests=requests, orders_upserted=stats.orders_upserted,
        customers_upserted=stats.customers_upserted, history_records=stats.history_records,
    )


async def _record_failure(ctx: SyncContext, streams: list[str], message: str, *, store_failed: bool) -> None:
    """Write the failure into `sync_runs` and `sync_state`; never hide the original error.

    When the store itself failed, not being able to record that is expected and said at DEBUG only.
    """

    def record(session: Session) -> None:
        now = utcnow()
        run = session.get(SyncRun, ctx.run_id)
        if run is not None:
            run.finished_at, run.status, run.error = now, "error", message
            ctx.stats.save(run, ctx.api_requests())
        for stream in streams:
            state = load_state(session, stream)
            state.last_error, state.last_error_at = message, now

    try:
        await ctx.write(record, changes_data=False)
    except Exception as problem:  # noqa: BLE001 - the store may be the thing that failed
        logger.log(logging.DEBUG if store_failed else logging.WARNING,
                   "could not record the failed sync: %s", _one_line(problem))


async def _record_interruption(ctx: SyncContext) -> None:
    """Mark the run "interrupted" with what it did (a cycle killed outright is marked so by the next one)."""

    def record(session: Session) -> None:
        run = session.get(SyncRun, ctx.run_id)
        if run is not None:
            run.finished_at, run.status = utcnow(), "interrupted"
            ctx.stats.save(run, ctx.api_requests())

    try:
        await ctx.write(record, changes_data=False)
    except Exception as problem:  # noqa: BLE001 - the interruption is what the caller must see
        logger.warning("could not record the interrupted sync: %s", _one_line(problem))


def _one_line(failure: BaseException) -> str:
    return (" ".join(str(failure).split()) or type(failure).__name__)[:_ERROR_LIMIT]
