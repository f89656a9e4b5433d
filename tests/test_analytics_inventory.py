"""`list_dimensions` and `sync_status` against a plain recount of the raw `orders` rows, before and after a
sync changes one month (their counts are summed from per-month counts kept between data versions).

The store is a small emulator account (about 1,100 orders), loaded per test on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from core.analytics import Analytics
from core.config import load_settings
from core.db import session_for
from core.models import Order, SyncRun
from core.store import bump_data_version, mark_removed, refresh_order_days
from retailcrm_emulator import catalog, generate
from tests.support.store_loader import load_account, write_orders

GROUP_OF = {code: group for code, _, group, _ in catalog.STATUSES}
ENUMERABLE_FIELDS = [code for entity, code, _, kind, _ in catalog.CUSTOM_FIELDS
                     if entity == "order" and kind in ("dictionary", "multiselect_dictionary", "boolean")]


@pytest.fixture
def store(engine: Engine) -> Engine:
    load_account(engine, generate(seed=5, scale=0.05, end=date(2026, 1, 1)))
    return engine


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    values = [("true" if item else "false") if isinstance(item, bool) else str(item).strip()
              for item in items if item not in (None, "")]
    return list(dict.fromkeys(value for value in values if value))


def _recount(engine: Engine) -> dict[str, Counter[str]]:
    """Live orders per value of every dimension, counted in Python from the raw rows."""
    columns = (Order.status, Order.order_type, Order.order_method, Order.site, Order.manager_id, Order.city_key,
               Order.utm_source, Order.custom_fields)
    counts: dict[str, Counter[str]] = {}
    with engine.connect() as connection:
        for status, kind, method, site, manager, city, utm, fields in connection.execute(
                select(*columns).where(Order.is_deleted.is_(False))):
            keys = {"status": [status], "status_group": [GROUP_OF.get(status, "")], "order_type": [kind],
                    "order_method": [method], "site": [site], "manager": ["" if manager is None else str(manager)],
                    "city": [city], "utm_source": [utm]}
            for code in ENUMERABLE_FIELDS:
                keys[f"custom:{code}"] = _values((fields or {}).get(code)) or [""]
            for dimension, values in keys.items():
                counts.setdefault(dimension, Counter()).update(values)
    return counts


def _listed(analytics: Analytics) -> dict[str, Counter[str]]:
    """The answer's non-zero counts (zero counts are reference codes absent from the store)."""
    return {info.name: Counter({value.key: value.count for value in info.values if value.count})
            for info in analytics.list_dimensions().dimensions}


def _live_orders(engine: Engine) -> int:
    with engine.connect() as connection:
        return len(connection.execute(select(Order.id).where(Order.is_deleted.is_(False))).all())


def _change_one_month(engine: Engine) -> None:
    """What a sync does to one month: orders edited (status, custom fields), one deleted, one created."""
    with engine.connect() as connection:
        ids = connection.execute(select(Order.id).where(Order.created_date >= date(2025, 6, 1),
                                                        Order.created_date < date(2025, 7, 1),
                                                        Order.is_deleted.is_(False)).order_by(Order.id)).scalars().all()
    assert len(ids) > 5
    edited = [{"id": order_id, "createdAt": f"2025-06-{10 + index:02d} 12:00:00", "status": "cancel-other",
               "site": "main-store", "customFields": {"interests": ["home", "books"], "gift_wrap": True}}
              for index, order_id in enumerate(ids[:3])]
    created = {"id": 10_000_000, "createdAt": "2025-06-30 23:00:00", "status": "new", "totalSumm": 5,
               "customFields": {"registration_method": "site"}}
    write_orders(engine, [*edited, created], bump=False)
    with session_for(engine) as session:
        refresh_order_days(session, mark_removed(session, Order, [ids[3]]))
        bump_data_version(session)
        session.commit()


def _analytics(engine: Engine) -> Analytics:
    return Analytics(engine, load_settings({}, dotenv=False), now=lambda: datetime(2026, 1, 1, 12))


def test_dimension_counts_equal_a_recount_before_and_after_a_sync_changes_one_month(store: Engine) -> None:
    analytics = _analytics(store)
    before = _recount(store)
    assert _listed(analytics) == before
    assert analytics.sync_status().orders_stored == _live_orders(store)
    analytics.count_orders("2025-06")  # a question loads the month's frames before the change
    _change_one_month(store)
    after = _recount(store)
    assert after != before
    assert _listed(analytics) == after
    assert analytics.sync_status().orders_stored == _live_orders(store)  # every month in memory


def test_stored_orders_are_counted_without_loading_every_month(store: Engine) -> None:
    analytics = _analytics(store)
    analytics.count_orders("2025-06")
    _change_one_month(store)
    assert analytics.sync_status().orders_stored == _live_orders(store)


def test_sync_status_lists_recent_runs_with_their_pages(store: Engine) -> None:
    with session_for(store) as session:
        session.add(SyncRun(kind="incremental", started_at=datetime(2025, 12, 1, 10), status="ok", pages=7,
                            api_requests=9))
        session.commit()
    runs = _analytics(store).sync_status().recent_runs
    assert [(run.pages, run.api_requests) for run in runs] == [(7, 9)]
