"""Incremental sync through `/orders/history` and `/customers/history`, walked by `sinceId` only.

History tells which records changed; their final state is re-fetched in full by id, so records
that arrive out of order, or several changes of one record, all end in the state the API has now.
A record the re-fetch does not return was deleted (unless the answer itself was broken);
`deleted` and `combinedTo` records remove the record at once (a merge also re-fetches the record it
was merged into). A record naming no usable id, or a re-fetch answer too broken to trust, makes the
stream's windows be reconciled with the API (see `core.sync_backfill.verify_windows`): the counts of
all, the ids of those from the page's first day on. Each history page is
committed with its re-fetched rows, the aggregates and the new `sinceId` in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from core.normalize import DATETIME_FORMAT, as_int, parse_datetime
from core.retailcrm_client import RetailCRMClient
from core.sync_apply import Applied, apply_records, load_state
from core.sync_context import SyncContext
from core.sync_refetch import record_id, refetch
from core.sync_streams import Stream
from core.sync_windows import ask_to_reconcile, total_pages

logger = logging.getLogger("retailcrm.sync")

# How far back to look for the newest history record before walking the whole history.
LOOKBACKS = (timedelta(days=1), timedelta(days=7), timedelta(days=31), timedelta(days=366))
# An empty page that claims more pages follow is asked again this many times, then the walk pauses.
EMPTY_PAGE_RETRIES = 3


async def history_pages(
    client: RetailCRMClient, stream: Stream, *, since_id: int = 0, start_date: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Non-empty pages of history records after `since_id` (or from `start_date`), in id order.

    The next page is requested while the caller works on the current one; the walk ends when a
    page says it is the last (`totalPageCount` ≤ 1), never on an empty page alone.
    """

    def fetch(after: int, start: str | None) -> asyncio.Task[dict[str, Any]]:
        return asyncio.ensure_future(
            client.history_page(stream.name, since_id=after or None, start_date=None if after else start)
        )

    pending: asyncio.Task[dict[str, Any]] | None = fetch(since_id, start_date)
    empty_pages = 0
    try:
        while pending is not None:
            body = await pending
            pending = None
            records = sorted(
                (record for record in _records(body) if as_int(record.get("id")) is not None),
                key=lambda record: as_int(record["id"]) or 0,
            )
            more = total_pages(body) > 1
            if records:
                empty_pages = 0
                since_id = as_int(records[-1]["id"]) or since_id
            elif more:
                empty_pages += 1
                if empty_pages > EMPTY_PAGE_RETRIES:
                    logger.warning("%s history: empty pages keep claiming more records; pausing at %s",
                                   stream.name, since_id)
                    more = False
            if more:
                pending = fetch(since_id, start_date)
            if records:
                yield records
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


