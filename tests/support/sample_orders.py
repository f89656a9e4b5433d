"""A small hand-made store for analytics tests: every value chosen so each answer can be checked by eye.

Account time zone Europe/Moscow; reference data from the emulator's catalogue. Order 9 is deleted.
The last sync is at 2025-12-10 13:00 local (10:00 UTC); "now" in tests is 14:00 local that day.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine

from core.db import session_for
from core.models import Order
from core.store import mark_removed, refresh_order_days
from tests.support.store_loader import mark_synced, write_customers, write_orders

SYNCED_AT_UTC = datetime(2025, 12, 10, 10, 0)
NOW = datetime(2025, 12, 10, 11, 0, tzinfo=timezone.utc)  # 14:00 in Moscow


def _order(order_id: int, created: str, status: str, total: float, *, site: str = "main-store",
           order_type: str = "eshop-individual", method: str = "phone", manager: int | None = None,
           city: str | None = None, utm: str | None = None, fields: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": order_id, "number": f"{order_id}00A", "createdAt": created, "status": status, "site": site,
        "orderType": order_type, "orderMethod": method, "totalSumm": total, "currency": "RUB",
        "customFields": fields if fields is not None else [],
        "firstName": "Иван", "phone": "+79990001122", "email": "ivan@example.com",
    }
    if manager is not None:
        payload["managerId"] = manager
    if city is not None:
        payload["delivery"] = {"address": {"city": city, "text": "ул. Ленина, 1"}}
    if utm is not None:
        payload["source"] = {"source": utm}
    return payload


ORDERS = [
    _order(1, "2024-11-05 10:00:00", "new", 100.10, manager=5, city="Москва", utm="yandex",
           fields={"registration_method": "site", "interests": ["electronics", "home"]}),
    _order(2, "2024-11-30 23:59:59", "complete", 200, order_type="eshop-legal", method="shopping-cart", manager=7,
           city=" москва ", utm="google", fields={"interests": ["home"]}),
    _order(3, "2024-12-01 00:00:00", "complete", 50.55, site="second-store", city="Санкт-Петербург",
           fields={"gift_wrap": True}),
    _order(4, "2025-11-03 09:00:00", "cancel-other", 10, manager=5, city="КАЗАНЬ", utm="yandex",
           fields={"registration_method": "phone"}),
    _order(5, "2025-11-10 12:00:00", "delivering", 300, manager=9, city="Москва", utm="vk"),
    _order(6, "2025-11-10 18:00:00", "new", 20, site="second-store", fields={"interests": ["books"]}),
    _order(7, "2025-11-20 08:00:00", "complete", 1000.99, manager=5, city="Москва", method="shopping-cart"),
    _order(8, "2025-12-02 10:00:00", "new", 5, manager=7, city="Казань"),
    _order(9, "2025-11-15 10:00:00", "new", 999, manager=5, city="Москва"),
]
CUSTOMERS = [
    {"id": 1, "createdAt": "2025-11-01 10:00:00", "site": "main-store"},
    {"id": 2, "createdAt": "2025-11-30 23:00:00", "site": "second-store"},
    {"id": 3, "createdAt": "2025-12-01 00:00:00", "site": "main-store"},
]


def load_sample(engine: Engine, **sync: Any) -> None:
    """Write the sample orders and customers, delete order 9, and record the sync (see `mark_synced`)."""
    write_orders(engine, ORDERS, bump=False)
    write_customers(engine, CUSTOMERS, bump=False)
    with session_for(engine) as session:
        refresh_order_days(session, mark_removed(session, Order, [9]))
        session.commit()
    mark_synced(engine, at=SYNCED_AT_UTC, **sync)
