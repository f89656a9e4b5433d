"""The storage layer: tolerant rows, idempotent upserts, day aggregates that follow every change."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date

from sqlalchemy import func, select

from core.db import init_db, make_engine, session_for
from core.models import DailyOrderStat, Order
from core.store import mark_removed, order_row, refresh_order_days, upsert_rows, utcnow


def _aggregate_total(session) -> list[tuple[date, int]]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(DailyOrderStat.day, func.sum(DailyOrderStat.orders)).group_by(DailyOrderStat.day).order_by(DailyOrderStat.day)
    )
    return [(day, int(count)) for day, count in rows]


def test_schema_creation_is_safe_twice(engine) -> None:  # type: ignore[no-untyped-def]
    init_db(engine)
    with session_for(engine) as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_moving_and_removing_orders_keeps_day_aggregates_exact(engine) -> None:  # type: ignore[no-untyped-def]
    payloads = [
        {"id": 1, "createdAt": "2024-11-30 23:59:59", "status": "new", "totalSumm": 10.5, "customFields": []},
        {"id": 2, "createdAt": "2024-12-01 00:00:00", "status": "new", "totalSumm": "0.1", "customFields": {}},
    ]
    with session_for(engine) as session:
        refresh_order_days(session, upsert_rows(session, Order, [order_row(p, utcnow()) for p in payloads]))
        session.commit()
        assert _aggregate_total(session) == [(date(2024, 11, 30), 1), (date(2024, 12, 1), 1)]

        moved = dict(payloads[0], createdAt="2024-12-01 08:00:00")
        refresh_order_days(session, upsert_rows(session, Order, [order_row(moved, utcnow())]))
        session.commit()
        assert _aggregate_total(session) == [(date(2024, 12, 1), 2)]

        refresh_order_days(session, mark_removed(session, Order, [2], merged_into=1))
        refresh_order_days(session, upsert_rows(session, Order, [order_row(moved, utcnow())]))
        session.commit()
        assert _aggregate_total(session) == [(date(2024, 12, 1), 1)]
        revenue = session.execute(select(func.sum(DailyOrderStat.revenue_minor))).scalar_one()
        assert revenue == 1050


def test_personal_data_is_not_kept(engine) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "id": 7, "createdAt": "2025-01-01 10:00:00", "firstName": "Иван", "phone": "+79990001122",
        "email": "ivan@example.com", "customer": {"id": 5, "firstName": "Иван", "email": "ivan@example.com"},
        "delivery": {"address": {"city": "Москва", "text": "ул. Ленина, 1"}},
    }
    with session_for(engine) as session:
        upsert_rows(session, Order, [order_row(payload, utcnow())])
        session.commit()
        stored = session.get(Order, 7)
        assert stored is not None and stored.customer_id == 5
        text = repr(stored.raw)
        for secret in ("Иван", "+79990001122", "ivan@example.com", "Ленина"):
            assert secret not in text


def test_a_new_sqlite_store_opens_while_another_process_holds_its_write_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Switching to WAL answers "database is locked" at once instead of waiting on the busy timeout, so
    two daemons started together on a new file used to fail; opening now waits for the lock instead."""
    path = tmp_path / "store.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE other_process (x)")
    outcome: list[BaseException | None] = []

    def open_store() -> None:
        engine = make_engine(f"sqlite:///{path}")
        try:
            init_db(engine)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)
        finally:
            engine.dispose()

    opener = threading.Thread(target=open_store)
    opener.start()
    opener.join(timeout=1)  # gives the opener time to meet the lock (an error would end it at once)
    writer.execute("COMMIT")
    writer.close()
    opener.join()
    assert outcome == [None]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
