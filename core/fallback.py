"""What the store covers, and counting from the RetailCRM API for periods it does not.

The store holds orders from SYNC_START_DATE (or the beginning) up to the last successful sync, once the
initial download (backfill) has finished; and it knows that nothing exists after "now" (a period that has
not started is answered 0 from the store). A question about anything else is answered from the API
(a count is one request: `pagination.totalCount` of `/api/v5/orders` with `limit=20`) or, without API
settings, refused with `NotSyncedError`: never a zero for data that was not synced.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import httpx

from core.config import Secret, Settings
from core.normalize import DATETIME_FORMAT
from core.sync_windows import BackfillCursor

T = TypeVar("T")


class NotSyncedError(RuntimeError):
    """The period is not in the store and the API cannot answer it; the message says why."""


@dataclass(frozen=True)
class Coverage:
    """The account-local range of creation times the store holds completely."""

    synced_until: datetime | None  # last successful sync, account-local; None = never synced
    synced_from: datetime | None  # SYNC_START_DATE 00:00; None = from the first order
    backfill_done: bool
    # While the first download runs: the range of month windows already paged ([None, end) = from the start).
    backfilled: tuple[datetime | None, datetime] | None = None
    # Account-local "now" of the question: no order is created after it, so a later range is known empty.
    now: datetime | None = None

    def gap(self, start: datetime, end: datetime) -> str | None:
        """Why `[start, end)` is not (completely) in the store, or None when it is."""
        if self.synced_until is None:
            return "nothing has been synced into the store yet"
        if self.now is not None and start >= self.now:
            return None
        if not self.backfill_done and not self._backfilled(start, end):
            done = ""
            if self.backfilled is not None:
                low, high = self.backfilled
                done = f" (done {'up' if low is None else f'from {low:%Y-%m-%d}'} to {high:%Y-%m-%d})"
            return f"the initial download of orders (backfill) has not covered it yet{done}"
        if self.synced_from is not None and start < self.synced_from:
            return f"it starts before SYNC_START_DATE {self.synced_from:%Y-%m-%d}, where the store begins"
        if start >= self.synced_until:
            return f"it starts after the last sync ({self.synced_until:%Y-%m-%d %H:%M:%S} local)"
        return None

    def _backfilled(self, start: datetime, end: datetime) -> bool:
        if self.backfilled is None:
            return False
        low, high = self.backfilled
        return (low is None or start >= low) and end <= high


def backfilled_range(cursor: dict[str, Any] | None) -> tuple[datetime | None, datetime] | None:
    """The windows a running backfill has finished paging, from its stored cursor (None if none yet)."""
    if not cursor or cursor.get("phase") != "pages":
        return None
    try:
        parsed = BackfillCursor.from_json(cursor)
        windows = parsed.windows()
    except (TypeError, ValueError, KeyError):
        return None
    if parsed.window <= 0 or parsed.window >= len(windows) or windows[parsed.window].start is None:
        return None
    first = windows[0].start
    return (datetime.combine(first, time.min) if first else None,
            datetime.combine(windows[parsed.window].start, time.min))


def sync_start(settings: Settings) -> datetime | None:
    """SYNC_START_DATE as a local midnight, if set."""
    start: date | None = settings.sync_start_date
    return datetime.combine(start, time.min) if start else None


@dataclass(frozen=True)
class ApiQuery:
    """A count the API can answer: a created-at range and filters in RetailCRM's terms."""

    start: datetime
    end: datetime
    filters: dict[str, Any]

    def params(self) -> dict[str, Any]:
        """`/orders` filters for the half-open range (RetailCRM's createdAtTo is inclusive, to the second)."""
        last_second = self.end - timedelta(seconds=1)
        return {
            "createdAtFrom": self.start.strftime(DATETIME_FORMAT),
            "createdAtTo": last_second.strftime(DATETIME_FORMAT),
            **self.filters,
        }


class ApiCounter:
    """Counts orders through `core.retailcrm_client.RetailCRMClient` (one request per count)."""

    def __init__(self, base_url: str, api_key: Secret, *, rps: float = 10,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._rps = rps
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> "ApiCounter | None":
        """A counter when RETAILCRM_URL and RETAILCRM_API_KEY are set, else None."""
        if not settings.retailcrm_url or not settings.api_key:
            return None
        return cls(settings.retailcrm_url, settings.api_key, rps=settings.rps)

    def describe(self) -> str:
        """Where counts come from, without the key."""
        return self._base_url

    def count(self, queries: list[ApiQuery]) -> list[int]:
        """`pagination.totalCount` of each query, asked in order within one client session."""
        return run_sync(self._count(queries))

    async def _count(self, queries: list[ApiQuery]) -> list[int]:
        from core.retailcrm_client import RetailCRMClient  # the fallback is optional: import on use

        async with RetailCRMClient(self._base_url, self._api_key, rps=self._rps, transport=self._transport) as client:
            results = []
            for query in queries:
                page = await client.orders_page(1, filters=query.params(), limit=20)
                results.append(_total_count(page))
            return results


def _total_count(page: Any) -> int:
    pagination = page.get("pagination") if isinstance(page, dict) else getattr(page, "pagination", None)
    if isinstance(pagination, dict):
        total = pagination.get("totalCount")
    else:
        total = getattr(pagination, "total_count", None) or getattr(pagination, "totalCount", None)
    if not isinstance(total, int) or total < 0:
        raise NotSyncedError("the RetailCRM API answered without a usable pagination.totalCount")
    return total


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=runner, name="api-fallback")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
