"""Checks made at the agent boundary before a question reaches the analytics core.

Both keep answers fit for an agent's context and free of customers' own text:
- a time series has at most MAX_TIMESERIES_BUCKETS buckets ("1900..2999" by day would be 400,000);
- custom fields are grouped by, or filtered by value, only when list_dimensions offers them (fields
  with a closed set of values). Free-text fields, such as a delivery address typed into a custom
  field, would otherwise come back as row labels or in the list of valid values of an error.
"""

from __future__ import annotations

import math
from typing import Literal

from fastmcp.exceptions import ToolError

from core.analytics import Analytics, Filters
from core.filters import ANY_VALUE, custom_code
from core.periods import parse_period

Granularity = Literal["day", "week", "month"]
MAX_TIMESERIES_BUCKETS = 1000
_DAYS_PER_BUCKET = {"day": 1, "week": 7, "month": 365.25 / 12}


def check_bucket_count(period: str, granularity: Granularity) -> None:
    """Refuse a series longer than MAX_TIMESERIES_BUCKETS before computing it (from the period's length)."""
    days = parse_period(period, "UTC").days()
    buckets = math.ceil(days / _DAYS_PER_BUCKET[granularity])
    if buckets > MAX_TIMESERIES_BUCKETS:
        coarser = " or ".join(g for g in ("week", "month") if days / _DAYS_PER_BUCKET[g] <= MAX_TIMESERIES_BUCKETS)
        advice = f"use {coarser} granularity or a shorter period" if coarser else "use a shorter period"
        raise ToolError(
            f"`{period}` by {granularity} makes about {buckets:,} buckets; at most {MAX_TIMESERIES_BUCKETS} "
            f"are answered: {advice}"
        )


def check_custom_fields(analytics: Analytics, filters: Filters | None, *dimensions: str | None) -> None:
    """Refuse grouping by, or filtering by a value of, a custom field that list_dimensions does not offer."""
    wanted = [code for code in (custom_code(d) for d in dimensions if d) if code]
    by_value = [code for code, value in ((filters.custom_fields or {}) if filters else {}).items() if value != ANY_VALUE]
    if not wanted and not by_value:
        return
    offered = _offered_custom_fields(analytics)
    listing = ", ".join(f"custom:{code}" for code in offered) or "none"
    for code in wanted:
        if code not in offered:
            raise ToolError(f"cannot group by `custom:{code}`; custom dimensions (see list_dimensions): {listing}")
    for code in by_value:
        if code not in offered:
            raise ToolError(
                f"custom field `{code}` can only be filtered with \"*\" (any value), not by value; custom "
                f"fields with listed values: {listing}"
            )


def _offered_custom_fields(analytics: Analytics) -> list[str]:
    names = (info.name for info in analytics.list_dimensions().dimensions)
    return [code for code in (custom_code(name) for name in names) if code]
