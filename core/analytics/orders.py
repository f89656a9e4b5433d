"""find_orders: individual orders (facts only, never contact details), newest first, paged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.analytics import answers as a
from core.analytics.context import Context
from core.analytics.numbers import money
from core.analytics.queries import custom_matches, order_conditions
from core.analytics.reader import FactReader
from core.filters import Filters
from core.models import Order

MAX_LIMIT = 500
_FACT_COLUMNS = (Order.id, Order.number, Order.created_at, Order.status, Order.order_type, Order.order_method,
                 Order.site, Order.manager_id, Order.total_minor, Order.currency, Order.city_key)


def find_orders(reader: FactReader, context: Context, text: str | None, filters: Filters, number: str | None,
                limit: int, offset: int) -> a.OrdersAnswer:
    """Orders matching the period, filters and number (see `Analytics.find_orders`)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must not be negative, got {offset}")
    period = context.period(text) if text else None
    scope = context.catalogue.resolve(filters)
    conditions: list[Any] = [Order.is_deleted.is_(False), *order_conditions(scope)]
    if period is not None:
        reader.require_store(context, period.start, period.end, "listing orders")
        conditions += [Order.created_at >= period.start, Order.created_at < period.end]
    if number:
        conditions.append(Order.number == number.strip())
    newest_first = (Order.created_at.desc(), Order.id.desc())
    with reader.engine.connect() as connection:
        if scope.custom:
            candidates = connection.execute(select(Order.id, Order.custom_fields).where(*conditions).order_by(*newest_first))
            ids = [order_id for order_id, fields in candidates if custom_matches(fields, scope)]
            total, page = len(ids), ids[offset: offset + limit]
            rows = connection.execute(select(*_FACT_COLUMNS).where(Order.id.in_(page)).order_by(*newest_first)).all()
        else:
            total = connection.execute(select(func.count()).select_from(Order).where(*conditions)).scalar_one()
            rows = connection.execute(
                select(*_FACT_COLUMNS).where(*conditions).order_by(*newest_first).limit(limit).offset(offset)
            ).all()
    label = context.catalogue.label
    facts = [
        a.OrderFacts(
            id=row.id, number=row.number, created_at=row.created_at,
            status=row.status, status_label=label("status", row.status),
            order_type=row.order_type, order_type_label=label("order_type", row.order_type),
            order_method=row.order_method, order_method_label=label("order_method", row.order_method),
            site=row.site, site_label=label("site", row.site),
            manager=label("manager", "" if row.manager_id is None else str(row.manager_id)),
            total=money(row.total_minor) or "0.00", currency=row.currency, city=label("city", row.city_key),
        )
        for row in rows
    ]
    return a.OrdersAnswer(period=a.PeriodInfo.of(period) if period else None, rows=facts, total=total, limit=limit,
                          offset=offset, **context.stamp(filters, "store", context.store_detail()))
