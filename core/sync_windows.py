"""The backfill plan: month windows of creation dates and a resumable cursor over them.

Windows are account-local calendar months from the first one to the current month, which stays
open-ended so new records always have a window. Without `SYNC_START_DATE` a leading window takes
everything created before the first month, which is guessed from the first and last page of the
unfiltered list (a hint only: whatever the list's sort order, that window's own paging is exact).
The cursor names the next page to commit: {window, page} plus the phase ("pages", "verify", "done");
`reconcile` asks for the windows to be checked again (history held a record it could not apply):
every window's count, and the ids of every window from `reconcile_from` on (all windows when unset).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from core.normalize import parse_datetime
from core.retailcrm_client import RetailCRMClient
from core.sync_streams import Stream, Window


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass
class BackfillCursor:
    """Where a stream's backfill stands; stored as JSON in `SyncState.backfill_cursor`."""

    first: str
    open_from: str
    head: bool = True
    window: int = 0
    page: int = 1
    phase: str = "pages"
    reconcile: bool = False
    reconcile_from: str | None = None

    def windows(self) -> list[Window]:
        """The plan: [head (everything before `first`)], months from `first`, then [open_from, ∞)."""
        first, open_from = date.fromisoformat(self.first), date.fromisoformat(self.open_from)
        windows = [Window(None, first)] if self.head else []
        start = first
        while start < open_from:
            end = min(next_month(start), open_from)
            windows.append(Window(start, end))
            start = end
        windows.append(Window(max(first, open_from), None))
        return windows

    def windows_to_compare_by_ids(self) -> list[int]:
        """Indices of the windows whose ids must be compared with the API's (none unless `reconcile`)."""
        if not self.reconcile:
            return []
        since = date.fromisoformat(self.reconcile_from) if self.reconcile_from else None
        return [index for index, window in enumerate(self.windows())
                if since is None or window.end is None or window.end > since]

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in the database."""
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> BackfillCursor:
        """Rebuild from the stored JSON."""
        return cls(**{key: value[key] for key in cls.__dataclass_fields__ if key in value})


def ask_to_reconcile(cursor: dict[str, Any], since: date | None) -> dict[str, Any]:
    """`cursor` (JSON) asking for the windows from `since` on (every window if None) to be reconciled.

    A record whose creation history could not apply was created when that change was recorded, so in
    a window from `since` on; a deletion or edit lost in an earlier window shows in that window's count,
    as nothing created there since can balance it.
    """
    if cursor.get("reconcile") and not cursor.get("reconcile_from"):
        return cursor
    earlier = cursor.get("reconcile_from") if cursor.get("reconcile") else None
    if since is not None and earlier is not None:
        since = min(since, date.fromisoformat(earlier))
    return {**cursor, "reconcile": True, "reconcile_from": since.isoformat() if since else None}


async def plan_backfill(
    client: RetailCRMClient, stream: Stream, *, today: date, start_date: date | None
) -> BackfillCursor:
    """A new cursor: month windows from `start_date` (or the oldest record's month) to this month."""
    open_from = month_start(today)
    if start_date is not None:
        return BackfillCursor(first=start_date.isoformat(), open_from=open_from.isoformat(), head=False)
    oldest = await oldest_creation_hint(client, stream)
    first = min(month_start(oldest), open_from) if oldest is not None else open_from
    return BackfillCursor(first=first.isoformat(), open_from=open_from.isoformat(), head=True)


async def oldest_creation_hint(client: RetailCRMClient, stream: Stream) -> date | None:
    """The oldest creation date on the first and last page of the unfiltered list (≤ 2 requests)."""
    everything = Window(None, None)
    first_page = await stream.page(client, 1, everything)
    bodies = [first_page]
    last = total_pages(first_page)
    if last > 1:
        bodies.append(await stream.page(client, last, everything))
    dates = [
        created.date()
        for body in bodies
        for record in stream.records_of(body)
        if (created := parse_datetime(record.get("createdAt"))) is not None
    ]
    return min(dates) if dates else None


def total_pages(body: dict[str, Any]) -> int:
    """`pagination.totalPageCount` of a list or history response (0 when absent or unusable)."""
    pagination = body.get("pagination")
    try:
        return int(pagination.get("totalPageCount") or 0) if isinstance(pagination, dict) else 0
    except (TypeError, ValueError):
        return 0


def total_count(body: dict[str, Any]) -> int:
    """`pagination.totalCount` of a list response (0 when absent or unusable)."""
    pagination = body.get("pagination")
    try:
        return int(pagination.get("totalCount") or 0) if isinstance(pagination, dict) else 0
    except (TypeError, ValueError):
        return 0
