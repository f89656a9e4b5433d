"""Fill a store straight from an emulator `Account`, without the sync: fast setup for analytics tests.

Orders and customers go through the real store writers (`order_row`/`customer_row`, `upsert_rows`,
`refresh_*_days`); reference data is the emulator's catalogue in the API's shape, converted by the
sync's own `core.reference.reference_items`. The store ends up as a finished sync would leave it:
backfill done, last sync now, data version bumped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete

from core.db import session_for
from core.models import Customer, Order, ReferenceItem, SyncState
from core.reference import reference_items
from core.store import (bump_data_version, customer_row, order_row, refresh_customer_days, refresh_order_days,
                        store_meta, upsert_rows, utcnow)
from retailcrm_emulator import Account, catalog

BATCH = 5000


def catalogue_items() -> list[dict[str, Any]]:
    """`reference_items` rows of the emulator's catalogue, as the sync would store them."""
    books = {
        "statuses": {code: {"code": code, "name": name, "group": group, "active": active, "ordering": index}
                     for index, (code, name, group, active) in enumerate(catalog.STATUSES)},
        "status-groups": {code: {"code": code, "name": name} for code, name in catalog.STATUS_GROUPS},
        "order-types": {code: {"code": code, "name": name} for code, name in catalog.ORDER_TYPES},
        "order-methods": {code: {"code": code, "name": name} for code, name, _ in catalog.ORDER_METHODS},
        "sites": {code: {"code": code, "name": name} for code, name, _ in catalog.SITES},
    }
    fields: dict[str, list[dict[str, Any]]] = {"order": [], "customer": []}
    for entity, code, name, kind, dictionary in catalog.CUSTOM_FIELDS:
        fields[entity].append({"code": code, "name": name, "type": kind, "entity": entity, "dictionary": dictionary})
    dictionaries = [{"code": code, "name": name, "elements": [{"code": c, "name": n} for c, n in elements]}
                    for code, name, elements in catalog.DICTIONARIES]
    return reference_items(books, fields, dictionaries)


def write_orders(engine: Engine, payloads: Iterable[dict[str, Any]], *, bump: bool = True, batch: int = BATCH) -> None:
    """Upsert order payloads and their day aggregates in batches; bump the data version at the end."""
    _write(engine, Order, payloads, refresh_order_days, bump, batch)


def write_customers(engine: Engine, payloads: Iterable[dict[str, Any]], *, bump: bool = True,
                    batch: int = BATCH) -> None:
    """Upsert customer payloads and their day aggregates in batches; bump the data version at the end."""
    _write(engine, Customer, payloads, refresh_customer_days, bump, batch)


def _write(engine: Engine, model: type, payloads: Iterable[dict[str, Any]], refresh, bump: bool,  # type: ignore[no-untyped-def]
           size: int) -> None:
    synced_at = utcnow()
    row_of = order_row if model is Order else customer_row
    batch: list[dict[str, Any]] = []
    with session_for(engine) as session:
        for payload in payloads:
            batch.append(row_of(payload, synced_at))
            if len(batch) >= size:
                refresh(session, upsert_rows(session, model, batch))
                session.commit()
                batch = []
        if batch:
            refresh(session, upsert_rows(session, model, batch))
        if bump:
            bump_data_version(session)
        session.commit()


def mark_synced(engine: Engine, *, timezone: str = catalog.TIMEZONE, currency: str | None = catalog.CURRENCY,
                at: datetime | None = None, backfill_done: bool = True) -> None:
    """Record a successful sync at `at` (naive UTC, default now) with the reference data of the catalogue."""
    at = at or utcnow()
    with session_for(engine) as session:
        session.execute(delete(ReferenceItem))
        session.add_all(ReferenceItem(**item) for item in catalogue_items())
        meta = store_meta(session)
        meta.timezone, meta.currency, meta.last_sync_at, meta.reference_refreshed_at = timezone, currency, at, at
        for stream in ("orders", "customers"):
            state = session.get(SyncState, stream) or SyncState(stream=stream)
            state.backfill_done, state.last_success_at = backfill_done, at
            session.add(state)
        bump_data_version(session)
        session.commit()


def load_account(engine: Engine, account: Account, *, at: datetime | None = None) -> None:
    """Store every live order and customer of `account` as a finished sync would."""
    write_orders(engine, account.live_orders(), bump=False)
    write_customers(engine, account.live_customers(), bump=False)
    mark_synced(engine, timezone=account.timezone, currency=account.currency, at=at)
