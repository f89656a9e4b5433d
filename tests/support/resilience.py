"""Bookkeeping and end-of-scenario checks of the resilience suite (tests/resilience/).

Every scenario opens a `Scenario`, counts the faults it injects, and ends with `Scenario.verify`: the
store against the emulator's truth order by order and day by day (`tests.support.truth`), and the MCP
answers (count_orders for a few months, breakdown by status) against a recount of the truth, through a
real in-process fastmcp client over `Analytics` on that store. `TOTALS` adds everything up for the
summary line printed at the end of the run. `store_self_differences` checks a store against itself
(the day aggregates against its own orders), which must hold at any instant, even right after a kill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from core.analytics import Analytics
from core.config import load_settings
from core.db import session_for
from core.mcp import create_server
from core.models import DailyOrderStat, Order
from tests.support.mcp_session import McpSession
from tests.support.truth import expected_orders, store_differences

_DAY_KEY = ("site", "status", "order_type", "order_method", "city_key", "utm_source")


@dataclass
class Totals:
    """What the whole resilience run did."""

    scenarios: int = 0
    faults: int = 0
    orders_compared: int = 0
    mismatches: int = 0

    def summary(self) -> str:
        return (f"resilience: scenarios run {self.scenarios}, faults injected {self.faults}, "
                f"orders compared {self.orders_compared}, mismatches {self.mismatches}")


TOTALS = Totals()


class Scenario:
    """One scenario's share of `TOTALS`; `verify` fails the test on any mismatch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.faults = 0
        TOTALS.scenarios += 1

    def fault(self, count: int = 1) -> None:
        """Count `count` injected faults (an HTTP fault, a kill, an outage, a tampered body...)."""
        self.faults += count
        TOTALS.faults += count

    def verify(self, engine: Engine, database_url: str, account: Any, *, since: date | None = None,
               months: Sequence[str] = ()) -> None:
        """The store equals `account` (rows, day aggregates) and the MCP tools answer its numbers for four
        months spread over its range plus `months`."""
        problems = store_differences(engine, account, since=since)
        truth = expected_orders(account, since)
        problems += mcp_differences(engine, database_url, truth, sorted({*pick_months(truth), *months}))
        TOTALS.orders_compared += len(truth)
        TOTALS.mismatches += len(problems)
        assert not problems, f"{self.name}: {len(problems)} mismatch(es):\n" + "\n".join(problems[:15])


def pick_months(truth: dict[int, dict[str, Any]]) -> list[str]:
    """Four months of the truth: the first, the last and two between them ("YYYY-MM")."""
    months = sorted({f"{row['created_at']:%Y-%m}" for row in truth.values()})
    if len(months) <= 4:
        return months
    return [months[0], months[len(months) // 3], months[2 * len(months) // 3], months[-1]]


def _month_of(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


def mcp_differences(engine: Engine, database_url: str, truth: dict[int, dict[str, Any]],
                    months: Sequence[str]) -> list[str]:
    """count_orders (count, revenue) and breakdown by status per month, asked over MCP, against `truth` rows."""
    analytics = Analytics(engine, load_settings({"DATABASE_URL": database_url}, dotenv=False))
    session = McpSession(create_server(analytics))
    problems: list[str] = []
    try:
        for month in months:
            rows = [row for row in truth.values() if _month_of(row["created_at"]) == month]
            count = session.answer("count_orders", {"period": month})
            revenue = sum(row["total_minor"] for row in rows)
            if count["count"] != len(rows) or Decimal(count["revenue"]) * 100 != revenue:
                problems.append(f"count_orders {month}: MCP {count['count']} / {count['revenue']}, "
                                f"truth {len(rows)} / {Decimal(revenue) / 100}")
            by_status = session.answer("breakdown", {"period": month, "by": "status", "top_n": 100})
            answered = {row["key"]: row["count"] for row in by_status["rows"]}
            wanted = dict(Counter(row["status"] for row in rows))
            if answered != wanted:
                problems.append(f"breakdown by status {month}: MCP {answered}, truth {wanted}")
    finally:
        session.close()
    return problems


def store_self_differences(engine: Engine) -> list[str]:
    """Differences between `daily_order_stats` and a recount of the store's own live orders."""
    with session_for(engine) as session:
        orders = session.execute(select(Order).where(Order.is_deleted.is_(False))).scalars().all()
        stats = session.execute(select(DailyOrderStat)).scalars().all()
    want: Counter[tuple[Any, ...]] = Counter()
    want_revenue: Counter[tuple[Any, ...]] = Counter()
    for order in orders:
        key = (order.created_date, "" if order.manager_id is None else str(order.manager_id),
               *(getattr(order, name) for name in _DAY_KEY))
        want[key] += 1
        want_revenue[key] += order.total_minor
    have = Counter({(s.day, s.manager_id, *(getattr(s, name) for name in _DAY_KEY)): s.orders
                    for s in stats if s.orders})
    have_revenue = Counter({(s.day, s.manager_id, *(getattr(s, name) for name in _DAY_KEY)): s.revenue_minor
                            for s in stats if s.orders})
    problems = []
    if have != want:
        problems.append(f"daily_order_stats differ from the stored orders, e.g. {sorted((have - want) | (want - have))[:3]}")
    if +have_revenue != +want_revenue:
        problems.append("daily_order_stats revenue differs from the stored orders")
    return problems
