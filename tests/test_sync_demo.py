"""The demo dataset (scale 1.0, ~37k orders) synced once reproduces the user-measured facts.

Nov 2024 = 1,163 and Nov 2025 = 1,447 live orders, counted from `orders` and from `daily_order_stats`.
The emulator runs in-process without a rate limit so this stays bounded in time.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.db import init_db, make_engine, session_for
from core.models import DailyOrderStat, Order
from core.sync import run_cycle
from retailcrm_emulator import generate
from tests.support.emulator import emulator_transport, sync_settings

MEASURED = {(2024, 11): 1163, (2025, 11): 1447}


def _month(column, year: int, month: int):  # type: ignore[no-untyped-def]
    following = date(year + month // 12, month % 12 + 1, 1)
    return (column >= date(year, month, 1)) & (column < following)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_demo_dataset_gives_the_measured_november_counts(database_url) -> None:  # type: ignore[no-untyped-def]
    account = generate(scale=1.0)
    engine = make_engine(database_url)
    init_db(engine)
    result = run_cycle(sync_settings(database_url), transport=emulator_transport(account), engine=engine)
    assert result.status == "ok"
    with session_for(engine) as session:
        for (year, month), expected in MEASURED.items():
            stored = session.execute(
                select(func.count()).select_from(Order)
                .where(Order.is_deleted.is_(False), _month(Order.created_date, year, month))
            ).scalar_one()
            aggregated = session.execute(
                select(func.coalesce(func.sum(DailyOrderStat.orders), 0)).where(_month(DailyOrderStat.day, year, month))
            ).scalar_one()
            assert (stored, aggregated) == (expected, expected), f"{year}-{month:02d}"
        live = session.execute(select(func.count()).select_from(Order).where(Order.is_deleted.is_(False))).scalar_one()
    engine.dispose()
    assert live == len(account.live_orders())
