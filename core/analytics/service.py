"""`Analytics`: one object per process answering every question from the store (or the API fallback)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, select

from core.analytics import answers as a
from core.analytics import breakdown as breakdown_module
from core.analytics import compare, inventory, orders, timeseries
from core.analytics.context import ORDERS_STREAM, Context, StoreState, read_state
from core.analytics.dimensions import Catalogue
from core.analytics.numbers import money
from core.analytics.reader import FactReader
from core.cache import AnswerCache
from core.config import Settings, load_settings
from core.db import get_engine
from core.fallback import ApiCounter, Coverage, backfilled_range, sync_start
from core.filters import Filters
from core.models import SyncState
from core.periods import local_now

T = TypeVar("T")
FiltersLike = Filters | dict[str, Any] | None


def as_filters(filters: FiltersLike) -> Filters:
    """Accept a `Filters`, a plain dict (MCP arguments) or None."""
    if filters is None:
        return Filters()
    return filters if isinstance(filters, Filters) else Filters.model_validate(filters)


class Analytics:
    """Answers about orders. Thread-safe; answers are cached until the TTL or the next committed sync.

    Errors: `PeriodError` (bad period), `FilterError` (unknown dimension or code), `ValueError` (bad
    limits), `NotSyncedError` (the period is not in the store and the API cannot answer it).
    """

    def __init__(self, engine: Engine, settings: Settings | None = None, *, api: ApiCounter | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.settings = settings or load_settings()
        self._reader = FactReader(engine, api)
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._cache = AnswerCache(self.settings.cache_ttl_seconds)
        self._lock = threading.Lock()
        self._versioned: tuple[tuple[Any, ...], Catalogue, Coverage, tuple[Any, ...]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Analytics":
        """The analytics of the configured store, with the API fallback when the API is configured."""
        settings = settings or load_settings()
        return cls(get_engine(settings.database_url), settings, api=ApiCounter.from_settings(settings))

    # Questions ---------------------------------------------------------------------------------------
    def count_orders(self, period: str, filters: FiltersLike = None) -> a.CountAnswer:
        """Orders created in `period` matching `filters`, with their revenue."""
        filters = as_filters(filters)
        return self._answer("count_orders", (period, filters.cache_key()),
                            lambda context: self._count_orders(context, period, filters))

    def compare_periods(self, period_a: str, period_b: str, filters: FiltersLike = None, by: str | None = None,
                        cumulative: bool = False, full_period: bool = False) -> a.CompareAnswer:
        """Period B against period A: counts, revenue, deltas (B - A) and percentages.

        While a period is still running (and `full_period` is False) the answer also compares both
        periods over the same elapsed time (`elapsed`). `by` adds per-value rows; `cumulative` adds
        a running total per day for charts.
        """
        filters = as_filters(filters)
        arguments = (period_a, period_b, filters.cache_key(), by, cumulative, full_period)
        return self._answer("compare_periods", arguments, lambda context: compare.compare_periods(
            self._reader, context, period_a, period_b, filters, by, cumulative, full_period))

    def orders_timeseries(self, period: str, granularity: Literal["day", "week", "month"] = "month",
                          filters: FiltersLike = None, split_by: str | None = None) -> a.TimeseriesAnswer:
        """Orders per day/week/month of `period`, every bucket present; optionally one series per value."""
        filters = as_filters(filters)
        arguments = (period, granularity, filters.cache_key(), split_by)
        return self._answer("orders_timeseries", arguments, lambda context: timeseries.orders_timeseries(
            self._reader, context, period, granularity, filters, split_by))

    def breakdown(self, period: str, by: str, filters: FiltersLike = None, top_n: int = 20,
                  then_by: str | None = None) -> a.BreakdownAnswer:
        """Orders per value of `by` (top `top_n` <= 100, the rest in one "other" row), optionally split by `then_by`."""
        filters = as_filters(filters)
        arguments = (period, by, filters.cache_key(), top_n, then_by)
        return self._answer("breakdown", arguments, lambda context: breakdown_module.breakdown(
            self._reader, context, period, by, filters, top_n, then_by))

    def count_new_customers(self, period: str, filters: FiltersLike = None) -> a.NewCustomersAnswer:
        """Customers registered in `period`; the only filter is `sites`."""
        filters = as_filters(filters)
        return self._answer("count_new_customers", (period, filters.cache_key()),
                            lambda context: inventory.count_new_customers(self._reader, context, period, filters))

    def find_orders(self, period: str | None = None, filters: FiltersLike = None, number: str | None = None,
                    limit: int = 20, offset: int = 0) -> a.OrdersAnswer:
        """Orders (newest first) with their facts, never contact details; `limit` up to 500."""
        filters = as_filters(filters)
        arguments = (period, filters.cache_key(), number, limit, offset)
        return self._answer("find_orders", arguments, lambda context: orders.find_orders(
            self._reader, context, period, filters, number, limit, offset))

    def list_dimensions(self) -> a.DimensionsAnswer:
        """Every dimension with its values, labels and order counts (all stored orders)."""
        return self._answer("list_dimensions", (), lambda context: inventory.list_dimensions(self._reader, context))

    def sync_status(self) -> a.SyncStatusAnswer:
        """Freshness and health of the store (the lag is computed at every call)."""
        answer = self._answer("sync_status", (), lambda context: inventory.sync_status(self._reader, context))
        if answer.last_sync_at_utc is None:
            return answer
        lag = self._now().astimezone(timezone.utc).replace(tzinfo=None) - answer.last_sync_at_utc
        return answer.model_copy(update={"lag_seconds": round(max(lag.total_seconds(), 0.0), 1)})

    def data_version(self) -> int:
        """The store's data version: changes whenever a sync commits."""
        return self._state().data_version

    def clear_cache(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    # Plumbing ----------------------------------------------------------------------------------------
    def _count_orders(self, context: Context, text: str, filters: Filters) -> a.CountAnswer:
        period = context.period(text)
        scope = context.catalogue.resolve(filters)
        [(count, revenue)], source, detail = self._reader.totals(context, [(period.start, period.end)], scope, [text])
        return a.CountAnswer(period=a.PeriodInfo.of(period), count=count, revenue=money(revenue),
                             currency=context.state.currency, **context.stamp(filters, source, detail))

    def _state(self) -> StoreState:
        with self.engine.connect() as connection:
            return read_state(connection, self.settings.timezone_override)

    def _answer(self, name: str, arguments: tuple[Any, ...], compute: Callable[[Context], T]) -> T:
        state = self._state()
        now_local = local_now(state.timezone, self._now())
        key = (name, arguments, now_local.date())
        return self._cache.get_or_compute(key, state.version, lambda: _noting_unstarted(
            compute(self._context(state, now_local)), now_local))

    def _context(self, state: StoreState, now_local: datetime) -> Context:
        """Reference data (reloaded when refreshed) and coverage (re-read on every new version)."""
        with self._lock:
            cached = self._versioned
        if cached is None or cached[0] != state.version:
            reference_key = (state.reference_refreshed_at, state.data_version if state.reference_refreshed_at is None else 0)
            catalogue = cached[1] if cached is not None and cached[3] == reference_key else Catalogue.load(self.engine)
            catalogue.forget_store_lookups()
            cached = (state.version, catalogue, self._coverage(state), reference_key)
            with self._lock:
                self._versioned = cached
        return Context(state, now_local, cached[1], replace(cached[2], now=now_local))

    def _coverage(self, state: StoreState) -> Coverage:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(SyncState.backfill_done, SyncState.backfill_cursor).where(SyncState.stream == ORDERS_STREAM)
            ).first()
        backfill_done, cursor = row if row is not None else (False, None)
        as_of = state.data_as_of()
        return Coverage(as_of.replace(tzinfo=None) if as_of else None, sync_start(self.settings), bool(backfill_done),
                        None if backfill_done else backfilled_range(cursor))


def _noting_unstarted(answer: T, now_local: datetime) -> T:
    """`answer`, whose `source_detail` says which of its periods have not started at `now_local` (their
    figures are zero because nothing exists yet, not for lack of synced data)."""
    if isinstance(answer, a.AnswerBase):
        notes = [f"{period.text} has not started yet (it begins {period.start:%Y-%m-%d %H:%M} {period.timezone}), "
                 "so no orders exist in it" for period in answer.periods() if period.start >= now_local]
        if notes:
            answer.source_detail = "; ".join([answer.source_detail, *notes])
    return answer