def _records(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("history")
    return [record for record in value if isinstance(record, dict)] if isinstance(value, list) else []


async def find_history_end(client: RetailCRMClient, stream: Stream, now_local: datetime) -> int:
    """The id of the newest history record (0 when there is none), found without the wall clock as cursor.

    Asks for records since a little before `now_local` (account-local), widening the window while it
    is empty, and jumps to that listing's last page (`page` is allowed with `startDate`, only not with
    `sinceId`); a history quiet for a year is walked by `sinceId` from its start. A record added
    meanwhile lies after the id returned, so incremental sync still applies it.
    """
    path = f"/api/v5/{stream.name}/history"
    for lookback in LOOKBACKS:
        query = {"filter": {"startDate": (now_local - lookback).strftime(DATETIME_FORMAT)}, "limit": 100}
        first = await client.get(path, {**query, "page": 1}, required=("history", "pagination"))
        last = _max_id(first)
        pages = total_pages(first)
        if pages > 1:
            tail = await client.get(path, {**query, "page": pages}, required=("history", "pagination"))
            if _records(tail):
                last = max(last, _max_id(tail))
            else:  # an empty last page (seen on the real API) is no end: walk on from what is known
                last = max(last, await _last_id(history_pages(client, stream, since_id=last)))
        if last:
            return last
    return await _last_id(history_pages(client, stream))


def _max_id(body: dict[str, Any]) -> int:
    return max((as_int(record.get("id")) or 0 for record in _records(body)), default=0)


async def _last_id(pages: AsyncIterator[list[dict[str, Any]]]) -> int:
    last = 0
    async with aclosing(pages) as walk:
        async for records in walk:
            last = max(last, as_int(records[-1]["id"]) or 0)
    return last


@dataclass
class HistoryChanges:
    """What one page of history records asks for: ids to re-fetch and ids to remove."""

    last_id: int = 0
    refetch: set[int] = field(default_factory=set)
    removals: dict[int, int | None] = field(default_factory=dict)
    unidentified: int = 0
    first_day: date | None = None

    @classmethod
    def of(cls, records: Iterable[dict[str, Any]], entity_key: str) -> HistoryChanges:
        """Sort `records` into re-fetches and removals (a merge remembers its target); count records of no id."""
        changes = cls()
        for record in records:
            changes.last_id = max(changes.last_id, as_int(record.get("id")) or 0)
            if (recorded := parse_datetime(record.get("createdAt"))) is not None:
                changes.first_day = min(changes.first_day or recorded.date(), recorded.date())
            entity = record.get(entity_key)
            entity_id = as_int(entity.get("id")) if isinstance(entity, dict) else None
            if entity_id is None:
                changes.unidentified += 1
                continue
            target = record.get("combinedTo")
            target_id = as_int(target.get("id")) if isinstance(target, dict) else None
            if target_id is not None:
                changes.removals[entity_id] = target_id
                changes.refetch.add(target_id)
            elif record.get("deleted"):
                changes.removals.setdefault(entity_id, None)
            else:
                changes.refetch.add(entity_id)
        changes.refetch -= changes.removals.keys()
        return changes


async def sync_history(ctx: SyncContext, stream: Stream, since_id: int) -> bool:
    """Apply every history record after `since_id`, page by page; False if stopped before the end."""
    meter = ctx.meter("history", stream.name)
    async with aclosing(history_pages(ctx.client, stream, since_id=since_id)) as pages:
        async for records in pages:
            changes = HistoryChanges.of(records, stream.history_key)
            if changes.unidentified:
                logger.warning("%s history: %d record(s) without a usable %s id; the windows will be "
                               "reconciled with the API", stream.name, changes.unidentified, stream.history_key)
            fetched, complete = await refetch(ctx, stream, changes.refetch)
            unapplied = bool(changes.unidentified) or not complete
            removals = dict(changes.removals)
            if complete:
                for missing in changes.refetch - {record_id(payload) for payload in fetched}:
                    removals.setdefault(missing, None)
            commit = partial(_commit, ctx=ctx, stream=stream, fetched=fetched, removals=removals, changes=changes,
                             count=len(records), unapplied=unapplied)
            applied = await ctx.commit_page(commit, stream=stream.name, history_records=len(records))
            meter.advance(1, len(records))
            if ctx.reference is not None:
                await ctx.reference.learn(stream.name, applied.rows)
            if ctx.stopping():
                return False
    return True


def _commit(
    session: Session,
    *,
    ctx: SyncContext,
    stream: Stream,
    fetched: list[dict[str, Any]],
    removals: dict[int, int | None],
    changes: HistoryChanges,
    count: int,
    unapplied: bool,
) -> Applied:
    applied = apply_records(session, stream, fetched, removals, start_date=ctx.start_date)
    state = load_state(session, stream.name)
    state.history_since_id = max(state.history_since_id or 0, changes.last_id)
    state.records_applied = (state.records_applied or 0) + count
    if unapplied and state.backfill_cursor:
        reconcile_from = changes.first_day - timedelta(days=1) if changes.first_day else None
        state.backfill_cursor = ask_to_reconcile(state.backfill_cursor, reconcile_from)
    return applied
