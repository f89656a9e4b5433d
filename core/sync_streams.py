"""The two synced streams, orders and customers, described once so one engine serves both.

A `Stream` says which API calls list, re-fetch and walk the history of its records, how a month
window becomes API filters, and which table, row builder and day aggregate it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session

from core.models import Customer, Order
from core.retailcrm_client import RetailCRMClient
from core.store import customer_row, order_row, refresh_customer_days, refresh_order_days

StreamName = Literal["orders", "customers"]


@dataclass(frozen=True)
class Window:
    """Records created in [start, end) of account-local days; None = unbounded on that side."""

    start: date | None
    end: date | None

    def contains(self, day: date) -> bool:
        """Whether a record created on `day` belongs to this window."""
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Stream:
    """Everything that differs between syncing orders and syncing customers."""

    name: StreamName
    model: type[Order] | type[Customer]
    list_key: str
    history_key: str
    row_of: Callable[[Any, datetime], dict[str, Any]]
    refresh_days: Callable[[Session, Iterable[date]], None]
    window_filters: Callable[[Window], dict[str, str]]

    async def page(self, client: RetailCRMClient, page: int, window: Window, *, limit: int = 100) -> dict[str, Any]:
        """One page of the list of records created in `window`."""
        fetch = client.orders_page if self.name == "orders" else client.customers_page
        return await fetch(page, filters=self.window_filters(window), limit=limit)

    async def by_ids(self, client: RetailCRMClient, ids: Sequence[int]) -> list[dict[str, Any]]:
        """The records among `ids` that still exist."""
        fetch = client.orders_by_ids if self.name == "orders" else client.customers_by_ids
        return await fetch(ids)

    def records_of(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The records of a list response (an array, or a map keyed by id)."""
        value = body.get(self.list_key)
        if isinstance(value, Mapping):
            value = list(value.values())
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _last_second(end: date) -> str:
    return (datetime(end.year, end.month, end.day) - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")


def order_window_filters(window: Window) -> dict[str, str]:
    """`createdAtFrom`/`createdAtTo` (both inclusive, "Y-m-d H:i:s") of a window."""
    filters: dict[str, str] = {}
    if window.start is not None:
        filters["createdAtFrom"] = f"{window.start.isoformat()} 00:00:00"
    if window.end is not None:
        filters["createdAtTo"] = _last_second(window.end)
    return filters


def customer_window_filters(window: Window) -> dict[str, str]:
    """`dateFrom`/`dateTo` (registration dates, both inclusive, "Y-m-d") of a window."""
    filters: dict[str, str] = {}
    if window.start is not None:
        filters["dateFrom"] = window.start.isoformat()
    if window.end is not None:
        filters["dateTo"] = (window.end - timedelta(days=1)).isoformat()
    return filters


ORDERS = Stream(
    name="orders",
    model=Order,
    list_key="orders",
    history_key="order",
    row_of=order_row,
    refresh_days=refresh_order_days,
    window_filters=order_window_filters,
)
CUSTOMERS = Stream(
    name="customers",
    model=Customer,
    list_key="customers",
    history_key="customer",
    row_of=customer_row,
    refresh_days=refresh_customer_days,
    window_filters=customer_window_filters,
)
STREAMS: tuple[Stream, ...] = (ORDERS, CUSTOMERS)
