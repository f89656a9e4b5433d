"""In-memory copies of the order facts (Polars frames by month), refreshed day by day as syncs commit.

With seven dimensions the "daily aggregates" hold nearly one row per order (~1M rows at 1M orders), so
summing a year in SQL reads hundreds of thousands of rows, and custom fields are not pre-aggregated at
all. Held in memory (dimension columns as categoricals), the same questions are vectorised filters and
group-bys of a few milliseconds. After a commit only the days listed in `order_day_changes` since the
loaded version are read again, and only their months' frames are rebuilt.

Two copies exist, both loaded month by month as questions touch them: `daily_order_stats`, and one
row per live order with its enumerable custom fields (dictionaries and booleans) as lists of values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, String, cast, func, select

from core.analytics.dimensions import custom_field, custom_values
from core.models import DailyOrderStat, Order, OrderDayChange

KEY_COLUMNS = ("site", "status", "order_type", "order_method", "manager_id", "city_key", "utm_source")
STATS_SCHEMA = {"day": pl.Date, **{name: pl.Categorical for name in KEY_COLUMNS}, "orders": pl.Int64,
                "revenue_minor": pl.Int64}
COUNTS_SCHEMA = {"column": pl.Utf8, "value": pl.Utf8, "orders": pl.Int64}
_CHUNK = 500
_FETCH_ROWS = 50_000
_stats = DailyOrderStat.__table__
_orders = Order.__table__

# Rows with first_day <= day < end_day.
DayRows = Callable[[date, date], pl.DataFrame]


@dataclass(frozen=True)
class Days:
    """Which rows a reader loads: `days` (a list), or `first <= day < end`; neither = every row."""

    days: list[date] | None = None
    first: date | None = None
    end: date | None = None


Reader = Callable[[Connection, Days], pl.DataFrame]


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


@dataclass(frozen=True)
class _Snapshot:
    """What a `DayFrames` holds, published in one assignment so readers never see half an update."""

    version: int | None = None
    months: dict[date, pl.DataFrame] = field(default_factory=dict)
    loaded: frozenset[date] | None = frozenset()  # None = every month is loaded

    def covers(self, version: int, first_day: date | None, end_day: date | None) -> bool:
        if self.version is None or self.version < version:  # versions only grow; newer data is fine
            return False
        if self.loaded is None:
            return True
        return first_day is not None and end_day is not None and _months_between(first_day, end_day) <= self.loaded


class DayFrames:
    """Thread-safe holder of one frame per month, built by `read` for the months questions touch."""

    def __init__(self, engine: Engine, read: Reader, schema: dict[str, Any]) -> None:
        self._engine = engine
        self._read = read
        self.schema = schema
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()
        # Month -> (the frame it was counted from, the columns counted, `value_counts` of that frame).
        self._counts: dict[date, tuple[pl.DataFrame, tuple[str, ...], pl.DataFrame]] = {}
        self._counts_lock = threading.Lock()

    def at(self, version: int) -> DayRows:
        """A reader of the rows as of data version `version` (or later)."""

        def rows(first_day: date, end_day: date) -> pl.DataFrame:
            months = self._current(version, first_day, end_day)
            parts = [frame for month, frame in months.items() if _month(first_day) <= month < end_day]
            if not parts:
                return pl.DataFrame(schema=self.schema)
            frame = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
            return frame.filter(pl.col("day") >= first_day, pl.col("day") < end_day)

        return rows

    def holds_every_month(self) -> bool:
        """Whether every month has been loaded (a newer data version then only re-reads the days it changed)."""
        return self._snapshot.loaded is None

    def value_counts(self, version: int, columns: tuple[str, ...]) -> pl.DataFrame:
        """`value_counts` of every row as of data version `version`, summed from per-month counts.

        A month is counted once per frame: after a sync only the months it rebuilt are counted again.
        """
        months = self._current(version, None, None)
        with self._counts_lock:
            stale = {month: frame for month, frame in months.items()
                     if (cached := self._counts.get(month)) is None or cached[0] is not frame or cached[1] != columns}
            fresh = value_counts_by_month(stale, columns)
            counted = {month: (frame, columns, fresh[month]) if month in stale else self._counts[month]
                       for month, frame in months.items()}
            self._counts = counted
        parts = [counts for _, _, counts in counted.values()]
        if not parts:
            return pl.DataFrame(schema=COUNTS_SCHEMA)
        return pl.concat(parts).group_by("column", "value").agg(pl.col("orders").sum())

    def _current(self, version: int, first_day: date | None, end_day: date | None) -> dict[date, pl.DataFrame]:
        snapshot = self._snapshot
        if snapshot.covers(version, first_day, end_day):
            return snapshot.months
        with self._lock:
            snapshot = self._snapshot
            if snapshot.covers(version, first_day, end_day):
                return snapshot.months
            with self._engine.connect() as connection:
                months, loaded = snapshot.months, snapshot.loaded
                if snapshot.version is not None and snapshot.version < version:
                    months = self._refreshed(connection, months, loaded, snapshot.version)
                if loaded is not None:
                    months, loaded = self._with_missing(connection, months, loaded, first_day, end_day)
            self._snapshot = _Snapshot(max(version, snapshot.version or 0), months, loaded)
            return months

    def _with_missing(self, connection: Connection, months: dict[date, pl.DataFrame], loaded: frozenset[date],
                      first_day: date | None, end_day: date | None,
                      ) -> tuple[dict[date, pl.DataFrame], frozenset[date] | None]:
        if first_day is None or end_day is None:
            return self._by_month(self._read(connection, Days())), None
        missing = sorted(_months_between(first_day, end_day) - loaded)
        if not missing:
            return months, loaded
        updated = dict(months)
        for month in missing:
            fresh = self._by_month(self._read(connection, Days(first=month, end=_next_month(month))))
            if month in fresh:
                updated[month] = fresh[month]
        return dict(sorted(updated.items())), loaded | frozenset(missing)

    def _refreshed(self, connection: Connection, months: dict[date, pl.DataFrame], loaded: frozenset[date] | None,
                   loaded_version: int) -> dict[date, pl.DataFrame]:
        days = sorted(connection.execute(
            select(OrderDayChange.day).where(OrderDayChange.data_version >= loaded_version).distinct()).scalars())
        if loaded is not None:
            days = [day for day in days if _month(day) in loaded]
        if not days:
            return months
        fresh = self._by_month(pl.concat([self._read(connection, Days(days=days[start: start + _CHUNK]))
                                          for start in range(0, len(days), _CHUNK)]))
        changed_by_month: dict[date, list[date]] = {}
        for day in days:
            changed_by_month.setdefault(_month(day), []).append(day)
        updated = dict(months)
        for month, changed in changed_by_month.items():
            kept = updated[month].filter(~pl.col("day").is_in(changed)) if month in updated else None
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


def value_counts_by_month(months: dict[date, pl.DataFrame], columns: tuple[str, ...]) -> dict[date, pl.DataFrame]:
    """Orders per value of each of `columns` (`column`, `value`, `orders`) in each month's frame, counted for
    all the months at once (one group-by per column, not one per month and column); a list column counts
    each of its values, and an empty list as "" (not set)."""
    counts: dict[date, pl.DataFrame] = {month: pl.DataFrame(schema=COUNTS_SCHEMA) for month in months}
    if not months or not columns:
        return counts
    rows = pl.concat([frame.select(*columns, "orders").with_columns(pl.lit(month).alias("_month"))
                      for month, frame in months.items()])
    parts = []
    for column in columns:
        values = rows.select("_month", column, "orders")
        if isinstance(rows.schema[column], pl.List):
            values = values.explode(column, empty_as_null=True)
        parts.append(values.group_by("_month", column).agg(pl.col("orders").sum()).select(
            "_month", pl.lit(column).alias("column"), pl.col(column).cast(pl.Utf8).fill_null("").alias("value"),
            "orders"))
    for (month,), part in pl.concat(parts).partition_by("_month", as_dict=True).items():
        counts[month] = part.drop("_month")
    return counts


def _months_between(first_day: date, end_day: date) -> frozenset[date]:
    months, month = set(), _month(first_day)
    while month < end_day:
        months.add(month)
        month = _next_month(month)
    return frozenset(months)


def _where_day(statement: Any, column: Any, selection: Days) -> Any:
    if selection.days is not None:
        return statement.where(column.in_(selection.days))
    if selection.first is not None and selection.end is not None:
        return statement.where(column >= selection.first, column < selection.end)
    return statement


def read_stats(connection: Connection, selection: Days) -> pl.DataFrame:
    """Rows of `daily_order_stats`; the day comes as ISO text, parsed by Polars."""
    statement = select(cast(_stats.c.day, String).label("day"), *[_stats.c[name] for name in KEY_COLUMNS],
                       _stats.c.orders, _stats.c.revenue_minor)
    statement = _where_day(statement, _stats.c.day, selection)
    text_schema = {name: (pl.Int64 if kind == pl.Int64 else pl.Utf8) for name, kind in STATS_SCHEMA.items()}
    frame = _fetched(connection, statement, text_schema)
    return frame.with_columns(pl.col("day").str.to_date(), *[pl.col(name).cast(pl.Categorical) for name in KEY_COLUMNS])


def _fetched(connection: Connection, statement: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of `statement` as a frame of `schema`, built by Polars (no Python loop over the rows) from
    batches of `_FETCH_ROWS` (a whole table at once would hold every row as Python objects)."""
    result = connection.execution_options(stream_results=True, yield_per=_FETCH_ROWS).execute(statement)
    frames = [pl.DataFrame(rows, schema=schema, orient="row") for rows in result.partitions()]
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def custom_column(code: str) -> str:
    """Name of the column holding custom field `code`'s values (a list of strings, empty when unset)."""
    return f"cf:{code}"


