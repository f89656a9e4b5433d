"""The analytics core: every figure the MCP server, the dashboard and the benchmark show comes from here."""

from core.analytics.answers import (
    BreakdownAnswer,
    CompareAnswer,
    CountAnswer,
    DimensionsAnswer,
    NewCustomersAnswer,
    OrdersAnswer,
    SyncStatusAnswer,
    TimeseriesAnswer,
)
from core.analytics.service import Analytics, as_filters
from core.fallback import NotSyncedError
from core.filters import DIMENSIONS, FilterError, Filters
from core.periods import Period, PeriodError, parse_period

__all__ = [
    "DIMENSIONS",
    "Analytics",
    "BreakdownAnswer",
    "CompareAnswer",
    "CountAnswer",
    "DimensionsAnswer",
    "FilterError",
    "Filters",
    "NewCustomersAnswer",
    "NotSyncedError",
    "OrdersAnswer",
    "Period",
    "PeriodError",
    "SyncStatusAnswer",
    "TimeseriesAnswer",
    "as_filters",
    "parse_period",
]
