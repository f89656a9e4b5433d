"""Facts for the questions: totals (store or API fallback) and grouped frames keyed by dimensions."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select

from core.analytics.answers import Source
from core.analytics.context import Context
from core.analytics.cube import (COUNTS_SCHEMA, KEY_COLUMNS, STATS_SCHEMA, DayFrames, custom_column, order_reader,
                                 order_schema, read_stats)
from core.analytics.dimensions import STATS_COLUMNS, Scope
from core.analytics.queries import FactRequest, read_facts, totals
from core.fallback import ApiCounter, ApiQuery, NotSyncedError
from core.filters import custom_code
from core.models import DailyOrderStat

# Scope column -> RetailCRM `/orders` filter; None = the API cannot filter by it.
_API_FILTERS = {"status": "extendedStatus", "site": "sites", "order_type": "orderTypes",
                "order_method": "orderMethods", "manager_id": "managers", "city_key": None, "utm_source": None}
_FILTER_NAMES = {"status": "statuses", "site": "sites", "order_type": "order_types", "order_method": "order_methods",
                 "manager_id": "managers", "city_key": "cities", "utm_source": "utm_sources"}
DAY = "day"


def key_column(index: int) -> str:
    """Name of the frame column holding the `index`-th dimension's keys."""
    return f"k{index}"


class FactReader:
    """Reads facts from the store, and counts from the API what the store does not hold."""

    def __init__(self, engine: Engine, api: ApiCounter | None) -> None:
        self.engine = engine
        self.api = api
        self._stats = DayFrames(engine, read_stats, STATS_SCHEMA)
        self._orders: tuple[tuple[str, ...], DayFrames] | None = None
        self._lock = threading.Lock()

    def stats_value_counts(self, context: Context) -> pl.DataFrame:
        """Orders per value of each `daily_order_stats` key column (`column`, `value`, `orders`) at the context's
        data version (`cube.value_counts`)."""
        return self._stats.value_counts(context.state.data_version, KEY_COLUMNS)

    def stored_orders(self, context: Context) -> int:
        """Orders in `daily_order_stats` at the context's data version: from the per-month counts when every
        month has been loaded (brought up to this version first), else one SQL sum (rather than loading every
        month for one number)."""
        version = context.state.data_version
        if self._stats.holds_every_month():
            counts = self._stats.value_counts(version, KEY_COLUMNS)
            return int(counts.filter(pl.col("column") == KEY_COLUMNS[0])["orders"].sum())
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.coalesce(func.sum(DailyOrderStat.orders), 0))).scalar_one())

    def facts(self, context: Context, request: FactRequest) -> pl.DataFrame:
        """`read_facts` with the in-memory copies at the context's version (custom fields loaded on first use)."""
        version = context.state.data_version
        codes = set(request.custom) | set(request.scope.custom)
        orders = self._order_frames(context, codes)
        return read_facts(self.engine, request, self._stats.at(version),
                          orders.at(version) if orders is not None else None)

    def _order_frames(self, context: Context, codes: set[str]) -> DayFrames | None:
        """The per-order frames when every custom field asked about is enumerable (else None: use SQL)."""
        enumerable = tuple(context.catalogue.enumerable_custom_fields())
        if not codes or not codes <= set(enumerable):
            return None
        with self._lock:
            if self._orders is None or self._orders[0] != enumerable:
                self._orders = (enumerable, DayFrames(self.engine, order_reader(enumerable), order_schema(enumerable)))
            return self._orders[1]

    def custom_value_counts(self, context: Context) -> pl.DataFrame:
        """Live orders per value of each enumerable custom field (`column` is `cube.custom_column(code)`) at the
        context's data version; an order without a value counts as ""."""
        codes = context.catalogue.enumerable_custom_fields()
        frames = self._order_frames(context, set(codes))
        if frames is None:
            return pl.DataFrame(schema=COUNTS_SCHEMA)
        return frames.value_counts(context.state.data_version, tuple(custom_column(code) for code in codes))

    def totals(self, context: Context, ranges: list[tuple[datetime, datetime]], scope: Scope,
               names: list[str]) -> tuple[list[tuple[int, int | None]], Source, str]:
        """Orders and revenue of each range; ranges the store lacks are counted by the API (no revenue)."""
        gaps = [context.coverage.gap(start, end) for start, end in ranges]
        results: list[tuple[int, int | None]] = [(0, 0)] * len(ranges)
        for index, (start, end) in enumerate(ranges):
            if gaps[index] is None:
                results[index] = totals(self.facts(context, FactRequest(start, end, scope)))
        missing = [index for index, gap in enumerate(gaps) if gap is not None]
        if not missing:
            return results, "store", context.store_detail()
        reasons = "; ".join(dict.fromkeys(f"{names[index]}: {gaps[index]}" for index in missing))
        if self.api is None:
            raise NotSyncedError(
                f"not in the local store ({reasons}); set RETAILCRM_URL and RETAILCRM_API_KEY to answer such "
                "periods from the RetailCRM API, or sync them"
            )
        filters = api_filters(scope)
        queries = [ApiQuery(*ranges[index], filters) for index in missing] if filters is not None else []
        counts = self.api.count(queries) if queries else [0] * len(missing)
        for index, count in zip(missing, counts):
            results[index] = (count, None)
        detail = (f"counted by the RetailCRM API ({self.api.describe()}) because {reasons}; "
                  "an API count gives no revenue")
        if len(missing) < len(ranges):
            detail += "; the other figures come from the " + context.store_detail()
        return results, "api", detail

    def require_store(self, context: Context, start: datetime, end: datetime, what: str) -> None:
        """`NotSyncedError` when `[start, end)` is not in the store (questions the API cannot answer cheaply)."""
        gap = context.coverage.gap(start, end)
        if gap is not None:
            raise NotSyncedError(f"{what} needs the synced store, and this period is not in it: {gap}")

    def grouped(self, context: Context, start: datetime, end: datetime, scope: Scope, dimensions: list[str],
                *, by_day: bool = False) -> pl.DataFrame:
        """Orders and revenue per key of each dimension (columns k0, k1, ...), and per day if asked."""
        columns: list[str] = [DAY] if by_day else []
        customs: list[str] = []
        for dimension in dimensions:
            code = custom_code(dimension)
            if code is not None:
                customs.append(code)
            elif STATS_COLUMNS[dimension] not in columns:
                columns.append(STATS_COLUMNS[dimension])
        request = FactRequest(start, end, scope, tuple(columns), tuple(customs))
        frame = self.facts(context, request)
        keys = [_key_expression(context, dimension, customs).alias(key_column(index))
                for index, dimension in enumerate(dimensions)]
        group = ([pl.col(DAY)] if by_day else []) + keys
        if not group:
            return frame
        return frame.group_by(group).agg(pl.col("orders").sum(), pl.col("revenue_minor").sum())


