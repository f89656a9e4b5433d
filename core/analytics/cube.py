"""In-memory copies of the order facts (Polars frames by month), refreshed day by day as syncs commit.

With seven dimensions the "daily aggregates" hold nearly one row per order (~1M rows at 1M orders), so
summing a year in SQL reads hundreds of thousands of rows, and custom fields are not pre-aggregated at
all. Held in memory (dimension columns as categoricals), the same questions are vectorised filters and
group-bys of a few milliseconds. After a commit only the days listed in `order_day_changes` since the
loaded version are read again, and only their months' frames are rebuilt.

Two copies exist: `daily_order_stats` (always) and, loaded on the first question that needs it, one row
per live order with its enumerable custom fields (dictionaries and booleans) as lists of values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, String, cast, func, select

from core.analytics.dimensions import custom_field, custom_values
from core.models import DailyOrderStat, Order, OrderDayChange

KEY_COLUMNS = ("site", "status", "order_type", "order_method", "manager_id", "city_key", "utm_source")
STATS_SCHEMA = {"day": pl.Date, **{name: pl.Categorical for name in KEY_COLUMNS}, "orders": pl.Int64,
                "revenue_minor": pl.Int64}
_CHUNK = 500
_stats = DailyOrderStat.__table__
_orders = Order.__table__

# Rows with first_day <= day < end_day.
DayRows = Callable[[date, date], pl.DataFrame]
Reader = Callable[[Connection, "list[date] | None"], pl.DataFrame]


def _month(day: date) -> date:
    return day.replace(day=1)


class DayFrames:
    """Thread-safe holder of one frame per month, built by `read` (all days, or the given days)."""

    def __init__(self, engine: Engine, read: Reader, schema: dict[str, Any]) -> None:
        self._engine = engine
        self._read = read
        self.schema = schema
        self._lock = threading.Lock()
        self._months: dict[date, pl.DataFrame] | None = None
        self._version: int | None = None

    def at(self, version: int) -> DayRows:
        """A reader of the rows as of data version `version` (or later)."""
        months = self._current(version)

        def rows(first_day: date, end_day: date) -> pl.DataFrame:
            parts = [frame for month, frame in months.items() if _month(first_day) <= month < end_day]
            if not parts:
                return pl.DataFrame(schema=self.schema)
            frame = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
            return frame.filter(pl.col("day") >= first_day, pl.col("day") < end_day)

        return rows

    def everything(self, version: int) -> pl.DataFrame:
        """All rows as of data version `version`."""
        months = self._current(version)
        return pl.concat(list(months.values()), rechunk=False) if months else pl.DataFrame(schema=self.schema)

    def _current(self, version: int) -> dict[date, pl.DataFrame]:
        months, loaded = self._months, self._version
        if months is not None and loaded == version:
            return months
        with self._lock:
            if self._months is None or self._version is None:
                with self._engine.connect() as connection:
                    months = self._by_month(self._read(connection, None))
            elif self._version != version:
                with self._engine.connect() as connection:
                    months = self._refreshed(connection, self._months, self._version)
            else:
                months = self._months
            self._months, self._version = months, version
            return months

    def _refreshed(self, connection: Connection, months: dict[date, pl.DataFrame],
                   loaded_version: int) -> dict[date, pl.DataFrame]:
        days = sorted(connection.execute(
            select(OrderDayChange.day).where(OrderDayChange.data_version >= loaded_version)).scalars())
        if not days:
            return months
        fresh = self._by_month(pl.concat([self._read(connection, days[start: start + _CHUNK])
                                          for start in range(0, len(days), _CHUNK)]))
        updated = dict(months)
        for month in {_month(day) for day in days}:
            changed = [day for day in days if _month(day) == month]
            kept = months[month].filter(~pl.col("day").is_in(changed)) if month in months else None
            parts = [part for part in (kept, fresh.get(month)) if part is not None and not part.is_empty()]
            if parts:
                updated[month] = pl.concat(parts)
            else:
                updated.pop(month, None)
        return dict(sorted(updated.items()))

    def _by_month(self, frame: pl.DataFrame) -> dict[date, pl.DataFrame]:
        if frame.is_empty():
            return {}
        parts = frame.with_columns(pl.col("day").dt.truncate("1mo").alias("_month")).partition_by(
            "_month", as_dict=True)
        return dict(sorted((key[0], part.drop("_month")) for key, part in parts.items()))


def read_stats(connection: Connection, days: list[date] | None) -> pl.DataFrame:
    """Rows of `daily_order_stats` (all, or of `days`); the day comes as ISO text, parsed by Polars."""
    statement = select(cast(_stats.c.day, String).label("day"), *[_stats.c[name] for name in KEY_COLUMNS],
                       _stats.c.orders, _stats.c.revenue_minor)
    if days is not None:
        statement = statement.where(_stats.c.day.in_(days))
    rows = connection.execute(statement).all()
    text_schema = {name: (pl.Int64 if kind == pl.Int64 else pl.Utf8) for name, kind in STATS_SCHEMA.items()}
    frame = pl.DataFrame([tuple(row) for row in rows], schema=text_schema, orient="row")
    return frame.with_columns(pl.col("day").str.to_date(), *[pl.col(name).cast(pl.Categorical) for name in KEY_COLUMNS])


def custom_column(code: str) -> str:
    """Name of the column holding custom field `code`'s values (a list of strings, empty when unset)."""
    return f"cf:{code}"


def order_schema(codes: tuple[str, ...]) -> dict[str, Any]:
    """Columns of the per-order frame: day, key columns, `orders` (1), `revenue_minor`, custom fields."""
    return {**STATS_SCHEMA, **{custom_column(code): pl.List(pl.Utf8) for code in codes}}


def order_reader(codes: tuple[str, ...]) -> Reader:
    """A reader of live orders (one row each) with custom fields `codes`."""

    def read(connection: Connection, days: list[date] | None) -> pl.DataFrame:
        dialect = connection.dialect.name
        statement = select(
            cast(_orders.c.created_date, String), *[_orders.c[name] for name in KEY_COLUMNS if name != "manager_id"],
            func.coalesce(cast(_orders.c.manager_id, String), ""), _orders.c.total_minor,
            *[custom_field(code, dialect) for code in codes],
        ).where(_orders.c.is_deleted.is_(False))
        if days is not None:
            statement = statement.where(_orders.c.created_date.in_(days))
        columns: list[list[Any]] = [[] for _ in range(9 + len(codes))]
        for row in connection.execute(statement):
            for index in range(9):
                columns[index].append(row[index])
            for index in range(len(codes)):
                columns[9 + index].append(custom_values(row[9 + index]))
        names = ["day", *[name for name in KEY_COLUMNS if name != "manager_id"], "manager_id", "revenue_minor",
                 *[custom_column(code) for code in codes]]
        schema = {name: pl.Utf8 for name in names[:8]} | {"revenue_minor": pl.Int64} | {
            custom_column(code): pl.List(pl.Utf8) for code in codes}
        frame = pl.DataFrame(dict(zip(names, columns)), schema=schema)
        return frame.select(
            pl.col("day").str.to_date(), *[pl.col(name).cast(pl.Categorical) for name in KEY_COLUMNS],
            pl.lit(1, dtype=pl.Int64).alias("orders"), "revenue_minor", *[custom_column(code) for code in codes])

    return read
