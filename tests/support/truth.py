"""Compare the store with the emulator's truth, order by order and day by day.

`store_differences(engine, account)` lists every difference (empty = equal); `assert_store_matches`
fails with the first few. Rows are compared through `core.store.order_row`/`customer_row` applied
to the emulator's payloads, so the comparison checks the sync, not the row mapping.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from core.db import session_for
from core.models import Customer, DailyCustomerStat, DailyOrderStat, Order
from core.store import customer_row, order_row, utcnow

ORDER_FIELDS = (
    "number", "external_id", "site", "status", "order_type", "order_method", "manager_id", "customer_id",
    "created_at", "created_date", "summ_minor", "total_minor", "prepay_minor", "currency", "utm_source",
    "delivery_city", "city_key", "custom_fields",
)
CUSTOMER_FIELDS = ("external_id", "site", "created_at", "created_date", "custom_fields")
_ORDER_DIMENSIONS = ("site", "status", "order_type", "order_method", "manager_id", "city_key", "utm_source")


def expected_orders(account: Any, since: date | None = None) -> dict[int, dict[str, Any]]:
    """Storage rows of the account's live orders (created on or after `since`), by id."""
    rows = (order_row(payload, utcnow()) for payload in account.live_orders())
    return {row["id"]: row for row in rows if since is None or row["created_date"] >= since}


def expected_customers(account: Any, since: date | None = None) -> dict[int, dict[str, Any]]:
    """Storage rows of the account's live customers (registered on or after `since`), by id."""
    rows = (customer_row(payload, utcnow()) for payload in account.live_customers())
    return {row["id"]: row for row in rows if since is None or row["created_date"] >= since}


def _order_day_key(row: dict[str, Any]) -> tuple[Any, ...]:
    manager = "" if row["manager_id"] is None else str(row["manager_id"])
    return (row["created_date"], *(manager if name == "manager_id" else row[name] for name in _ORDER_DIMENSIONS))


def _compare_rows(
    kind: str, expected: dict[int, dict[str, Any]], stored: dict[int, Any], fields: tuple[str, ...]
) -> list[str]:
    missing, extra = sorted(expected.keys() - stored.keys()), sorted(stored.keys() - expected.keys())
    problems = [f"{kind} {i} is live in the account but not in the store" for i in missing]
    problems += [f"{kind} {i} is live in the store but not in the account" for i in extra]
    for record_id in sorted(expected.keys() & stored.keys()):
        for name in fields:
            want, have = expected[record_id][name], getattr(stored[record_id], name)
            if want != have:
                problems.append(f"{kind} {record_id}.{name}: account {want!r}, store {have!r}")
    return problems


def store_differences(engine: Engine, account: Any, *, since: date | None = None) -> list[str]:
    """Every difference between the store and the account (live records, fields, day aggregates)."""
    orders, customers = expected_orders(account, since), expected_customers(account, since)
    with session_for(engine) as session:
        stored_orders = {o.id: o for o in session.execute(select(Order).where(Order.is_deleted.is_(False))).scalars()}
        stored_customers = {
            c.id: c for c in session.execute(select(Customer).where(Customer.is_deleted.is_(False))).scalars()
        }
        order_days = Counter()
        revenue = Counter()
        for stat in session.execute(select(DailyOrderStat)).scalars():
            key = (stat.day, *(getattr(stat, name) for name in _ORDER_DIMENSIONS))
            order_days[key] += stat.orders
            revenue[key] += stat.revenue_minor
        customer_days = Counter()
        for stat in session.execute(select(DailyCustomerStat)).scalars():
            customer_days[(stat.day, stat.site)] += stat.customers

    problems = _compare_rows("order", orders, stored_orders, ORDER_FIELDS)
    problems += _compare_rows("customer", customers, stored_customers, CUSTOMER_FIELDS)
    want_days, want_revenue = Counter(), Counter()
    for row in orders.values():
        want_days[_order_day_key(row)] += 1
        want_revenue[_order_day_key(row)] += row["total_minor"]
    if +order_days != want_days:
        diff = sorted(set((order_days - want_days) | (want_days - order_days)))[:5]
        problems.append(f"daily_order_stats differ from a recount of the account, e.g. {diff}")
    if +revenue != +want_revenue:
        problems.append("daily_order_stats revenue differs from a recount of the account")
    want_customer_days = Counter((row["created_date"], row["site"]) for row in customers.values())
    if +customer_days != want_customer_days:
        diff = sorted(set((customer_days - want_customer_days) | (want_customer_days - customer_days)))[:5]
        problems.append(f"daily_customer_stats differ from a recount of the account, e.g. {diff}")
    return problems


def assert_store_matches(engine: Engine, account: Any, *, since: date | None = None) -> None:
    """Fail with the first differences when the store is not exactly the account's live data."""
    problems = store_differences(engine, account, since=since)
    assert not problems, f"{len(problems)} difference(s):\n" + "\n".join(problems[:15])


class ApiSnapshot:
    """Every live order and customer as the API lists them now (for an emulator in another process).

    Has the `live_orders()`/`live_customers()` of an emulator `Account`, so the checks above take either.
    """

    def __init__(self, orders: list[dict[str, Any]], customers: list[dict[str, Any]]) -> None:
        self._orders, self._customers = orders, customers

    def live_orders(self) -> list[dict[str, Any]]:
        return self._orders

    def live_customers(self) -> list[dict[str, Any]]:
        return self._customers

    @classmethod
    async def take(cls, client: Any) -> ApiSnapshot:
        """Page the unfiltered /orders and /customers lists to their `totalPageCount` (nothing may change meanwhile)."""
        first_orders, first_customers = await client.orders_page(1), await client.customers_page(1)
        orders, customers = list(first_orders["orders"]), list(first_customers["customers"])
        pages = range(2, first_orders["pagination"]["totalPageCount"] + 1)
        async for body in client.orders_pages(pages):
            orders.extend(body["orders"])
        pages = range(2, first_customers["pagination"]["totalPageCount"] + 1)
        async for body in client.customers_pages(pages):
            customers.extend(body["customers"])
        return cls(orders, customers)