def _key_expression(context: Context, dimension: str, customs: list[str]) -> pl.Expr:
    code = custom_code(dimension)
    if code is not None:
        return pl.col(f"custom_{customs.index(code)}")
    if dimension == "status_group":
        mapping = context.catalogue.status_group_of
        return pl.col("status").replace_strict(mapping, default="", return_dtype=pl.Utf8)
    return pl.col(STATS_COLUMNS[dimension])


def api_filters(scope: Scope) -> dict[str, Any] | None:
    """RetailCRM `/orders` filters for `scope`; None when nothing can match; NotSyncedError if inexpressible."""
    filters: dict[str, Any] = {}
    for column, values in scope.columns.items():
        if not values:
            return None
        name = _API_FILTERS[column]
        if name is None or (column == "manager_id" and "" in values):
            raise NotSyncedError(
                f"the period is not in the local store and the RetailCRM API cannot filter by {_FILTER_NAMES[column]}"
                + (" (not set)" if column == "manager_id" else "")
            )
        filters[name] = sorted(values)
    for code, allowed in scope.custom.items():
        if allowed is None or len(allowed) != 1:
            raise NotSyncedError(
                f"the period is not in the local store and the RetailCRM API can filter custom field `{code}` "
                "by one value only"
            )
        filters.setdefault("customFields", {})[code] = next(iter(allowed))
    return filters
