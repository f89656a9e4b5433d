"""`Analytics`: one object per process answering every question from the store (or the API fallback)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import Engine, select

from core.analytics import answers as a
from core.analytics.context import ORDERS_STREAM, Context, StoreState, read_state
from core.analytics.dimensions import Catalogue, Scope
from core.analytics.queries import FactRequest, read_facts, totals
from core.cache import AnswerCache
from core.config import Settings, load_settings
from core.db import get_engine
from core.fallback import ApiCounter, ApiQuery, Coverage, NotSyncedError, sync_start
from core.filters import Filters
from core.models import SyncState
from core.normalize import minor_to_decimal
from core.periods import local_now

T = TypeVar("T")
FiltersLike = Filters | dict[str, Any] | None

# Scope column -> RetailCRM `/orders` filter; None = the API cannot filter by it.
_API_FILTERS = {"status": "extendedStatus", "site": "sites", "order_type": "orderTypes",
                "order_method": "orderMethods", "manager_id": "managers", "city_key": None, "utm_source": None}


def as_filters(filters: FiltersLike) -> Filters:
    """Accept a `Filters`, a plain dict (MCP arguments) or None."""
    if filters is None:
        return Filters()
    return filters if isinstance(filters, Filters) else Filters.model_validate(filters)


def money(minor: int | None) -> str | None:
    """Minor units as a decimal string ("1234.50"); None stays None."""
    return None if minor is None else str(minor_to_decimal(minor))


def percent_change(before: int, after: int) -> float | None:
    """(after - before) / before in percent, one decimal; None when before is 0."""
    return round((after - before) * 100 / before, 1) if before else None


class Analytics:
    """Answers about orders; thread-safe; answers are cached until the TTL or the next sync commit."""

    def __init__(self, engine: Engine, settings: Settings | None = None, *, api: ApiCounter | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.settings = settings or load_settings()
        self._api = api
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._cache = AnswerCache(self.settings.cache_ttl_seconds)
        self._lock = threading.Lock()
        self._versioned: tuple[tuple[Any, ...], Catalogue, Coverage] | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Analytics":
        """The analytics of the configured store, with the API fallback when the API is configured."""
        settings = settings or load_settings()
        return cls(get_engine(settings.database_url), settings, api=ApiCounter.from_settings(settings))

    # Plumbing ----------------------------------------------------------------------------------------
    def data_version(self) -> int:
        """The store's data version: changes whenever a sync commits."""
        return self._state().data_version

    def clear_cache(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    def _state(self) -> StoreState:
        with self.engine.connect() as connection:
            return read_state(connection, self.settings.timezone_override)

    def _context(self, state: StoreState) -> Context:
        with self._lock:
            cached = self._versioned
        if cached is None or cached[0] != state.version:
            cached = (state.version, Catalogue.load(self.engine), self._coverage(state))
            with self._lock:
                self._versioned = cached
        return Context(state, local_now(state.timezone, self._now()), cached[1], cached[2])

    def _coverage(self, state: StoreState) -> Coverage:
        with self.engine.connect() as connection:
            backfill_done = connection.execute(
                select(SyncState.backfill_done).where(SyncState.stream == ORDERS_STREAM)
            ).scalar()
        as_of = state.data_as_of()
        return Coverage(as_of.replace(tzinfo=None) if as_of else None, sync_start(self.settings), bool(backfill_done))

    def _answer(self, name: str, arguments: tuple[Any, ...], compute: Callable[[Context], T]) -> T:
        state = self._state()
        now_local = local_now(state.timezone, self._now())
        key = (name, arguments, now_local.date())
        return self._cache.get_or_compute(key, state.version, lambda: compute(self._context(state)))

    # Totals from the store or the API ----------------------------------------------------------------
    def _totals(self, context: Context, ranges: list[tuple[datetime, datetime]], scope: Scope,
                labels: list[str]) -> tuple[list[tuple[int, int | None]], a.Source, str]:
        """Orders and revenue of each range; ranges the store lacks are counted by the API (no revenue)."""
        gaps = [context.coverage.gap(start, end) for start, end in ranges]
        results: list[tuple[int, int | None] | None] = [None] * len(ranges)
        with self.engine.connect() as connection:
            for index, (start, end) in enumerate(ranges):
                if gaps[index] is None:
                    results[index] = totals(read_facts(connection, FactRequest(start, end, scope)))
        missing = [index for index, gap in enumerate(gaps) if gap is not None]
        if not missing:
            return [r for r in results if r is not None], "store", context.store_detail()
        reasons = "; ".join(f"{labels[index]}: {gaps[index]}" for index in missing)
        if self._api is None:
            raise NotSyncedError(
                f"not in the local store ({reasons}); set RETAILCRM_URL and RETAILCRM_API_KEY to answer such "
                "periods from the RetailCRM API, or sync them"
            )
        filters = _api_filters(scope)
        queries = [ApiQuery(*ranges[index], filters) for index in missing]
        counts = [0] * len(queries) if filters is None else self._api.count(queries)
        for index, count in zip(missing, counts):
            results[index] = (count, None)
        detail = (f"counted by the RetailCRM API ({self._api.describe()}) because {reasons}; "
                  "the API count gives no revenue")
        if len(missing) < len(ranges):
            detail += "; the other figures come from the " + context.store_detail()
        return [r for r in results if r is not None], "api", detail

    # Questions ---------------------------------------------------------------------------------------
    def count_orders(self, period: str, filters: FiltersLike = None) -> a.CountAnswer:
        """Orders created in `period` (and their revenue) matching `filters`."""
        filters = as_filters(filters)
        return self._answer("count_orders", (period, filters.cache_key()),
                            lambda context: self._count_orders(context, period, filters))

    def _count_orders(self, context: Context, text: str, filters: Filters) -> a.CountAnswer:
        period = context.period(text)
        scope = context.catalogue.resolve(filters)
        [(count, revenue)], source, detail = self._totals(context, [(period.start, period.end)], scope, [text])
        return a.CountAnswer(period=a.PeriodInfo.of(period), count=count, revenue=money(revenue),
                             currency=context.state.currency, **context.stamp(filters, source, detail))


def _api_filters(scope: Scope) -> dict[str, Any] | None:
    """RetailCRM `/orders` filters for `scope`; None when nothing can match; NotSyncedError if inexpressible."""
    filters: dict[str, Any] = {}
    for column, values in scope.columns.items():
        if not values:
            return None
        name = _API_FILTERS[column]
        if name is None or (column == "manager_id" and "" in values):
            raise NotSyncedError(f"the period is not in the local store and the RetailCRM API cannot filter by {column}")
        filters[name] = sorted(values)
    for code, allowed in scope.custom.items():
        if allowed is None or len(allowed) != 1:
            raise NotSyncedError(
                f"the period is not in the local store and the RetailCRM API can only filter custom field `{code}` "
                "by one value"
            )
        filters.setdefault("customFields", {})[code] = next(iter(allowed))
    return filters
