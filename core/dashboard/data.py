"""Cached calls into the analytics core: one `Analytics` per store, answers keyed by the data version.

Every figure on the dashboard comes from `core.analytics`; this module only remembers the answers
(`st.cache_data`) under the store's data version, so the first sync that commits shows up at once
and nothing is computed twice for the same version. Only the lists of dimension values behind the
filters are kept across versions and loaded in the background (`DimensionLists`): listing them is slow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

import streamlit as st

from core.analytics import (
    Analytics,
    BreakdownAnswer,
    CompareAnswer,
    CountAnswer,
    Filters,
    OrdersAnswer,
    SyncStatusAnswer,
    TimeseriesAnswer,
)
from core.config import load_settings
from core.dashboard.choices import Choices
from core.dashboard.dimension_lists import DimensionLists, list_dimensions_in_subprocess
from core.sync_status import sync_status as sync_bookkeeping

# How long a page waits for a missing list of dimension values before showing itself without filters.
CHOICES_GRACE_SECONDS = 1.5


@st.cache_resource(show_spinner=False)
def analytics_for(database_url: str) -> Analytics:
    """The process-wide `Analytics` of a store (settings from the environment)."""
    settings = load_settings()
    if settings.database_url != database_url:
        settings = replace(settings, database_url=database_url)
    return Analytics.from_settings(settings)


@st.cache_data(show_spinner=False, max_entries=2000)
def _answer(database_url: str, version: int, question: str, arguments: str) -> Any:
    """One core answer; `version` is part of the cache key only, so a new version asks again."""
    return getattr(analytics_for(database_url), question)(**json.loads(arguments))


@st.cache_resource(show_spinner=False)
def dimension_lists(database_url: str) -> DimensionLists:
    """The process-wide background loader of a store's dimension values (see `DimensionLists`)."""
    return DimensionLists(partial(list_dimensions_in_subprocess, database_url))


@st.cache_data(show_spinner=False, max_entries=50)
def _sync_runs(database_url: str, version: int, last_sync: str, last_error: str, limit: int) -> list[dict[str, Any]]:
    """The latest sync cycles; the key changes with every cycle (its data, its end time or its error)."""
    return sync_bookkeeping(analytics_for(database_url).engine, runs=limit)["recent_runs"]


def _filters(filters: Filters | None) -> dict[str, Any] | None:
    return filters.applied() if filters is not None and not filters.is_empty() else None


@dataclass(frozen=True)
class Store:
    """The store this run reads, at the data version it had when the run started."""

    database_url: str
    version: int

    def _ask(self, question: str, **arguments: Any) -> Any:
        return _answer(self.database_url, self.version, question, json.dumps(arguments, sort_keys=True))

    def count_orders(self, period: str, filters: Filters | None = None) -> CountAnswer:
        """Orders and revenue of one period."""
        return self._ask("count_orders", period=period, filters=_filters(filters))

    def compare_periods(self, period_a: str, period_b: str, filters: Filters | None = None, by: str | None = None,
                        cumulative: bool = False, full_period: bool = False) -> CompareAnswer:
        """Period B against period A (see `Analytics.compare_periods`)."""
        return self._ask("compare_periods", period_a=period_a, period_b=period_b, filters=_filters(filters),
                         by=by, cumulative=cumulative, full_period=full_period)

    def orders_timeseries(self, period: str, granularity: Literal["day", "week", "month"] = "month",
                          filters: Filters | None = None, split_by: str | None = None) -> TimeseriesAnswer:
        """Orders per bucket, every bucket present."""
        return self._ask("orders_timeseries", period=period, granularity=granularity, filters=_filters(filters),
                         split_by=split_by)

    def breakdown(self, period: str, by: str, filters: Filters | None = None, top_n: int = 20,
                  then_by: str | None = None) -> BreakdownAnswer:
        """Orders per value of one dimension (optionally split by a second one), top N plus "other"."""
        return self._ask("breakdown", period=period, by=by, filters=_filters(filters), top_n=top_n, then_by=then_by)

    def find_orders(self, period: str | None = None, filters: Filters | None = None, number: str | None = None,
                    limit: int = 100, offset: int = 0) -> OrdersAnswer:
        """One page of matching orders, newest first, without personal data."""
        return self._ask("find_orders", period=period, filters=_filters(filters), number=number, limit=limit,
                         offset=offset)

    def choices(self) -> Choices:
        """The dimensions to group and filter by, with their values (a few minutes old at most); while the
        values are still being listed, the built-in dimensions without values (`Choices.ready` False)."""
        lists, has_orders = dimension_lists(self.database_url), self.sync_status().orders_stored > 0
        answer = lists.latest(has_orders, wait_seconds=CHOICES_GRACE_SECONDS)
        if answer is None:
            return Choices.pending(arrived=lambda: lists.latest(has_orders) is not None)
        return Choices.of(answer)

    def sync_status(self) -> SyncStatusAnswer:
        """Store health, with the lag computed now (not cached here)."""
        return analytics_for(self.database_url).sync_status()

    def sync_runs(self, limit: int) -> list[dict[str, Any]]:
        """The latest `limit` sync cycles with their pages, requests and errors (`core.sync_status`)."""
        status = self.sync_status()
        return _sync_runs(self.database_url, self.version, str(status.last_sync_at_utc), status.last_error or "", limit)


def open_store() -> Store:
    """The configured store at its current data version.

    Raises `ConfigError` (bad settings), `StoreUnavailable` or a driver error (store unreachable).
    """
    database_url = load_settings().database_url
    return Store(database_url, analytics_for(database_url).data_version())
