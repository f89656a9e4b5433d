"""Latency of every Analytics method on a store of N generated orders: p50/p99, warm and cold.

    PYTHONPATH=. python scripts/measure_queries.py --orders 100000
    PYTHONPATH=. python scripts/measure_queries.py --orders 1000000 --database-url postgresql+psycopg://...

The store is filled once from the emulator's generator through the store writers (`order_row`,
`upsert_rows`, `refresh_*_days`) in big batches, and reused by later runs with the same --orders.
"Cold" is the first call after a commit like an incremental sync's (the latest day's aggregates
recomputed, a new data version: no cached answer, reference data and that day reloaded); "warm" is
the same call again (answered from the cache after one cheap version check). The first answer of a
new process, which loads the whole aggregates table into memory, is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.analytics import Analytics  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import init_db, make_engine, session_for  # noqa: E402
from core.models import Order, StoreMeta  # noqa: E402
from core.store import bump_data_version, refresh_order_days  # noqa: E402
from retailcrm_emulator import Account, generate  # noqa: E402
from retailcrm_emulator.render import customer_dict, order_dict  # noqa: E402
from tests.support.store_loader import mark_synced, write_customers, write_orders  # noqa: E402

END = date(2026, 1, 1)
BATCH = 20_000


def questions(analytics: Analytics) -> dict[str, Callable[[], Any]]:
    """Representative calls of every Analytics method."""
    return {
        "count_orders month": lambda: analytics.count_orders("2025-11"),
        "count_orders year": lambda: analytics.count_orders("2025"),
        "count_orders year, city+status_group": lambda: analytics.count_orders(
            "2025", {"cities": ["Москва"], "status_groups": ["complete"]}),
        "count_orders month, custom field": lambda: analytics.count_orders(
            "2025-11", {"custom_fields": {"interests": "home"}}),
        "compare_periods months": lambda: analytics.compare_periods("2024-11", "2025-11"),
        "compare_periods by status_group+cumulative": lambda: analytics.compare_periods(
            "2024-11", "2025-11", by="status_group", cumulative=True),
        "orders_timeseries year by month": lambda: analytics.orders_timeseries("2025", "month"),
        "orders_timeseries year by day split": lambda: analytics.orders_timeseries(
            "2025", "day", split_by="status_group"),
        "breakdown year by city": lambda: analytics.breakdown("2025", "city"),
        "breakdown month by manager then site": lambda: analytics.breakdown("2025-11", "manager", then_by="site"),
        "breakdown month by custom:interests": lambda: analytics.breakdown("2025-11", "custom:interests"),
        "count_new_customers year": lambda: analytics.count_new_customers("2025"),
        "find_orders month": lambda: analytics.find_orders("2025-11"),
        "list_dimensions": analytics.list_dimensions,
        "sync_status": analytics.sync_status,
    }


def _live_orders(account: Account) -> Iterator[dict[str, Any]]:
    for row in account.orders.values():
        if not row.gone:
            yield order_dict(row, account.customers[row.customer], account.strings)


def _live_customers(account: Account) -> Iterator[dict[str, Any]]:
    for row in account.customers.values():
        if not row.gone:
            yield customer_dict(row, account.strings)


def prepare_store(engine: Engine, orders: int) -> None:
    """Fill the store with about `orders` generated orders unless it already holds them."""
    init_db(engine)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(Order)).scalar_one()
    if stored >= orders * 0.9:
        print(f"reusing the store: {stored:,} orders")
        return
    started = time.perf_counter()
    account = generate(seed=42, end=END, orders=orders)
    print(f"generated {len(account.orders):,} orders in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    write_orders(engine, _live_orders(account), bump=False, batch=BATCH)
    write_customers(engine, _live_customers(account), bump=False, batch=BATCH)
    mark_synced(engine, timezone=account.timezone, currency=account.currency)
    print(f"stored in {time.perf_counter() - started:.0f} s")


def _commit_like_a_sync(engine: Engine) -> None:
    """What an incremental sync commit does to readers: the latest day's aggregates change, the version moves."""
    with session_for(engine) as session:
        latest = session.execute(select(func.max(Order.created_date))).scalar()
        refresh_order_days(session, [latest])
        bump_data_version(session)
        session.commit()


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def first_answer_ms(engine: Engine) -> float:
    """A new process's first answer: reference data and the whole aggregates table are loaded."""
    analytics = Analytics(engine, load_settings({}, dotenv=False))
    started = time.perf_counter()
    analytics.count_orders("2025-11")
    return (time.perf_counter() - started) * 1000


def measure(engine: Engine, repeats: int) -> list[tuple[str, float, float, float, float]]:
    """(question, cold p50, cold p99, warm p50, warm p99) in milliseconds."""
    analytics = Analytics(engine, load_settings({}, dotenv=False))
    results = []
    for name, ask in questions(analytics).items():
        ask()  # imports and first-use costs are not what we measure
        cold: list[float] = []
        warm: list[float] = []
        for _ in range(repeats):
            _commit_like_a_sync(engine)
            started = time.perf_counter()
            ask()
            cold.append((time.perf_counter() - started) * 1000)
            for _ in range(5):
                started = time.perf_counter()
                ask()
                warm.append((time.perf_counter() - started) * 1000)
        results.append((name, statistics.median(cold), _percentile(cold, 0.99), statistics.median(warm),
                        _percentile(warm, 0.99)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="about how many orders to generate")
    parser.add_argument("--database-url", help="store to use (default: data/measure_<orders>.db, SQLite)")
    parser.add_argument("--repeats", type=int, default=30, help="cold calls per question (5 warm calls each)")
    parser.add_argument("--prepare-only", action="store_true", help="fill the store and stop")
    arguments = parser.parse_args()
    url = arguments.database_url or f"sqlite:///{ROOT / 'data' / f'measure_{arguments.orders}.db'}"
    engine = make_engine(url)
    prepare_store(engine, arguments.orders)
    if arguments.prepare_only:
        return
    with engine.connect() as connection:
        version = connection.execute(select(StoreMeta.data_version)).scalar()
        stats_rows = connection.execute(select(func.count()).select_from(Order)).scalar_one()
    print(f"store: {engine.url.render_as_string(hide_password=True)}, {stats_rows:,} orders, version {version}")
    print(f"first answer of a new process: {first_answer_ms(engine):.0f} ms")
    print(f"{'question':45} {'cold p50':>9} {'cold p99':>9} {'warm p50':>9} {'warm p99':>9}  (ms)")
    for name, cold50, cold99, warm50, warm99 in measure(engine, arguments.repeats):
        print(f"{name:45} {cold50:9.2f} {cold99:9.2f} {warm50:9.3f} {warm99:9.3f}")


if __name__ == "__main__":
    main()