def order_schema(codes: tuple[str, ...]) -> dict[str, Any]:
    """Columns of the per-order frame: day, key columns, `orders` (1), `revenue_minor`, custom fields."""
    return {**STATS_SCHEMA, **{custom_column(code): pl.List(pl.Utf8) for code in codes}}


def order_reader(codes: tuple[str, ...]) -> Reader:
    """A reader of live orders (one row each) with custom fields `codes`.

    Deleted orders are skipped here rather than in SQL, so the day index (not the is_deleted one) is used.
    Custom fields come as JSON text; each distinct text is parsed once (`custom_values`), not each order's.
    """

    def read(connection: Connection, selection: Days) -> pl.DataFrame:
        dialect = connection.dialect.name
        plain = [name for name in KEY_COLUMNS if name != "manager_id"]
        statement = select(
            cast(_orders.c.created_date, String), *[_orders.c[name] for name in plain],
            func.coalesce(cast(_orders.c.manager_id, String), ""), _orders.c.total_minor, _orders.c.is_deleted,
            *[cast(custom_field(code, dialect), String) for code in codes],
        )
        statement = _where_day(statement, _orders.c.created_date, selection)
        text_schema = {"day": pl.Utf8, **{name: pl.Utf8 for name in plain}, "manager_id": pl.Utf8,
                       "revenue_minor": pl.Int64, "is_deleted": pl.Boolean,
                       **{custom_column(code): pl.Utf8 for code in codes}}
        frame = _fetched(connection, statement, text_schema).filter(~pl.col("is_deleted"))
        return frame.select(
            pl.col("day").str.to_date(), *[pl.col(name).cast(pl.Categorical) for name in KEY_COLUMNS],
            pl.lit(1, dtype=pl.Int64).alias("orders"), "revenue_minor",
            *[_parsed_values(frame[custom_column(code)]) for code in codes])

    return read


def _parsed_values(texts: pl.Series) -> pl.Series:
    """`custom_values` of each JSON text (null = unset), parsing every distinct text once."""
    distinct = texts.drop_nulls().unique().to_list()
    lookup = pl.DataFrame({"text": distinct, "values": [custom_values(json.loads(text)) for text in distinct]},
                          schema={"text": pl.Utf8, "values": pl.List(pl.Utf8)})
    joined = texts.rename("text").to_frame().join(lookup, on="text", how="left", maintain_order="left")
    return joined["values"].fill_null(pl.lit([], dtype=pl.List(pl.Utf8))).rename(texts.name)
