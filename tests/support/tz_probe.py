"""`python -m tests.support.tz_probe DATABASE_URL`: sync two orders either side of a month boundary and
print where the store put them, as JSON. Tests run it under several `TZ` values and compare."""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import select

from core.db import init_db, make_engine, session_for
from core.models import DailyOrderStat, Order
from core.sync import run_cycle
from retailcrm_emulator import Account
from tests.support.emulator import emulator_transport, sync_settings

BOUNDARY = ("2024-11-30 23:59:59", "2024-12-01 00:00:00")


def main(database_url: str) -> None:
    """Sync the two orders into `database_url` and print their stored times, days and day counts."""
    account = Account()
    for created_at in BOUNDARY:
        account.create_order(created_at=created_at)
    engine = make_engine(database_url)
    init_db(engine)
    run_cycle(sync_settings(database_url), transport=emulator_transport(account), engine=engine)
    with session_for(engine) as session:
        orders = session.execute(select(Order).order_by(Order.id)).scalars().all()
        days = session.execute(select(DailyOrderStat.day, DailyOrderStat.orders).order_by(DailyOrderStat.day)).all()
    print(json.dumps({
        "machine_zone": time.tzname[0],
        "created_at": [str(order.created_at) for order in orders],
        "created_date": [str(order.created_date) for order in orders],
        "daily_order_stats": [[str(day), count] for day, count in days],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
