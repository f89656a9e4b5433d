"""Backfill: page every month window of a stream and commit page by page, resumably.

Page 1 of the next windows is asked for ahead (it tells how many pages each window has), and
every other page is fetched concurrently as soon as its window's count is known, up to twice the
client's concurrency ahead of the page being committed and across window boundaries, so a slow
API still has enough requests in flight to reach its rate limit. Pages are committed strictly in plan order, each
with its rows, day aggregates and the cursor of the next page in one transaction. Paging ends on
`totalPageCount`, never on an empty or short page.

Inserts and deletions while paging can shift an unchanged record across a page boundary so that
no page shows it. `verify_windows` (run after history has caught up, and whenever history held a
record it could not apply) compares each window's live count in the store with the API's
`totalCount`, pages again any window that differs and every window the cursor asks to reconcile
(where a lost creation could balance a lost deletion), and re-fetches by id what the store holds
live in those windows but the list no longer shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from datetime import date
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlmodel import Session

from core.sync_apply import Applied, apply_records, load_state
from core.sync_context import SyncContext
from core.sync_refetch import record_id, refetch
from core.sync_streams import Stream, Window
from core.sync_tasks import gather_all
from core.sync_windows import BackfillCursor, total_count, total_pages

logger = logging.getLogger("retailcrm.sync")

T = TypeVar("T")
R = TypeVar("R")
# (window index, page, page count of that window)
Job = tuple[int, int, int]
CursorAfter = Callable[[int, int, int], dict[str, Any] | None]


async def backfill_pages(ctx: SyncContext, stream: Stream, cursor: BackfillCursor) -> bool:
    """Page the windows from `cursor` on, moving the stored cursor with every page; False if stopped."""
    windows = cursor.windows()

    def cursor_after(window: int, page: int, pages: int) -> dict[str, Any]:
        following = (window, page + 1) if page < pages else (window + 1, 1)
        return BackfillCursor(
            first=cursor.first, open_from=cursor.open_from, head=cursor.head,
            window=following[0], page=following[1], phase="pages",
        ).to_json()

    indices = list(range(cursor.window, len(windows)))
    return await page_windows(ctx, stream, windows, indices, first_page=cursor.page, phase="backfill",
                              cursor_after=cursor_after)


async def verify_windows(ctx: SyncContext, stream: Stream, cursor: BackfillCursor) -> bool:
    """Make the store's live records of each window those the API lists; False if stopped.

    A window whose live count differs from the API's, or which the cursor asks to compare by ids, is
    paged again (upserting what the list shows); records the store still holds as live in it but the
    list no longer shows are re-fetched by id: moved ones are updated, missing ones removed.
    """
    windows = cursor.windows()
    by_ids = cursor.windows_to_compare_by_ids()
    by_count = sorted(set(range(len(windows))) - set(by_ids))
    bodies = await gather_all(*(stream.page(ctx.client, 1, windows[i], limit=20) for i in by_count))
    api_counts = [total_count(body) for body in bodies]
    store_counts = await ctx.read(lambda session: [live_count(session, stream, windows[i]) for i in by_count])
    differ = [(i, ours, theirs) for i, ours, theirs in zip(by_count, store_counts, api_counts, strict=True)
              if ours != theirs]
    if differ:
        logger.info("%s: %d window(s) differ from the API's counts (%s); paging them again", stream.name, len(differ),
                    ", ".join(f"{_label(windows[i])}: {ours} vs {theirs}" for i, ours, theirs in differ[:5]))
    if by_ids:
        logger.info("%s: comparing the ids of %d window(s) from %s with the API's", stream.name, len(by_ids),
                    _label(windows[by_ids[0]]))
    again = sorted(by_ids + [i for i, _, _ in differ])
    if not again:
        return True
    listed: set[int] = set()
    if not await page_windows(ctx, stream, windows, again, first_page=1, phase="verify",
                              cursor_after=lambda *_: None, listed=listed):
        return False
    unlisted = await ctx.read(lambda session: live_ids(session, stream, [windows[i] for i in again]) - listed)
    if unlisted:
        fetched, complete = await refetch(ctx, stream, unlisted)
        found = {record_id(payload) for payload in fetched}
        removals = {gone: None for gone in unlisted - found} if complete else {}
        applied = await ctx.write(partial(apply_records, stream=stream, payloads=fetched, removals=removals,
                                          start_date=ctx.start_date))
        logger.info("%s: %d record(s) no longer listed: %d updated, %d removed",
                    stream.name, len(unlisted), applied.upserted, applied.removed)
    return True


def live_ids(session: Session, stream: Stream, windows: Sequence[Window]) -> set[int]:
    """Ids of live records of `stream` created in any of `windows`."""
    model = stream.model
    ids: set[int] = set()
    for window in windows:
        query = select(model.id).where(model.is_deleted.is_(False))
        if window.start is not None:
            query = query.where(model.created_date >= window.start)
        if window.end is not None:
            query = query.where(model.created_date < window.end)
        ids.update(session.execute(query).scalars())
    return ids


def live_count(session: Session, stream: Stream, window: Window) -> int:
    """Live (not deleted, not merged) records of `stream` created in `window`."""
    model = stream.model
    query = select(func.count()).select_from(model).where(model.is_deleted.is_(False))
    if window.start is not None:
        query = query.where(model.created_date >= window.start)
    if window.end is not None:
        query = query.where(model.created_date < window.end)
    return int(session.execute(query).scalar_one())


async def page_windows(
    ctx: SyncContext,
    stream: Stream,
    windows: Sequence[Window],
    indices: Sequence[int],
    *,
    first_page: int,
    phase: str,
    cursor_after: CursorAfter,
    listed: set[int] | None = None,
) -> bool:
    """Fetch and commit every page of `windows[i]` for i in `indices` (the first from `first_page`).

    `listed`, when given, collects the ids of every record the pages showed.
    """
    surveys: dict[int, asyncio.Task[dict[str, Any]]] = {}
    page_counts: dict[int, int] = {}
    meter = ctx.meter(phase, stream.name)

    def survey_ahead(position: int) -> None:
        """Ask for page 1 of the next windows, which tells how many pages each has."""
        for index in indices[position : position + ctx.concurrency]:
            if index not in surveys:
                surveys[index] = asyncio.ensure_future(stream.page(ctx.client, 1, windows[index]))

    async def jobs() -> AsyncGenerator[Job, None]:
        for position, index in enumerate(indices):
            survey_ahead(position)
            pages = max(total_pages(await surveys[index]), 1)
            start = first_page if position == 0 else 1
            page_counts[index] = pages - start + 1
            meter.pages_total = _estimated_total(page_counts, len(indices))
            for page in range(start, pages + 1):
                yield index, page, pages

    async def fetch(job: Job) -> dict[str, Any]:
        index, page, _ = job
        if page == 1:
            return surveys[index].result()
        return await stream.page(ctx.client, page, windows[index])

    try:
        async with aclosing(_in_order(fetch, jobs(), ahead=2 * ctx.concurrency)) as pages_in_order:
            async for (index, page, pages), body in pages_in_order:
                records = stream.records_of(body)
                if listed is not None:
                    listed.update(found for record in records if (found := record_id(record)) is not None)
                commit = partial(_commit_page, stream=stream, records=records,
                                 cursor=cursor_after(index, page, pages), start_date=ctx.start_date)
                applied = await ctx.commit_page(commit, stream=stream.name)
                meter.advance(1, applied.upserted)
                if ctx.reference is not None:
                    await ctx.reference.learn(stream.name, applied.rows)
                if ctx.stopping():
                    return False
    finally:
        for task in surveys.values():
            task.cancel()
        await asyncio.gather(*surveys.values(), return_exceptions=True)
    return True


def _commit_page(
    session: Session, *, stream: Stream, records: list[dict[str, Any]], cursor: dict[str, Any] | None,
    start_date: date | None,
) -> Applied:
    applied = apply_records(session, stream, records, start_date=start_date)
    if cursor is not None:
        load_state(session, stream.name).backfill_cursor = cursor
    return applied


async def _in_order(
    fetch: Callable[[T], Awaitable[R]], items: AsyncGenerator[T, None], *, ahead: int
) -> AsyncIterator[tuple[T, R]]:
    """Run `fetch` over `items` with up to `ahead` results not yet taken; yield (item, result) in order.

    A failure of `items` or of a fetch is raised here, in order; leaving early cancels the rest.
    """
    slots = asyncio.Semaphore(ahead)
    started: asyncio.Queue[tuple[T, asyncio.Task[R]] | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            async with aclosing(items) as iterator:
                async for item in iterator:
                    await slots.acquire()
                    started.put_nowait((item, asyncio.ensure_future(fetch(item))))
        finally:
            started.put_nowait(None)

    producer = asyncio.ensure_future(produce())
    try:
        while (entry := await started.get()) is not None:
            item, task = entry
            result = await task
            slots.release()
            yield item, result
        await producer
    finally:
        producer.cancel()
        pending = [entry[1] for entry in _drain(started)]
        for task in pending:
            task.cancel()
        await asyncio.gather(producer, *pending, return_exceptions=True)


def _drain(queue: asyncio.Queue[tuple[T, asyncio.Task[R]] | None]) -> list[tuple[T, asyncio.Task[R]]]:
    entries = []
    while not queue.empty():
        entry = queue.get_nowait()
        if entry is not None:
            entries.append(entry)
    return entries


def _estimated_total(page_counts: dict[int, int], windows: int) -> int:
    """Pages of `windows` windows when only those in `page_counts` are counted: the others as their mean."""
    known = sum(page_counts.values())
    return known + round((windows - len(page_counts)) * known / max(len(page_counts), 1))


def _label(window: Window) -> str:
    start = window.start.isoformat() if window.start else "…"
    end = window.end.isoformat() if window.end else "…"
    return f"[{start}, {end})"
