"""Reading order facts as small Polars frames.

Whole local days come from memory (`core.analytics.cube`): the pre-aggregated `daily_order_stats`, or,
for custom fields with a closed set of values, one row per order. The raw `orders` table is read only
where it must be: free-text custom fields and partial days (an elapsed-time cut). There, filters go
into the SQL WHERE and grouping into the SQL GROUP BY, so Polars only sees aggregated rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Engine, String, cast, func, or_, select

from core.analytics.cube import DayRows, custom_column
from core.analytics.dimensions import Scope, custom_field, custom_values
from core.models import Order

MEASURES = {"orders": pl.Int64, "revenue_minor": pl.Int64}

_orders = Order.__table__


@dataclass(frozen=True)
class FactRequest:
    """Orders and revenue in `[start, end)` (naive local) within `scope`, grouped by stats `columns` and by
    custom fields (`custom_0`, `custom_1`, ...: one row per value, "" when not set)."""

    start: datetime
    end: datetime
    scope: Scope
    columns: tuple[str, ...] = ()
    custom: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """Column names and Polars types of the frame."""
        keys: dict[str, Any] = {column: (pl.Date if column == "day" else pl.Utf8) for column in self.columns}
        keys |= {f"custom_{index}": pl.Utf8 for index in range(len(self.custom))}
        return keys | MEASURES


def read_facts(engine: Engine, request: FactRequest, stats: DayRows, orders: DayRows | None) -> pl.DataFrame:
    """One row per group with `orders` and `revenue_minor`; no rows when nothing matches.

    Whole days come from memory (see `core.analytics.cube`): `stats` (the daily aggregates) or, for
    questions on custom fields, `orders` (one row per order; None when the fields are not held in
    memory, and then the orders table is read). Partial days always come from the orders table.
    A connection is taken from `engine` only for each query and never held while the in-memory copies
    load (they take one of their own: threads waiting for them must not hold the pool's connections).
    """
    if request.start >= request.end:
        return pl.DataFrame(schema=request.schema())
    needs_orders = request.scope.needs_orders or bool(request.custom)
    if needs_orders and orders is None:
        return _from_orders(engine, request, request.start, request.end)
    first_whole_day = _ceil_day(request.start)
    end_whole_day = _floor_day(request.end)
    if first_whole_day >= end_whole_day:
        return _from_orders(engine, request, request.start, request.end)
    rows = (orders if needs_orders and orders is not None else stats)(first_whole_day.date(), end_whole_day.date())
    frames = [_from_memory(rows, request)]
    if request.start < first_whole_day:
        frames.append(_from_orders(engine, request, request.start, first_whole_day))
    if end_whole_day < request.end:
        frames.append(_from_orders(engine, request, end_whole_day, request.end))
    return _regroup(pl.concat(frames), request) if len(frames) > 1 else frames[0]


def totals(frame: pl.DataFrame) -> tuple[int, int]:
    """Orders and revenue (minor units) of a fact frame."""
    if frame.is_empty():
        return 0, 0
    return int(frame["orders"].sum()), int(frame["revenue_minor"].sum())


def _from_memory(rows: pl.DataFrame, request: FactRequest) -> pl.DataFrame:
    conditions = [pl.col(column).is_in(sorted(values)) for column, values in request.scope.columns.items()]
    for code, allowed in request.scope.custom.items():
        values = pl.col(custom_column(code))
        conditions.append(values.list.len() > 0 if allowed is None
                          else values.list.eval(pl.element().is_in(sorted(allowed))).list.any())
    selected = rows.filter(*conditions) if conditions else rows
    for index, code in enumerate(request.custom):
        # an order counts under each of its values; an empty list becomes one "" row: "(not set)"
        selected = selected.with_columns(pl.col(custom_column(code)).alias(f"custom_{index}")).explode(
            f"custom_{index}", empty_as_null=True).with_columns(pl.col(f"custom_{index}").fill_null(""))
    measures = [pl.col("orders").sum(), pl.col("revenue_minor").sum()]
    keys = [name for name in request.schema() if name not in MEASURES]
    if not keys:
        return selected.select(measures).filter(pl.col("orders") > 0)
    grouped = selected.group_by(keys).agg(measures)
    return grouped.select([pl.col(name).cast(kind) for name, kind in request.schema().items()])


def _order_key(column: str):  # type: ignore[no-untyped-def]
    if column == "day":
        return _orders.c.created_date
    if column == "manager_id":
        return func.coalesce(cast(_orders.c.manager_id, String), "")
    return _orders.c[column]


def order_conditions(scope: Scope) -> list[Any]:
    """SQL conditions on the orders table for the stats-column part of `scope` (custom fields excluded)."""
    return [_order_condition(column, values) for column, values in scope.columns.items()]


def custom_matches(custom_fields: dict[str, Any] | None, scope: Scope) -> bool:
    """Whether an order's custom fields satisfy the custom-field part of `scope`."""
    fields = custom_fields or {}
    return _matches({code: custom_values(fields.get(code)) for code in scope.custom}, scope)


def _order_condition(column: str, values: Iterable[str]):  # type: ignore[no-untyped-def]
    values = sorted(values)
    if column != "manager_id":
        return _orders.c[column].in_(values)
    ids = [int(value) for value in values if value.isdigit()]
    conditions = [_orders.c.manager_id.in_(ids)]
    if "" in values:
        conditions.append(_orders.c.manager_id.is_(None))
    return or_(*conditions)


def _from_orders(engine: Engine, request: FactRequest, start: datetime, end: datetime) -> pl.DataFrame:
    keys = [_order_key(column).label(column) for column in request.columns]
    codes = list(dict.fromkeys([*request.custom, *sorted(request.scope.custom)]))
    dialect = engine.dialect.name
    fields = [custom_field(code, dialect).label(f"cf_{index}") for index, code in enumerate(codes)]
    statement = (
        select(*keys, *fields, func.count().label("orders"),
               func.coalesce(func.sum(_orders.c.total_minor), 0).label("revenue_minor"))
        .where(_orders.c.is_deleted.is_(False), _orders.c.created_at >= start, _orders.c.created_at < end)
    )
    statement = statement.where(*order_conditions(request.scope))
    if keys or fields:
        statement = statement.group_by(*keys, *fields)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    records: list[tuple[Any, ...]] = []
    for row in rows:
        values_by_code = {code: custom_values(row[len(keys) + index]) for index, code in enumerate(codes)}
        if not _matches(values_by_code, request.scope):
            continue
        base = tuple(row[: len(keys)])
        measures = (int(row.orders), int(row.revenue_minor))
        if not measures[0]:
            continue
        exploded = [values_by_code[code] or [""] for code in request.custom]
        for combination in itertools.product(*exploded):
            records.append(base + combination + measures)
    frame = pl.DataFrame(records, schema=request.schema(), orient="row")
    return _regroup(frame, request) if codes else frame


def _matches(values_by_code: dict[str, list[str]], scope: Scope) -> bool:
    for code, allowed in scope.custom.items():
        values = values_by_code[code]
        if not values or (allowed is not None and allowed.isdisjoint(values)):
            return False
    return True


def _regroup(frame: pl.DataFrame, request: FactRequest) -> pl.DataFrame:
    keys = [name for name in request.schema() if name not in MEASURES]
    if not keys:
        return frame.select(pl.col("orders").sum(), pl.col("revenue_minor").sum()).filter(pl.col("orders") > 0)
    return frame.group_by(keys).agg(pl.col("orders").sum(), pl.col("revenue_minor").sum())


def _floor_day(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time.min)


def _ceil_day(moment: datetime) -> datetime:
    floor = _floor_day(moment)
    return floor if floor == moment else floor + timedelta(days=1)
